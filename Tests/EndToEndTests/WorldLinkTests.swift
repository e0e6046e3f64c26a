import DevTools
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import MMOClient
import MMOContracts
import MMOProtocol
import MMOServer
import MMOTestSupport
import MMOUtils
import NIOCore
import NIOPosix
import PacketService
import ServiceLifecycle
import Synchronization
import Testing
import WorldService

/// Issue 7, "the gateway↔world link survives load and failure": the packet service's world link
/// and the world's gRPC server on loopback TCP, as when the services run as separate processes
/// (`mmo serve` uses the in-process transport, which has no message size limit and never breaks).
@Suite("the gateway↔world link over TCP", .serialized, .timeLimit(.minutes(2)))
struct WorldLinkTests {
    /// At 2,000 bots one tick's output for a gateway was one `WorldBatch` of more than gRPC's
    /// 4 MiB receive limit: the gateway's transport refused it ("Failed to decode message") and
    /// every player was sent out of the world. Here another gateway's speakers make one tick's
    /// output for the real gateway about 5 MB.
    @Test("a tick's output for one gateway larger than 4 MiB reaches every player, and the link stays up")
    func oversizeTickReachesTheGateway() async throws {
        try await SplitTopology.with { topology in
            var joined: [(GameClient, EventRecorder)] = []
            for letter in "ABCDEF" {
                let (client, entry) = try await topology.player("Crowd\(letter)")
                joined.append((client, EventRecorder(client, entry: entry)))
            }
            let players = joined
            for (_, events) in players {
                try await events.wait("everyone in view") { view, _ in view.entities.count == 6 }
            }

            // 4 speakers x 800 lines x ~266 bytes = ~850 KB for each of the 6 players: ~5.1 MB in
            // the one tick that processes the batch (under the 1 MiB limit of one update body).
            let speakers = 4
            let linesEach = 800
            try await topology.withLoadGateway(speakers: speakers) { say in
                var lines: [(UInt64, String)] = []
                for speaker in 0..<speakers {
                    for line in 0..<linesEach {
                        let text = "line \(speaker)-\(line) "
                        lines.append((UInt64(speaker + 1), text + String(repeating: "x", count: 250 - text.utf8.count)))
                    }
                }
                try await say(lines)
                for (_, events) in players {
                    try await events.wait("all \(speakers * linesEach) lines heard", timeout: .seconds(30)) { _, events in
                        events.contains { if case .leftWorld = $0 { true } else { false } }
                            || chatLines(events) == speakers * linesEach
                    }
                    #expect(chatLines(events.events) == speakers * linesEach)
                    #expect(!events.events.contains { if case .leftWorld = $0 { true } else { false } })
                }
            }
            #expect(topology.gateway.isWorldLinkConnected)

            // And the players carry on: a move reaches a neighbour.
            let (mover, moverEvents) = players[0]
            let target = try #require(moverEvents.view.entity(named: "CrowdA"))
            _ = try mover.move(x: target.x + 1, y: target.y)
            try await players[1].1.wait("the move is seen") { view, _ in
                view.position(of: "CrowdA")?.x == target.x + 1
            }
            for (client, _) in players { await client.logout() }
        }
    }

    /// A world link that breaks (here: the world's gRPC server goes away and comes back on the
    /// same port, with the world itself still running) used to send every player of the gateway
    /// LEFT_WORLD(SERVICE_UNAVAILABLE). Now the gateway reconnects and re-admits them.
    @Test("the world link breaks and comes back: players stay in the world and their moves work")
    func playersSurviveALinkFailure() async throws {
        try await SplitTopology.with { topology in
            let (alice, aliceEntry) = try await topology.player("Alice")
            let aliceEvents = EventRecorder(alice, entry: aliceEntry)
            let (bob, bobEntry) = try await topology.player("Bob")
            let bobEvents = EventRecorder(bob, entry: bobEntry)
            try await bobEvents.wait("Bob sees Alice") { view, _ in view.sees("Alice") }

            try await topology.restartWorldServer()
            try await eventually("the link came back", timeout: .seconds(10)) { topology.gateway.isWorldLinkConnected }
            try await eventually("both players are back in the world", timeout: .seconds(10)) {
                topology.world.playerCount == 2
            }

            // Re-admitted players are new entities to the world (a new entity id, announced with
            // an APPEAR in the fresh view each gets), so look them up by name and position.
            _ = try alice.move(x: aliceEntry.x + 2, y: aliceEntry.y)
            try await bobEvents.wait("Bob sees Alice's move after the link came back") { view, _ in
                view.entities.values.contains { $0.name == "Alice" && $0.x == aliceEntry.x + 2 }
            }
            _ = try bob.move(x: bobEntry.x, y: bobEntry.y + 2)
            try await aliceEvents.wait("Alice sees Bob's move after the link came back") { view, _ in
                view.entities.values.contains { $0.name == "Bob" && $0.y == bobEntry.y + 2 }
            }
            #expect(bobEvents.view.corrections.isEmpty && aliceEvents.view.corrections.isEmpty)
            for events in [aliceEvents, bobEvents] {
                #expect(!events.events.contains { if case .leftWorld = $0 { true } else { false } })
                #expect(events.view.inWorld)
            }
            await alice.logout()
            await bob.logout()
        }
    }
}

private func chatLines(_ events: [ClientEvent]) -> Int {
    var count = 0
    for case .world(_, let list) in events {
        for case .chat(_, _, let text) in list where text.hasPrefix("line ") { count += 1 }
    }
    return count
}

/// The distributed topology in this test process: database + auth + character in one assembly
/// (their gRPC on loopback TCP), the world runtime with its gRPC server on its own TCP port (so
/// the server can be restarted while the world keeps running), and the packet service in its
/// own assembly, reaching everything over TCP exactly as `packet-service` does.
final class SplitTopology: Sendable {
    let backend: ServerHandles
    let gateway: PacketServer
    let world: WorldRuntime
    let worldPort: Int
    private let worldServer: WorldServerBox
    let gatewayPort: Int

    private init(
        backend: ServerHandles, gateway: PacketServer, world: WorldRuntime, worldPort: Int, worldServer: WorldServerBox,
        gatewayPort: Int
    ) {
        self.backend = backend
        self.gateway = gateway
        self.world = world
        self.worldPort = worldPort
        self.worldServer = worldServer
        self.gatewayPort = gatewayPort
    }

    static func with(_ body: (SplitTopology) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-link-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let logger = Logger(label: "link-test")

        var backendConfiguration = ServerConfiguration(services: [.database, .auth, .character])
        backendConfiguration.admin = nil
        backendConfiguration.grpcHost = "127.0.0.1"
        backendConfiguration.exposeGRPC = true
        backendConfiguration.database.backend = .sqlite(path: path)
        for kind in [ServiceKind.database, .auth, .character] { backendConfiguration.grpcPorts[kind] = try await freePort() }
        let (backendServices, backend) = try ServerAssembly.build(backendConfiguration, logger: logger)
        let backendGroup = ServiceGroup(services: backendServices, logger: logger)
        let backendTask = Task { try await backendGroup.run() }

        let world = try WorldRuntime(configuration: WorldConfiguration(), store: InMemoryCharacterStateStore(), logger: logger)
        let worldTask = Task { try await world.run() }
        let worldPort = try await freePort()
        let worldServer = WorldServerBox(runtime: world, port: worldPort)
        await worldServer.start()

        var gatewayConfiguration = ServerConfiguration(services: [.packet])
        gatewayConfiguration.admin = nil
        gatewayConfiguration.packet.host = "127.0.0.1"
        gatewayConfiguration.packet.port = 0
        gatewayConfiguration.packet.worldReconnectBackoff = .milliseconds(20) ... .milliseconds(200)
        for kind in [ServiceKind.auth, .character] {
            gatewayConfiguration.peers[kind] = PeerAddress(host: "127.0.0.1", port: backendConfiguration.grpcPorts[kind]!)
        }
        gatewayConfiguration.peers[.world] = PeerAddress(host: "127.0.0.1", port: worldPort)
        let (gatewayServices, gatewayHandles) = try ServerAssembly.build(gatewayConfiguration, logger: logger)
        let gatewayGroup = ServiceGroup(services: gatewayServices, logger: logger)
        let gatewayTask = Task { try await gatewayGroup.run() }

        func stopAll() async {
            await gatewayGroup.triggerGracefulShutdown()
            _ = try? await gatewayTask.value
            await worldServer.stop()
            world.stop()
            _ = try? await worldTask.value
            await backendGroup.triggerGracefulShutdown()
            _ = try? await backendTask.value
        }
        do {
            let gateway = try #require(gatewayHandles.packet)
            try await eventually("the topology is up", timeout: .seconds(10)) {
                await backend.database?.isReady() == true && gateway.localPort != nil && gateway.isWorldLinkConnected
            }
            let topology = SplitTopology(
                backend: backend, gateway: gateway, world: world, worldPort: worldPort, worldServer: worldServer,
                gatewayPort: gateway.localPort!)
            try await body(topology)
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }

    /// Stops the world's gRPC server (every stream on it breaks), waits until the gateway has
    /// noticed, and starts a new one on the same port; the world runtime keeps running throughout.
    func restartWorldServer() async throws {
        await worldServer.stop()
        try await eventually("the gateway notices the broken link", timeout: .seconds(10)) { !gateway.isWorldLinkConnected }
        await worldServer.start()
    }

    /// Logs in a new account, creates `name` and enters the world through the gateway.
    func player(_ name: String) async throws -> (GameClient, WorldEntry) {
        let database = try #require(backend.database)
        let user = try await database.createAuthUser(name: name, email: "\(name.lowercased())@example.test", password: nil)
        let token = try await database.createAuthSession(userId: user)
        let client = try await GameClient.connect(host: "127.0.0.1", port: gatewayPort, clientName: "link-test")
        let login = try await client.login(token: token)
        try #require(login.code == .ok)
        let character = try await client.createCharacter(name: name, classId: 1)
        let entry = try await client.enterWorld(characterId: character.id)
        return (client, entry)
    }

    /// A second gateway on its own TCP stream to the world (a raw client, as a packet service is
    /// to the world) whose `speakers` players stand at the spawn point; `body` gets a function
    /// that submits `(speaker, text)` lines in one batch, so one tick processes all of them.
    func withLoadGateway(
        speakers: Int, _ body: @Sendable (@Sendable ([(UInt64, String)]) async throws -> Void) async throws -> Void
    ) async throws {
        let transport = try PeerAddress(host: "127.0.0.1", port: worldPort).makeTransport(serviceConfig: ServiceConfig())
        try await withGRPCClient(transport: transport) { grpc in
            let client = Mmo_WorldService.Client(wrapping: grpc)
            let (requests, request) = AsyncStream.makeStream(of: Mmo_GatewayBatch.self)
            let (joined, joinedSignal) = AsyncStream.makeStream(of: Void.self)
            var options = CallOptions.defaults
            // This gateway is not under test: let it take whatever arrives.
            options.maxRequestMessageBytes = 64 << 20
            let stream = Task {
                try await client.connect(
                    options: options,
                    requestProducer: { writer in
                        for await batch in requests { try await writer.write(batch) }
                    },
                    onResponse: { response in
                        var accepted = 0
                        for try await batch in response.messages {
                            for output in batch.outputs { if case .joined? = output.kind { accepted += 1 } }
                            if accepted == speakers { joinedSignal.yield() }
                        }
                    })
            }
            var hello = Mmo_GatewayBatch()
            hello.gatewayID = "load-gateway"
            for speaker in 1...speakers {
                var join = Mmo_PlayerJoin()
                join.characterID = 1_000_000 + UInt64(speaker)
                join.accountID = "load-\(speaker)"
                join.name = "Speaker" + String(UnicodeScalar(UInt8(64 + speaker)))
                join.classID = 1
                join.level = 1
                join.zoneID = 1
                join.x = 500
                join.y = 500
                var input = Mmo_GatewayInput()
                input.sessionID = UInt64(speaker)
                input.kind = .join(join)
                hello.inputs.append(input)
            }
            request.yield(hello)
            for await _ in joined { break }
            try await body { lines in
                var batch = Mmo_GatewayBatch()
                for (session, text) in lines {
                    var say = Mmo_PlayerSay()
                    say.text = text
                    var input = Mmo_GatewayInput()
                    input.sessionID = session
                    input.kind = .say(say)
                    batch.inputs.append(input)
                }
                request.yield(batch)
            }
            request.finish()
            stream.cancel()
            _ = try? await stream.value
        }
    }
}

/// The world's gRPC server on a fixed loopback port, restartable.
private final class WorldServerBox: Sendable {
    let runtime: WorldRuntime
    let port: Int
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init(runtime: WorldRuntime, port: Int) {
        self.runtime = runtime
        self.port = port
    }

    func start() async {
        // As ServerAssembly serves it.
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext,
            config: .defaults { $0.rpc.maxRequestPayloadSize = WorldLinkLimits.maxMessageBytes })
        let server = GRPCServer(transport: transport, services: [WorldGRPCService(runtime: runtime)])
        task.withLock { $0 = Task { try await server.serve() } }
        _ = try? await transport.listeningAddress
    }

    /// Cancels the server: its listener and every connection close at once.
    func stop() async {
        let running = task.withLock { task -> Task<Void, any Error>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        _ = try? await running?.value
    }
}

/// A loopback port nobody listens on right now.
private func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
