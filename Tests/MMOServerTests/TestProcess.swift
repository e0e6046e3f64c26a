import Foundation
import MMOTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle
@testable import MMOServer
@testable import MMOUtils

/// One service process of the distributed topology, run inside the test process: the same
/// `ServerAssembly` as `auth-service`, `character-service`, ..., with its gRPC ports on loopback
/// TCP, so the transport (HTTP/2 framing, trailers, connection handling) is the real one.
struct TestProcess {
    let handles: ServerHandles
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(_ configuration: ServerConfiguration) throws -> TestProcess {
        let logger = Logger(label: "test.\(configuration.services.map(\.rawValue).joined(separator: "+"))")
        let (services, handles) = try ServerAssembly.build(configuration, logger: logger)
        let group = ServiceGroup(services: services, logger: logger)
        return TestProcess(handles: handles, group: group, task: Task { try await group.run() })
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// A configuration for `services` whose gRPC servers bind `127.0.0.1` on fresh ports and
    /// whose peers are `peers`; no admin port unless `adminPort` is given.
    static func configuration(
        _ services: [ServiceKind], ports: [ServiceKind: Int], peers: [ServiceKind: Int] = [:], adminPort: Int? = nil
    ) -> ServerConfiguration {
        var configuration = ServerConfiguration(services: services)
        configuration.grpcHost = "127.0.0.1"
        configuration.exposeGRPC = true
        configuration.admin = adminPort.map { AdminServerConfiguration(host: "127.0.0.1", port: $0) }
        for (kind, port) in ports { configuration.grpcPorts[kind] = port }
        for (kind, port) in peers { configuration.peers[kind] = PeerAddress(host: "127.0.0.1", port: port) }
        return configuration
    }

    /// A port nobody listens on right now (bound to 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Polls `condition` every 10 ms for up to 5 s. (MMOTestSupport's `eventually` does the same;
    /// this target does not depend on it yet.)
    /// Whether something accepts TCP connections on `127.0.0.1:port`.
    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Waits until every one of `ports` accepts connections (servers bind after `start`).
    static func waitForListening(_ ports: Int...) async throws {
        for port in ports {
            try await eventually("port \(port) listening") { isListening(port) }
        }
    }

    /// The database and character services as two "processes" over loopback TCP, as in the
    /// distributed topology; `body` gets the character service's port.
    /// With `secret`, both use it for internal calls (InternalCallAuthentication).
    static func withDatabaseAndCharacter(
        secret: InternalCallSecret? = nil, _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let databasePort = try TestProcess.freePort()
        let characterPort = try TestProcess.freePort()
        var databaseConfiguration = TestProcess.configuration([.database], ports: [.database: databasePort])
        databaseConfiguration.database.backend = .sqlite(path: path)
        databaseConfiguration.grpcSecret = secret
        var characterConfiguration = TestProcess.configuration(
            [.character], ports: [.character: characterPort], peers: [.database: databasePort])
        characterConfiguration.grpcSecret = secret
        let database = try TestProcess.start(databaseConfiguration)
        let character = try TestProcess.start(characterConfiguration)
        do {
            try await eventually("database ready") { await database.handles.database?.isReady() == true }
            try await TestProcess.waitForListening(databasePort, characterPort)
            try await body(characterPort)
        } catch {
            await character.stop()
            await database.stop()
            throw error
        }
        await character.stop()
        await database.stop()
    }

    static func temporarySQLitePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mmo-server-test-\(UUID().uuidString).sqlite").path
    }

    static func removeSQLite(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// A plaintext TCP gRPC client to `127.0.0.1:port`, run for the duration of `body`.
func withTCPClient<T: Sendable>(
    port: Int, interceptors: [any ClientInterceptor] = [],
    _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try PeerAddress(host: "127.0.0.1", port: port).makeTransport(serviceConfig: ServiceConfig())
    return try await withGRPCClient(transport: transport, interceptors: interceptors) { client in
        try await body(client)
    }
}
