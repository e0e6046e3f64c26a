import Foundation
import MMOTestSupport
import GRPCCore
import MMOContracts
import Testing
@testable import DatabaseService
@testable import MMOServer
@testable import MMOUtils

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 7, "operators are misled": readiness must follow the real dependencies. Before, the
/// probes sent empty requests that input validation answered, so every service stayed ready
/// with its database gone.
@Suite("readiness and gRPC health follow real dependencies", .serialized, .timeLimit(.minutes(1)))
struct HealthTests {
    static func readyStatus(adminPort: Int) async throws -> Int {
        let url = URL(string: "http://127.0.0.1:\(adminPort)/health/ready")!
        let (_, response) = try await URLSession.shared.data(from: url)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// `grpc.health.v1.Health/Check` for `service` on a TCP port.
    static func health(port: Int, service: String) async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        let transport = try PeerAddress(host: "127.0.0.1", port: port).makeTransport(serviceConfig: ServiceConfig())
        return try await withGRPCClient(transport: transport) { grpc in
            var request = Grpc_Health_V1_HealthCheckRequest()
            request.service = service
            return try await Grpc_Health_V1_Health.Client(wrapping: grpc).check(request).status
        }
    }

    /// The database service (SQLite, optionally a Redis cache at `redisPort`) and a process
    /// running auth, character and world against it, each with an admin port.
    struct Topology {
        var databasePort: Int, databaseAdmin: Int
        var backendPorts: [ServiceKind: Int], backendAdmin: Int
        var packetAdmin: Int
        var database: TestProcess, backend: TestProcess, packet: TestProcess
    }

    static func withTopology(redisPort: Int? = nil, _ body: (Topology) async throws -> Void) async throws {
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let databasePort = try TestProcess.freePort(), databaseAdmin = try TestProcess.freePort()
        let backendPorts: [ServiceKind: Int] = [.auth: try TestProcess.freePort(), .character: try TestProcess.freePort(), .world: try TestProcess.freePort()]
        let backendAdmin = try TestProcess.freePort()
        var databaseConfiguration = TestProcess.configuration([.database], ports: [.database: databasePort], adminPort: databaseAdmin)
        databaseConfiguration.database.backend = .sqlite(path: path)
        if let redisPort { databaseConfiguration.database.redis = try .init(url: "redis://127.0.0.1:\(redisPort)") }
        let database = try TestProcess.start(databaseConfiguration)
        let backend = try TestProcess.start(TestProcess.configuration(
            [.auth, .character, .world], ports: backendPorts, peers: [.database: databasePort], adminPort: backendAdmin))
        let packetAdmin = try TestProcess.freePort()
        var packetConfiguration = TestProcess.configuration(
            [.packet], ports: [:], peers: [.auth: backendPorts[.auth]!, .character: backendPorts[.character]!, .world: backendPorts[.world]!],
            adminPort: packetAdmin)
        packetConfiguration.packet.host = "127.0.0.1"
        packetConfiguration.packet.port = 0
        let packet = try TestProcess.start(packetConfiguration)
        let topology = Topology(
            databasePort: databasePort, databaseAdmin: databaseAdmin, backendPorts: backendPorts, backendAdmin: backendAdmin,
            packetAdmin: packetAdmin, database: database, backend: backend, packet: packet)
        do {
            try await TestProcess.waitForListening(databasePort, backendPorts[.auth]!, backendPorts[.character]!, backendPorts[.world]!)
            try await body(topology)
        } catch {
            await packet.stop()
            await backend.stop()
            await database.stop()
            throw error
        }
        await packet.stop()
        await backend.stop()
        await database.stop()
    }

    @Test("all up: 200 and SERVING; the database service gone: its dependents 503 and NOT_SERVING")
    func databaseServiceDown() async throws {
        try await Self.withTopology { t in
            try await eventually("packet ready") { (try? await Self.readyStatus(adminPort: t.packetAdmin)) == 200 }
            #expect(try await Self.readyStatus(adminPort: t.backendAdmin) == 200)
            #expect(try await Self.readyStatus(adminPort: t.databaseAdmin) == 200)
            #expect(try await Self.health(port: t.databasePort, service: "") == .serving)
            #expect(try await Self.health(port: t.databasePort, service: "mmo.DatabaseService") == .serving)
            for (kind, port) in t.backendPorts {
                // Polled: under a loaded test run one nested probe can miss its 2 s deadline.
                try await eventually("\(kind) SERVING") { (try? await Self.health(port: port, service: kind.healthName)) == .serving }
            }
            // A service this process does not run is NOT_FOUND, as the protocol says.
            await #expect(throws: RPCError.self) { _ = try await Self.health(port: t.databasePort, service: "mmo.AuthService") }

            await t.database.stop()
            #expect(try await Self.readyStatus(adminPort: t.backendAdmin) == 503)
            for (kind, port) in t.backendPorts {
                #expect(try await Self.health(port: port, service: kind.healthName) == .notServing, "\(kind)")
            }
            #expect(try await Self.health(port: t.backendPorts[.auth]!, service: "") == .notServing)
            // The gateway's world link is still up, but auth and character cannot work.
            #expect(try await Self.readyStatus(adminPort: t.packetAdmin) == 503)
        }
    }

    @Test("the database service alive but its store unreachable: it and its dependents are not ready")
    func storeDown() async throws {
        // A Redis cache on a port where nothing listens: the service starts and answers RPCs
        // (validation errors included), but its store does not work.
        try await Self.withTopology(redisPort: try TestProcess.freePort()) { t in
            // Prepared (schema checked), so nothing but the store's cache can make it unready.
            try await eventually("database prepared") { t.database.handles.database?.detectedSchema.withLock({ $0 != nil }) == true }
            #expect(try await Self.readyStatus(adminPort: t.databaseAdmin) == 503)
            #expect(try await Self.health(port: t.databasePort, service: "mmo.DatabaseService") == .notServing)
            #expect(try await Self.readyStatus(adminPort: t.backendAdmin) == 503)
            for (kind, port) in t.backendPorts {
                #expect(try await Self.health(port: port, service: kind.healthName) == .notServing, "\(kind)")
            }
            #expect(try await Self.readyStatus(adminPort: t.packetAdmin) == 503)
        }
    }
}
