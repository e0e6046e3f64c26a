import DevTools
import Foundation
import Logging
import MMOProtocol
import MMORedis
import MMOServer
import MMOTestSupport
import MMOUtils
import NIOCore
import NIOPosix
import PacketService
import ServiceLifecycle
import Testing
import WorldService

/// Resume across gateways, and VIEW_RESET after the gateway↔world link comes back, with the
/// services as separate assemblies talking gRPC over loopback TCP.
@Suite("resume across gateways; VIEW_RESET", .serialized, .timeLimit(.minutes(2)))
struct ResumeTopologyTests {
    /// Two gateways sharing the Redis resume token store (MMO_TEST_REDIS_URL) and one world.
    @Test(
        "a token issued by one gateway resumes on another: same entity, the neighbour sees nothing",
        .enabled(if: ProcessInfo.processInfo.environment["MMO_TEST_REDIS_URL"] != nil || TestServices.required()))
    func resumeOnAnotherGateway() async throws {
        guard let url = ProcessInfo.processInfo.environment["MMO_TEST_REDIS_URL"] else {
            throw TestFailure("MMO_TEST_REDIS_URL is not set")
        }
        var redis = try RedisClientConfiguration(url: url)
        redis.keyPrefix = "mmo-e2e-\(UUID().uuidString.prefix(8)):"
        try await TwoGateways.with(redis: redis) { topology in
            let database = try #require(topology.backend.database)
            func player(_ name: String, port: Int) async throws -> (RawClient, UInt64, WorldEntry, String) {
                let account = try await database.createAuthUser(name: name, email: "\(name.lowercased())@example.test", password: nil)
                let client = try await RawClient.connect(port: port)
                try await client.login(token: try await database.createAuthSession(userId: account))
                let (id, entry, token) = try await client.createAndEnter(name)
                return (client, id, entry, token)
            }
            let (alice, aliceCharacter, aliceEntry, token) = try await player("Alice", port: topology.portA)
            let (bob, _, bobEntry, _) = try await player("Bob", port: topology.portB)
            try await eventually("Bob sees Alice") { ResumeTests.appears(bob.worldEvents(), aliceEntry.entityId) }

            await alice.kill()
            try await Task.sleep(for: .milliseconds(300))
            let bobBefore = bob.messages.count

            // Alice comes back through the other gateway.
            let back = try await RawClient.connect(port: topology.portB)
            let result = try await back.resume(token)
            guard case .resumeResult(.ok, let session?) = result else { throw TestFailure("resume failed: \(result)") }
            #expect(session.characterId == aliceCharacter)
            #expect(session.entry.entityId == aliceEntry.entityId)
            _ = try await back.next("a new token") { if case .resumeToken = $0 { true } else { false } }
            try await eventually("the snapshot") { ResumeTests.appears(back.worldEvents(), bobEntry.entityId) }
            let appears = back.worldEvents().compactMap { if case .appear(let a) = $0 { a.entityId } else { nil } }
            #expect(appears.first == aliceEntry.entityId)
            #expect(topology.world.playerCount == 2)

            // Gateway A forgot its link-dead Alice when the world handed her over: its grace
            // timer will send no leave, and B's Alice plays on.
            try await eventually("gateway A has no link-dead character") { topology.gatewayA.linkDeadCount == 0 }
            back.send(.move(seq: 1, x: aliceEntry.x + 0.5, y: aliceEntry.y))
            try await eventually("Bob sees Alice walk") {
                bob.worldEvents(after: bobBefore).contains { if case .move(aliceEntry.entityId, _, _) = $0 { true } else { false } }
            }
            #expect(!ResumeTests.disappears(bob.worldEvents(after: bobBefore), aliceEntry.entityId))

            // Single use across gateways too.
            let again = try await RawClient.connect(port: topology.portA)
            #expect(try await again.resume(token) == .resumeResult(code: .resumeRejected, session: nil))
            back.send(.logout)
            bob.send(.logout)
            await again.kill()
        }
    }

    /// After the gateway↔world link breaks and comes back, the world re-admits each player as a
    /// new entity; the client is told with VIEW_RESET before the fresh snapshot.
    @Test("the world link breaks and comes back: the client gets VIEW_RESET with its new entity id, then APPEAR of itself")
    func viewResetAfterTheLinkComesBack() async throws {
        try await SplitTopology.with { topology in
            let database = try #require(topology.backend.database)
            let account = try await database.createAuthUser(name: "Viewer", email: "viewer@example.test", password: nil)
            let client = try await RawClient.connect(port: topology.gatewayPort)
            try await client.login(token: try await database.createAuthSession(userId: account))
            let (_, entry, _) = try await client.createAndEnter("Viewer")
            try await eventually("the first snapshot") { ResumeTests.appears(client.worldEvents(), entry.entityId) }
            let before = client.messages.count

            try await topology.restartWorldServer()
            let reset = try await client.next("VIEW_RESET", after: before) { if case .viewReset = $0 { true } else { false } }
            guard case .viewReset(let entityId, let zoneId, let x, let y) = reset else { throw TestFailure("\(reset)") }
            #expect(entityId != entry.entityId)
            #expect(zoneId == entry.zoneId && x == entry.x && y == entry.y)
            let resetIndex = client.messages.firstIndex(of: reset)!
            try await eventually("APPEAR of itself after VIEW_RESET") { ResumeTests.appears(client.worldEvents(after: resetIndex), entityId) }
            let first = client.worldEvents(after: resetIndex).first
            #expect(first.map { if case .appear(let a) = $0 { a.entityId == entityId } else { false } } == true)
            // No world update came between the link's return and VIEW_RESET naming stale ids.
            #expect(!client.messages[before..<resetIndex].contains { if case .leftWorld = $0 { true } else { false } })
            client.send(.logout)
        }
    }
}

/// Database, auth, character and world in one assembly (gRPC on loopback TCP); two packet
/// services in their own assemblies reaching it over TCP, sharing a Redis for resume tokens.
final class TwoGateways: Sendable {
    let backend: ServerHandles
    let gatewayA: PacketServer
    let gatewayB: PacketServer
    var portA: Int { gatewayA.localPort! }
    var portB: Int { gatewayB.localPort! }
    var world: WorldRuntime { backend.world! }

    private init(backend: ServerHandles, gatewayA: PacketServer, gatewayB: PacketServer) {
        self.backend = backend
        self.gatewayA = gatewayA
        self.gatewayB = gatewayB
    }

    static func with(redis: RedisClientConfiguration, _ body: (TwoGateways) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-resume-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let logger = Logger(label: "resume-test")

        var backendConfiguration = ServerConfiguration(services: [.database, .auth, .character, .world])
        backendConfiguration.admin = nil
        backendConfiguration.grpcHost = "127.0.0.1"
        backendConfiguration.exposeGRPC = true
        backendConfiguration.database.backend = .sqlite(path: path)
        for kind in [ServiceKind.database, .auth, .character, .world] {
            backendConfiguration.grpcPorts[kind] = try await Self.freePort()
        }
        let (backendServices, backend) = try ServerAssembly.build(backendConfiguration, logger: logger)
        let backendGroup = ServiceGroup(services: backendServices, logger: logger)
        let backendTask = Task { try await backendGroup.run() }

        var groups: [(ServiceGroup, Task<Void, any Error>)] = []
        var gateways: [PacketServer] = []
        for name in ["gateway-a", "gateway-b"] {
            var configuration = ServerConfiguration(services: [.packet])
            configuration.admin = nil
            configuration.packet.host = "127.0.0.1"
            configuration.packet.port = 0
            configuration.packet.gatewayId = name
            configuration.packet.resumeTokenRedis = redis
            for kind in [ServiceKind.auth, .character, .world] {
                configuration.peers[kind] = PeerAddress(host: "127.0.0.1", port: backendConfiguration.grpcPorts[kind]!)
            }
            let (services, handles) = try ServerAssembly.build(configuration, logger: logger)
            let group = ServiceGroup(services: services, logger: logger)
            groups.append((group, Task { try await group.run() }))
            gateways.append(try #require(handles.packet))
        }

        func stopAll() async {
            for (group, task) in groups {
                await group.triggerGracefulShutdown()
                _ = try? await task.value
            }
            await backendGroup.triggerGracefulShutdown()
            _ = try? await backendTask.value
        }
        do {
            try await eventually("the topology is up", timeout: .seconds(10)) {
                await backend.database?.isReady() == true
                    && gateways.allSatisfy { $0.localPort != nil && $0.isWorldLinkConnected }
            }
            try await body(TwoGateways(backend: backend, gatewayA: gateways[0], gatewayB: gateways[1]))
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }

    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
