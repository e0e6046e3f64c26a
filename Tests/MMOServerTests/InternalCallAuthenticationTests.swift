import MMOTestSupport
import GRPCCore
import MMOContracts
import Testing
@testable import MMOServer
@testable import MMOUtils

/// Issue 7, "anyone who reaches a gRPC port is trusted": with `grpc.secret` set, every call to a
/// service's TCP port must carry it, over the real HTTP/2 transport.
@Suite("internal gRPC calls are authenticated", .serialized, .timeLimit(.minutes(1)))
struct InternalCallAuthenticationTests {
    static let secret = InternalCallSecret("correct horse battery staple")!

    /// A client presenting `presented` in the secret's metadata key (nothing when nil).
    struct Presenting: ClientInterceptor {
        let presented: String?
        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingClientRequest<Input>, context: ClientContext,
            next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
        ) async throws -> StreamingClientResponse<Output> {
            var request = request
            if let presented { request.metadata.addString(presented, forKey: InternalCallSecret.metadataKey) }
            return try await next(request, context)
        }
    }

    /// `ListCharacters` on a database service process that requires `secret`, as a caller
    /// presenting `interceptors`' credentials.
    static func listCharacters(port: Int, interceptors: [any ClientInterceptor]) async throws -> Result<Int, RPCError> {
        let transport = try PeerAddress(host: "127.0.0.1", port: port).makeTransport(serviceConfig: ServiceConfig())
        return try await withGRPCClient(transport: transport, interceptors: interceptors) { grpc in
            var request = Mmo_ListCharactersRequest()
            request.accountID = "account-1"
            do {
                return .success(try await Mmo_DatabaseService.Client(wrapping: grpc).listCharacters(request).characters.count)
            } catch let error as RPCError {
                return .failure(error)
            }
        }
    }

    @Test("no secret, a wrong one, a prefix of the right one or two values: UNAUTHENTICATED; the right one: served")
    func databasePortChecksTheSecret() async throws {
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let port = try TestProcess.freePort()
        var configuration = TestProcess.configuration([.database], ports: [.database: port])
        configuration.database.backend = .sqlite(path: path)
        configuration.grpcSecret = Self.secret
        let database = try TestProcess.start(configuration)
        defer { Task { await database.stop() } }
        try await eventually("database ready") { await database.handles.database?.isReady() == true }
        try await TestProcess.waitForListening(port)

        let refused: [[any ClientInterceptor]] = [
            [],
            [Presenting(presented: "wrong horse battery staple!")],
            [Presenting(presented: "correct horse battery")],
            [Presenting(presented: "correct horse battery staple"), Presenting(presented: "correct horse battery staple")],
        ]
        for interceptors in refused {
            let result = try await Self.listCharacters(port: port, interceptors: interceptors)
            guard case .failure(let error) = result else {
                Issue.record("a caller without the right secret was served: \(interceptors)")
                continue
            }
            #expect(error.code == .unauthenticated, "\(error)")
            #expect(!error.message.contains("correct horse"), "the reply must not echo the secret")
        }
        let served = try await Self.listCharacters(port: port, interceptors: [InternalCallCredentials(secret: Self.secret)])
        #expect((try? served.get()) == 0, "\(served)")
        await database.stop()
    }

    @Test("services configured with the same secret call each other over TCP")
    func characterServiceUsesTheSecret() async throws {
        try await TestProcess.withDatabaseAndCharacter(secret: Self.secret) { characterPort in
            let transport = try PeerAddress(host: "127.0.0.1", port: characterPort).makeTransport(serviceConfig: ServiceConfig())
            let outcome: Result<Mmo_CharacterListResponse, RPCError> = try await withGRPCClient(
                transport: transport, interceptors: [InternalCallCredentials(secret: Self.secret)]
            ) { grpc in
                var request = Mmo_CharacterListRequest()
                request.accountID = "account-1"
                do { return .success(try await Mmo_CharacterService.Client(wrapping: grpc).listCharacters(request)) } catch let error as RPCError {
                    return .failure(error)
                }
            }
            let list = try outcome.get()
            #expect(list.characters.isEmpty && list.maxCharacters > 0)
        }
    }

    @Test("a process serving gRPC beyond loopback without a secret refuses to start")
    func nonLoopbackNeedsASecret() throws {
        var configuration = ServerConfiguration(services: [.auth])
        configuration.grpcHost = "0.0.0.0"
        #expect(throws: ServerConfigurationError.self) { try ServerAssembly.checkInternalCallSecurity(configuration) }
        do {
            try ServerAssembly.checkInternalCallSecurity(configuration)
        } catch {
            #expect("\(error)".contains("grpc.secret"))
        }
        configuration.grpcSecret = Self.secret
        try ServerAssembly.checkInternalCallSecurity(configuration)
        // Loopback (the default) and a packet-only process (no gRPC port) need none.
        try ServerAssembly.checkInternalCallSecurity(ServerConfiguration(services: [.auth]))
        var packet = ServerConfiguration(services: [.packet])
        packet.grpcHost = "0.0.0.0"
        try ServerAssembly.checkInternalCallSecurity(packet)
    }

    @Test("the secret never prints and is compared whole")
    func secretHandling() {
        #expect("\(Self.secret)" == "<redacted>" && String(reflecting: Self.secret) == "<redacted>")
        #expect(InternalCallSecret("short") == nil)
        #expect(Self.secret.matches("correct horse battery staple".utf8))
        #expect(!Self.secret.matches("correct horse battery staplf".utf8))
        #expect(!Self.secret.matches("correct horse battery staple correct horse battery staple".utf8))
        #expect(!Self.secret.matches("".utf8))
    }
}
