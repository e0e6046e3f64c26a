import MMOTestSupport
import GRPCCore
import GRPCInProcessTransport
import Logging
import MMOContracts
import MMOProtocol
import NIOCore
import NIOPosix
import Testing
@testable import PacketService

/// A bare TCP client speaking raw bytes, for live tests (no SDK).
struct RawClient: ~Copyable {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var reader = ServerFrameReader()

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ message: ClientMessage) async throws {
        try await outbound.write(message.bytes)
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message, or nil once the server closed the connection. RESUME_TOKEN is skipped
    /// (it comes from an asynchronous store call, so its place among the others varies).
    mutating func receive() async throws -> ServerMessage? {
        while true {
            if let message = try reader.next() {
                if case .resumeToken = message { continue }
                return message
            }
            do {
                guard let bytes = try await inbound.next() else { return nil }
                reader.feed(bytes)
            } catch let error as ChannelError where error == .inputClosed || error == .eof {
                return nil
            } catch let error as IOError where error.errnoCode == ECONNRESET {
                return nil
            }
        }
    }

    mutating func logIn(_ accountId: String) async throws {
        try await send(.hello(.init(clientName: "raw")))
        #expect(try await receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
        try await send(.login(token: "token-\(accountId)"))
        #expect(try await receive() == .loginResult(code: .ok, accountId: accountId, displayName: "Name \(accountId)"))
    }
}

func withRawClient<R: Sendable>(port: Int, _ body: (inout RawClient) async throws -> R) async throws -> R {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var client = RawClient(inbound: inbound, outbound: outbound)
        return try await body(&client)
    }
}

/// A packet server on 127.0.0.1:0 with fake auth/characters and a fake world over gRPC's
/// in-process transport; shut down gracefully after `body`.
func withLiveServer(
    configuration: PacketServerConfiguration = .test,
    _ body: (PacketServer, FakeWorldService) async throws -> Void
) async throws {
    let world = FakeWorldService()
    let transport = InProcessTransport()
    try await withGRPCServer(transport: transport.server, services: [world]) { _ in
        try await withGRPCClient(transport: transport.client) { client in
            let server = PacketServer(
                configuration: configuration,
                authenticator: FakeAuthenticator(),
                characters: FakeCharacters(),
                world: Mmo_WorldService.Client(wrapping: client),
                logger: Logger(label: "live-test"))
            try await server.start()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                while !server.isWorldLinkConnected { try await Task.sleep(for: .milliseconds(2)) }
                do {
                    try await body(server, world)
                } catch {
                    server.shutdown()
                    throw error
                }
                server.shutdown()
                try await group.waitForAll()
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct PacketServerLiveTests {
    @Test func portZeroBindsAFreePort() async throws {
        try await withLiveServer { server, _ in
            let port = try #require(server.localPort)
            #expect(port > 0)
        }
    }

    @Test func abusiveClientsAreClosedWhileAWellBehavedOneKeepsPlaying() async throws {
        try await withLiveServer { server, world in
            let port = server.localPort!
            try await withRawClient(port: port) { good in
                try await good.logIn("good")

                try await withRawClient(port: port) { garbage in
                    try await garbage.send(bytes: [0, 0, 0, 4, 0xFF, 0xFF, 1, 2])
                    #expect(try await garbage.receive() == .disconnect(code: .unknownOpcode, message: "unknown opcode 0xffff"))
                    #expect(try await garbage.receive() == nil)
                }
                try await withRawClient(port: port) { oversize in
                    try await oversize.send(bytes: [0x7F, 0xFF, 0xFF, 0xFF])
                    guard case .disconnect(.frameTooLarge, _) = try await oversize.receive() else {
                        Issue.record("no FRAME_TOO_LARGE")
                        return
                    }
                    #expect(try await oversize.receive() == nil)
                }

                try await good.send(.ping(nonce: 3))
                #expect(try await good.receive() == .pong(nonce: 3))
                try await good.send(.enterWorld(characterId: 1))
                #expect(try await good.receive() == .enterWorldResult(
                    code: .ok, entry: WorldEntry(entityId: 1001, zoneId: 7, x: 10.5, y: -4, tickRateHz: 20)))
                try await good.send(.move(seq: 1, x: 11, y: -4))
                guard case .worldUpdate(_, let events) = try await good.receive() else {
                    Issue.record("no WORLD_UPDATE")
                    return
                }
                #expect(events.count == 1)
                try await good.send(.leaveWorld)
                #expect(try await good.receive() == .leftWorld(code: .ok))
            }
            try await eventually { world.inputs.contains { $0.kind == .leave(Mmo_PlayerLeave()) } }
            #expect(world.inputs.contains { $0.kind == .leave(Mmo_PlayerLeave()) })
            #expect(world.batches.first?.gatewayID == "test-gateway")
        }
    }

    @Test func secondLoginOfAnAccountDisconnectsTheFirst() async throws {
        try await withLiveServer { server, world in
            let port = server.localPort!
            try await withRawClient(port: port) { first in
                try await first.logIn("hero")
                try await first.send(.enterWorld(characterId: 2))
                guard case .enterWorldResult(.ok, _) = try await first.receive() else {
                    Issue.record("first did not enter the world")
                    return
                }
                try await withRawClient(port: port) { second in
                    try await second.logIn("hero")
                    #expect(try await first.receive() == .disconnect(
                        code: .loggedInElsewhere, message: "your account logged in from another client"))
                    #expect(try await first.receive() == nil)
                    try await second.send(.enterWorld(characterId: 2))
                    guard case .enterWorldResult(.ok, _) = try await second.receive() else {
                        Issue.record("second did not enter the world")
                        return
                    }
                }
            }
            // The world saw: join (first), leave (first), join (second); the second's close in the
            // world leaves its character link-dead (no leave within the grace period).
            try await eventually { world.inputs.count >= 3 }
            let kinds = world.inputs.compactMap { input -> String? in
                switch input.kind {
                case .join: "join \(input.sessionID)"
                case .leave: "leave \(input.sessionID)"
                default: nil
                }
            }
            #expect(kinds.count == 3)
            #expect(kinds.first?.hasPrefix("join") == true && kinds[1].hasPrefix("leave") && kinds[0].dropFirst(5) == kinds[1].dropFirst(6))
        }
    }

    @Test func inputsFromManyClientsAreBatched() async throws {
        try await withLiveServer { server, world in
            let port = server.localPort!
            try await withRawClient(port: port) { client in
                try await client.logIn("mover")
                try await client.send(.enterWorld(characterId: 1))
                _ = try await client.receive()
                let before = world.batches.count
                // 50 moves in one write: far fewer than 50 batches reach the world.
                var moves = ByteBuffer()
                for i in 0..<50 { ClientMessage.move(seq: UInt32(i), x: 1, y: 1).encode(into: &moves) }
                try await client.send(bytes: Array(moves.readableBytesView))
                var updates = 0
                while updates < 50 {
                    guard case .worldUpdate = try await client.receive() else { continue }
                    updates += 1
                }
                let batches = world.batches.count - before
                #expect(batches < 10, "\(batches) batches for 50 moves")
            }
        }
    }

    /// With resuming on (the default), characters in the world are left link-dead at shutdown:
    /// no leave; the world drops them when the link closes. With `resumeGrace` 0 the leave is
    /// drained to the world before the link closes.
    @Test(arguments: [true, false]) func shutdownDisconnectsEveryone(resuming: Bool) async throws {
        let world = FakeWorldService()
        let transport = InProcessTransport()
        var configuration = PacketServerConfiguration.test
        if !resuming { configuration.resumeGrace = .zero }
        try await withGRPCServer(transport: transport.server, services: [world]) { _ in
            try await withGRPCClient(transport: transport.client) { client in
                let server = PacketServer(
                    configuration: configuration, authenticator: FakeAuthenticator(), characters: FakeCharacters(),
                    world: Mmo_WorldService.Client(wrapping: client))
                try await server.start()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    while !server.isWorldLinkConnected { try await Task.sleep(for: .milliseconds(2)) }
                    try await withRawClient(port: server.localPort!) { c in
                        try await c.logIn("stayer")
                        try await c.send(.enterWorld(characterId: 1))
                        _ = try await c.receive()
                        server.shutdown()
                        #expect(try await c.receive() == .disconnect(code: .serverShuttingDown, message: "server is shutting down"))
                        #expect(try await c.receive() == nil)
                    }
                    try await group.waitForAll()
                }
                if resuming {
                    #expect(!world.inputs.contains { $0.kind == .leave(Mmo_PlayerLeave()) })
                } else {
                    // The leave was drained to the world before the link closed.
                    #expect(world.inputs.last?.kind == .leave(Mmo_PlayerLeave()))
                }
            }
        }
    }

    /// Issue 7: a broken world stream used to send every player LEFT_WORLD(SERVICE_UNAVAILABLE).
    /// Now the link reconnects, replays the joins, turns the world's acceptance into VIEW_RESET
    /// (the client never left, but its entity id is new) and the player's next move goes through.
    @Test func worldLinkLossKeepsPlayersInTheWorld() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.worldReconnectBackoff = .milliseconds(10) ... .milliseconds(50)
        try await withLiveServer(configuration: configuration) { server, world in
            #expect(world.streams == 1)
            try await withRawClient(port: server.localPort!) { c in
                try await c.logIn("x")
                try await c.send(.enterWorld(characterId: 1))
                guard case .enterWorldResult(.ok, _) = try await c.receive() else {
                    Issue.record("did not enter the world")
                    return
                }
                world.breakOnNextBatch.store(true, ordering: .relaxed)
                try await c.send(.move(seq: 1, x: 1, y: 1))  // the batch that breaks the stream
                try await eventually("the link reconnected and replayed the join", timeout: .seconds(5)) {
                    world.streams >= 2 && server.isWorldLinkConnected
                        && world.inputs.filter { if case .join? = $0.kind { true } else { false } }.count == 2
                }
                // VIEW_RESET first: no LEFT_WORLD, no second ENTER_WORLD_RESULT.
                guard case .viewReset? = try await c.receive() else {
                    Issue.record("no VIEW_RESET after the reconnect")
                    return
                }
                try await c.send(.move(seq: 2, x: 2, y: 2))
                guard case .worldUpdate(_, let events)? = try await c.receive() else {
                    Issue.record("the move after the reconnect got no world update")
                    return
                }
                #expect(events.count == 1)
                if case .move(_, let x, let y)? = events.first { #expect(x == 2 && y == 2) } else { Issue.record("not a move: \(events)") }
            }
        }
    }
}
