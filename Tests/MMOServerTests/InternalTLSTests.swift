import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MMOContracts
import MMOTestSupport
import Testing
@testable import MMOServer
@testable import MMOUtils

/// Issue 7, item 4's stronger form: with `grpc.tls.*` set, a service's gRPC port speaks TLS and
/// admits only callers presenting a certificate signed by the configured CA, over the real
/// HTTP/2 transport and real TCP. Certificates come from scripts/dev-certs.sh, run into a
/// temporary directory (no key is committed).
@Suite("internal gRPC calls use mutual TLS", .serialized, .timeLimit(.minutes(2)))
struct InternalTLSTests {
    /// A directory of scripts/dev-certs.sh output: ca.pem, server.pem (serverAuth + clientAuth,
    /// SAN localhost/127.0.0.1/::1), client.pem (clientAuth only) and their keys.
    struct Certificates {
        let directory: URL
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var ca: String { path("ca.pem") }
        /// The identity every service process uses (both sides of mutual TLS).
        func serviceIdentity() throws -> InternalTLS {
            try InternalTLS(certificate: path("server.pem"), privateKey: path("server-key.pem"), trustRoots: ca)
        }
        /// A caller with the client-only certificate.
        func clientIdentity() throws -> InternalTLS {
            try InternalTLS(certificate: path("client.pem"), privateKey: path("client-key.pem"), trustRoots: ca)
        }
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `command` (bash) in `directory`; throws with its output when it fails.
    static func shell(_ command: String, in directory: URL, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("`\(command)` failed: \(text)") }
    }

    /// A fresh CA and certificates from scripts/dev-certs.sh in a temporary directory.
    static func makeCertificates() throws -> Certificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = repositoryRoot.appendingPathComponent("scripts/dev-certs.sh").path
        try shell("'\(script)' '\(directory.path)'", in: directory)
        return Certificates(directory: directory)
    }

    static func remove(_ certificates: Certificates...) {
        for c in certificates { try? FileManager.default.removeItem(at: c.directory) }
    }

    /// A database service "process" (SQLite) whose gRPC port on 127.0.0.1 uses `tls`, and
    /// `secret` if given; `body` gets its port.
    static func withDatabase(
        tls: InternalTLS, secret: InternalCallSecret? = nil, _ body: (Int) async throws -> Void
    ) async throws {
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let port = try TestProcess.freePort()
        var configuration = TestProcess.configuration([.database], ports: [.database: port])
        configuration.database.backend = .sqlite(path: path)
        configuration.grpcTLS = tls
        configuration.grpcSecret = secret
        let database = try TestProcess.start(configuration)
        do {
            try await eventually("database ready") { await database.handles.database?.isReady() == true }
            try await TestProcess.waitForListening(port)
            try await body(port)
        } catch {
            await database.stop()
            throw error
        }
        await database.stop()
    }

    /// `ListCharacters` on the database service at `host:port` over `security`, with a 5 s
    /// deadline so a refused connection cannot hang the test.
    static func listCharacters(
        host: String = "127.0.0.1", port: Int, security: HTTP2ClientTransport.Posix.TransportSecurity,
        interceptors: [any ClientInterceptor] = []
    ) async throws -> Result<Int, RPCError> {
        let transport = try HTTP2ClientTransport.Posix(
            target: PeerAddress(host: host, port: port).target, transportSecurity: security,
            serviceConfig: RPCDeadlines.serviceConfig(timeout: .seconds(5), services: ["mmo.DatabaseService"]))
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

    /// The codes a call gets when its connection cannot be established (handshake refused,
    /// wrong protocol): the transport's, never a handler's answer.
    static let transportCodes: Set<RPCError.Code> = [.unavailable, .deadlineExceeded]

    /// Expects `result` to be a transport-level failure (the server never answered the call);
    /// when the connection failed (not a deadline), its cause mentions `reason`, e.g. the TLS
    /// alert the server sent.
    static func expectRefused(
        _ result: Result<Int, RPCError>, _ what: String, reason: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch result {
        case .success:
            Issue.record("\(what): the call was served", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(transportCodes.contains(error.code), "\(what): \(error)", sourceLocation: sourceLocation)
            if let reason, error.code == .unavailable {
                #expect("\(error)".contains(reason), "\(what): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("a caller with a certificate from the CA is served; without one, in plaintext or from another CA it is refused at the handshake")
    func mutualTLSAdmitsOnlyTheCAsCertificates() async throws {
        let certificates = try Self.makeCertificates()
        let otherCA = try Self.makeCertificates()
        defer { Self.remove(certificates, otherCA) }
        try await Self.withDatabase(tls: try certificates.serviceIdentity()) { port in
            // (a) The right client certificate, by IP and by host name (both in the server's SANs).
            let client = try certificates.clientIdentity()
            #expect(try await Self.listCharacters(port: port, security: client.clientSecurity) == .success(0))
            #expect(try await Self.listCharacters(host: "localhost", port: port, security: client.clientSecurity) == .success(0))
            // The services' own pair works as a client certificate too (clientAuth EKU).
            #expect(try await Self.listCharacters(port: port, security: try certificates.serviceIdentity().clientSecurity) == .success(0))

            // (b) TLS that trusts the CA but presents no certificate.
            let noCertificate = HTTP2ClientTransport.Posix.TransportSecurity.tls {
                $0.trustRoots = .certificates([.file(path: certificates.ca, format: .pem)])
            }
            Self.expectRefused(try await Self.listCharacters(port: port, security: noCertificate), "no client certificate", reason: "CERTIFICATE_REQUIRED")
            // The server is unharmed: a good caller is still served.
            #expect(try await Self.listCharacters(port: port, security: client.clientSecurity) == .success(0))

            // (c) Plaintext HTTP/2.
            Self.expectRefused(try await Self.listCharacters(port: port, security: .plaintext), "plaintext")

            // (d) A certificate from another CA (that trusts our CA for the server's certificate).
            let foreign = HTTP2ClientTransport.Posix.TransportSecurity.mTLS(
                certificateChain: [.file(path: otherCA.path("client.pem"), format: .pem)],
                privateKey: .file(path: otherCA.path("client-key.pem"), format: .pem)
            ) { $0.trustRoots = .certificates([.file(path: certificates.ca, format: .pem)]) }
            Self.expectRefused(try await Self.listCharacters(port: port, security: foreign), "certificate from another CA", reason: "UNKNOWN_CA")

            #expect(try await Self.listCharacters(port: port, security: client.clientSecurity) == .success(0))
        }
    }

    @Test("the client verifies the server: a server certificate from another CA or for another name is refused")
    func clientVerifiesTheServer() async throws {
        let certificates = try Self.makeCertificates()
        let otherCA = try Self.makeCertificates()
        defer { Self.remove(certificates, otherCA) }
        // A certificate signed by our CA but naming only elsewhere.test (not 127.0.0.1/localhost).
        try Self.shell("""
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=elsewhere.test \
              -keyout elsewhere-key.pem -out elsewhere.csr 2>/dev/null
            printf 'extendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=DNS:elsewhere.test\\n' > elsewhere.ext
            openssl x509 -req -in elsewhere.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -sha256 \
              -extfile elsewhere.ext -out elsewhere.pem 2>/dev/null
            """, in: certificates.directory)
        let client = try certificates.clientIdentity()

        let wrongName = try InternalTLS(
            certificate: certificates.path("elsewhere.pem"), privateKey: certificates.path("elsewhere-key.pem"), trustRoots: certificates.ca)
        try await Self.withDatabase(tls: wrongName) { port in
            Self.expectRefused(try await Self.listCharacters(port: port, security: client.clientSecurity), "server certificate for another name", reason: "failedToValidateHostname")
        }
        // A server whose certificate is from another CA, though it trusts our clients' CA.
        let impostor = try InternalTLS(
            certificate: otherCA.path("server.pem"), privateKey: otherCA.path("server-key.pem"), trustRoots: certificates.ca)
        try await Self.withDatabase(tls: impostor) { port in
            Self.expectRefused(try await Self.listCharacters(port: port, security: client.clientSecurity), "server certificate from another CA", reason: "CERTIFICATE_VERIFY_FAILED")
        }
    }

    @Test("with mTLS and the secret both on, a caller with a certificate but without the secret gets UNAUTHENTICATED")
    func secretStillCheckedOverTLS() async throws {
        let certificates = try Self.makeCertificates()
        defer { Self.remove(certificates) }
        let secret = InternalCallSecret("correct horse battery staple")!
        try await Self.withDatabase(tls: try certificates.serviceIdentity(), secret: secret) { port in
            let client = try certificates.clientIdentity()
            let withoutSecret = try await Self.listCharacters(port: port, security: client.clientSecurity)
            guard case .failure(let error) = withoutSecret else {
                Issue.record("served without the secret")
                return
            }
            #expect(error.code == .unauthenticated, "\(error)")
            let withSecret = try await Self.listCharacters(
                port: port, security: client.clientSecurity, interceptors: [InternalCallCredentials(secret: secret)])
            #expect(withSecret == .success(0))
        }
    }

    @Test("services configured with mTLS call each other over TCP (the character service's client presents its certificate)")
    func servicesCallEachOtherOverMutualTLS() async throws {
        let certificates = try Self.makeCertificates()
        defer { Self.remove(certificates) }
        let identity = try certificates.serviceIdentity()
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let databasePort = try TestProcess.freePort(), characterPort = try TestProcess.freePort()
        var databaseConfiguration = TestProcess.configuration([.database], ports: [.database: databasePort])
        databaseConfiguration.database.backend = .sqlite(path: path)
        databaseConfiguration.grpcTLS = identity
        var characterConfiguration = TestProcess.configuration([.character], ports: [.character: characterPort], peers: [.database: databasePort])
        characterConfiguration.grpcTLS = identity
        let database = try TestProcess.start(databaseConfiguration)
        let character = try TestProcess.start(characterConfiguration)
        defer { Task { await character.stop(); await database.stop() } }
        try await eventually("database ready") { await database.handles.database?.isReady() == true }
        try await TestProcess.waitForListening(databasePort, characterPort)

        let transport = try PeerAddress(host: "127.0.0.1", port: characterPort).makeTransport(
            serviceConfig: RPCDeadlines.serviceConfig(timeout: .seconds(5), services: ["mmo.CharacterService"]),
            tls: try certificates.clientIdentity())
        // The character service's own client to the database may still be connecting (TLS
        // handshake, backoff after a first try before the database listened): ask until the call
        // goes through, within a bound.
        let list = try await withGRPCClient(transport: transport) { grpc in
            var request = Mmo_CharacterListRequest()
            request.accountID = "account-1"
            var answer: Mmo_CharacterListResponse?
            try await eventually("the character service reaches the database over mTLS", timeout: .seconds(15)) {
                answer = try? await Mmo_CharacterService.Client(wrapping: grpc).listCharacters(request)
                return answer != nil
            }
            return answer!
        }
        // Served from the database service, reached over mutual TLS.
        #expect(list.characters.isEmpty && list.maxCharacters > 0)
        await character.stop()
        await database.stop()
    }

    // MARK: configuration

    func configuration(_ arguments: [String], env: [String: String] = [:]) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + arguments, environment: env)
        return try ServerConfiguration(reader: reader, services: [.auth])
    }

    func configurationError(_ arguments: [String], env: [String: String] = [:]) async -> String? {
        do {
            _ = try await configuration(arguments, env: env)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("grpc.tls.*: all three read (flags, env, MMO_ env), none means plaintext, a partial set or a bad file is an error naming it")
    func configurationKeys() async throws {
        let c = try Self.makeCertificates()
        defer { Self.remove(c) }
        #expect(try await configuration([]).grpcTLS == nil)

        let flags = ["--grpc-tls-certificate", c.path("server.pem"), "--grpc-tls-private-key", c.path("server-key.pem"), "--grpc-tls-trust-roots", c.ca]
        #expect(try await configuration(flags).grpcTLS?.certificatePath == c.path("server.pem"))
        let env = ["GRPC_TLS_CERTIFICATE": c.path("client.pem"), "GRPC_TLS_PRIVATE_KEY": c.path("client-key.pem"), "GRPC_TLS_TRUST_ROOTS": c.ca]
        let fromEnv = try await configuration([], env: env).grpcTLS
        #expect(fromEnv?.privateKeyPath == c.path("client-key.pem") && fromEnv?.trustRootsPath == c.ca)
        let mmoEnv = Dictionary(uniqueKeysWithValues: env.map { ("MMO_" + $0.key, $0.value) })
        #expect(try await configuration([], env: mmoEnv).grpcTLS?.certificatePath == c.path("client.pem"))

        // Partial: the missing keys are named.
        let partial = await configurationError(["--grpc-tls-certificate", c.path("server.pem")])
        #expect(partial?.contains("grpc.tls.privateKey, grpc.tls.trustRoots") == true, "\(partial ?? "accepted")")
        let noRoots = await configurationError(Array(flags.prefix(4)))
        #expect(noRoots?.contains("grpc.tls.trustRoots: not set") == true, "\(noRoots ?? "accepted")")

        // A missing file: named, with its key.
        var missing = flags
        missing[5] = c.path("nope.pem")
        let missingError = await configurationError(missing)
        #expect(missingError?.contains("grpc.tls.trustRoots: \(c.path("nope.pem")): no such file") == true, "\(missingError ?? "accepted")")
        // Certificate and key swapped.
        let swapped = ["--grpc-tls-certificate", c.path("server-key.pem"), "--grpc-tls-private-key", c.path("server.pem"), "--grpc-tls-trust-roots", c.ca]
        let swappedError = await configurationError(swapped)
        #expect(swappedError?.contains("grpc.tls.certificate: \(c.path("server-key.pem")): is not a PEM certificate") == true, "\(swappedError ?? "accepted")")
        // A key that is not the certificate's, and a corrupt certificate.
        let mismatched = ["--grpc-tls-certificate", c.path("server.pem"), "--grpc-tls-private-key", c.path("client-key.pem"), "--grpc-tls-trust-roots", c.ca]
        let mismatchError = await configurationError(mismatched)
        #expect(mismatchError?.contains("not a usable certificate") == true, "\(mismatchError ?? "accepted")")
        let corrupt = c.path("corrupt.pem")
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".write(toFile: corrupt, atomically: true, encoding: .utf8)
        let corruptError = await configurationError(["--grpc-tls-certificate", corrupt] + flags.suffix(4))
        #expect(corruptError?.contains("not a usable certificate") == true, "\(corruptError ?? "accepted")")
        // No error message carries key material.
        for message in [partial, noRoots, missingError, swappedError, mismatchError, corruptError] {
            #expect(message?.contains("BEGIN") == false && message?.contains("PRIVATE KEY") == false)
        }
        let identity = try c.serviceIdentity()
        #expect(!"\(identity)".contains("BEGIN") && !String(reflecting: identity).contains("BEGIN"))
    }

    @Test("mutual TLS alone admits binding gRPC beyond loopback")
    func mutualTLSSatisfiesTheNonLoopbackCheck() throws {
        let c = try Self.makeCertificates()
        defer { Self.remove(c) }
        var configuration = ServerConfiguration(services: [.auth])
        configuration.grpcHost = "0.0.0.0"
        #expect(throws: ServerConfigurationError.self) { try ServerAssembly.checkInternalCallSecurity(configuration) }
        configuration.grpcTLS = try c.serviceIdentity()
        try ServerAssembly.checkInternalCallSecurity(configuration)
    }
}
