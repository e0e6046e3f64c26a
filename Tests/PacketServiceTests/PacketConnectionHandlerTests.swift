import Foundation
import Logging
import MMOProtocol
import NIOCore
import NIOEmbedded
import Testing
@testable import PacketService

/// One client connection on an `NIOAsyncTestingChannel`, with the real frame decoder and handler.
struct TestConnection {
    let channel: NIOAsyncTestingChannel
    let id: UInt64
    private var reader = ServerFrameReader()
    /// RESUME_TOKEN comes from an asynchronous store call, so its place among the other
    /// messages varies: `receive` and `nothingWritten` set it aside here (unless a test asks
    /// for it with `skipResumeTokens = false`).
    var skipResumeTokens = true
    private(set) var resumeTokens: [ServerMessage] = []

    static func services(
        authenticator: any SessionAuthenticator = FakeAuthenticator(),
        registry: SessionRegistry = SessionRegistry(maxConnections: 100),
        world: FakeWorldLink = FakeWorldLink(),
        configuration: PacketServerConfiguration = .test,
        resumeTokens: any ResumeTokenStore = MemoryResumeTokenStore()
    ) -> GatewayServices {
        GatewayServices(
            authenticator: authenticator,
            characters: FakeCharacters(),
            world: world,
            registry: registry,
            resumeTokens: resumeTokens,
            metrics: PacketMetrics(),
            limits: .init(configuration),
            joinTimeout: .seconds(5),
            maxUnwritableWorldUpdates: configuration.maxUnwritableWorldUpdates,
            logger: Logger(label: "test"))
    }

    init(id: UInt64 = 1, services: GatewayServices = TestConnection.services()) async throws {
        self.id = id
        channel = NIOAsyncTestingChannel()
        try await channel.testingEventLoop.executeInContext { [channel] in
            try channel.pipeline.syncOperations.addHandlers(
                ByteToMessageHandler(FrameDecoder(maxFrameSize: services.limits.maxFrameSize)),
                PacketConnectionHandler(id: id, services: services, eventLoop: channel.eventLoop))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9999))
    }

    func send(_ message: ClientMessage) async throws {
        try await channel.writeInbound(message.bytes)
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// The next server message (waits for it).
    mutating func receive() async throws -> ServerMessage {
        while true {
            if let message = try reader.next() {
                if skipResumeTokens, case .resumeToken = message {
                    resumeTokens.append(message)
                    continue
                }
                return message
            }
            reader.feed(try await channel.waitForOutboundWrite(as: ByteBuffer.self))
        }
    }

    /// True when nothing more was written.
    mutating func nothingWritten() async throws -> Bool {
        while true {
            if let message = try reader.next() {
                if skipResumeTokens, case .resumeToken = message {
                    resumeTokens.append(message)
                    continue
                }
                return false
            }
            guard let buffer = try await channel.readOutbound(as: ByteBuffer.self) else { return true }
            reader.feed(buffer)
        }
    }

    mutating func logIn(_ accountId: String = "acc-1") async throws {
        try await send(.hello(.init(clientName: "test")))
        #expect(try await receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
        try await send(.login(token: "token-\(accountId)"))
        #expect(try await receive() == .loginResult(code: .ok, accountId: accountId, displayName: "Name \(accountId)"))
    }

    var isClosed: Bool { get async throws { try await channel.testingEventLoop.executeInContext { !channel.isActive } } }
}

/// Delivers world outputs the way the world link does (after its protobuf adapter).
func deliver(_ outputs: [WorldOutput], to session: UInt64, via registry: SessionRegistry) {
    registry.deliver(outputs.map { (session: session, output: $0) })
}

/// The world's acceptance in the tests: what `entry` describes.
let accepted = WorldOutput.joined(entry)

@Suite(.timeLimit(.minutes(1))) struct PacketConnectionHandlerTests {
    @Test func helloHandshake() async throws {
        var c = try await TestConnection()
        try await c.send(.hello(.init(clientName: "test")))
        #expect(try await c.receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
        try await c.send(.ping(nonce: 42))
        #expect(try await c.receive() == .pong(nonce: 42))
        #expect(try await !c.isClosed)
    }

    @Test func unknownOpcodeDisconnects() async throws {
        var c = try await TestConnection()
        try await c.send(bytes: [0, 0, 0, 2, 0x12, 0x34])
        #expect(try await c.receive() == .disconnect(code: .unknownOpcode, message: "unknown opcode 0x1234"))
        #expect(try await c.isClosed)
    }

    @Test func garbageBodyDisconnectsAsMalformed() async throws {
        var c = try await TestConnection()
        // A HELLO whose name length runs past the body.
        try await c.send(bytes: [0, 0, 0, 10, 0, 1, 0x4D, 0x4D, 0x4F, 0x52, 0, 1, 0, 200])
        guard case .disconnect(let code, _) = try await c.receive() else { Issue.record("no DISCONNECT"); return }
        #expect(code == .malformedPacket)
        #expect(try await c.isClosed)
    }

    @Test func frameShorterThanAnOpcodeIsMalformed() async throws {
        var c = try await TestConnection()
        try await c.send(bytes: [0, 0, 0, 1, 9])
        guard case .disconnect(let code, _) = try await c.receive() else { Issue.record("no DISCONNECT"); return }
        #expect(code == .malformedPacket)
        #expect(try await c.isClosed)
    }

    @Test func oversizeLengthClosesBeforeTheBody() async throws {
        var c = try await TestConnection()
        // Only the length prefix (1 MiB): the server must not wait for (or buffer) the body.
        try await c.send(bytes: [0, 0x10, 0, 0])
        #expect(try await c.receive() == .disconnect(code: .frameTooLarge, message: "frame of 1048576 bytes exceeds 4096"))
        #expect(try await c.isClosed)
    }

    @Test func badHelloAndWrongVersion() async throws {
        var bad = try await TestConnection()
        try await bad.send(.hello(.init(magic: 0x4854_5450, clientName: "curl")))
        guard case .disconnect(.badHello, _) = try await bad.receive() else { Issue.record("no BAD_HELLO"); return }
        #expect(try await bad.isClosed)

        var old = try await TestConnection()
        try await old.send(.hello(.init(version: 0, clientName: "old")))
        guard case .disconnect(.unsupportedVersion, _) = try await old.receive() else { Issue.record("no UNSUPPORTED_VERSION"); return }
        #expect(try await old.isClosed)
    }

    @Test func bytesOneAtATime() async throws {
        var c = try await TestConnection()
        var all = ByteBuffer()
        ClientMessage.hello(.init(clientName: "slow")).encode(into: &all)
        ClientMessage.login(token: "token-acc-9").encode(into: &all)
        for byte in all.readableBytesView {
            try await c.send(bytes: [byte])
        }
        #expect(try await c.receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
        #expect(try await c.receive() == .loginResult(code: .ok, accountId: "acc-9", displayName: "Name acc-9"))
        var ping = ByteBuffer()
        ClientMessage.ping(nonce: 5).encode(into: &ping)
        ClientMessage.ping(nonce: 6).encode(into: &ping)
        for byte in ping.readableBytesView {
            try await c.send(bytes: [byte])
        }
        #expect(try await c.receive() == .pong(nonce: 5))
        #expect(try await c.receive() == .pong(nonce: 6))
    }

    @Test func illegalOpcodeKeepsTheConnection() async throws {
        var c = try await TestConnection()
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        try await c.send(.move(seq: 1, x: 0, y: 0))
        #expect(try await c.receive() == .error(requestOpcode: Opcode.move.rawValue, code: .illegalState))
        try await c.send(.ping(nonce: 1))
        #expect(try await c.receive() == .pong(nonce: 1))
    }

    @Test func frameBeforeHelloDisconnects() async throws {
        var c = try await TestConnection()
        try await c.send(.ping(nonce: 1))
        #expect(try await c.receive() == .disconnect(code: .illegalState, message: "HELLO must come first"))
        #expect(try await c.isClosed)
    }

    @Test func lastAllowedFailedLoginIsAnsweredThenRateLimited() async throws {
        var c = try await TestConnection()
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        for _ in 1..<PacketServerConfiguration.test.maxFailedLogins {
            try await c.send(.login(token: "expired"))
            #expect(try await c.receive() == .loginResult(code: .tokenExpired, accountId: "", displayName: ""))
        }
        #expect(try await !c.isClosed)
        try await c.send(.login(token: "banned"))
        #expect(try await c.receive() == .loginResult(code: .accountBanned, accountId: "", displayName: ""))
        #expect(try await c.receive() == .disconnect(code: .rateLimited, message: "too many failed logins"))
        #expect(try await c.isClosed)
    }

    @Test func logoutSaysGoodbyeAndLeavesTheWorld() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        let world = FakeWorldLink()
        var c = try await TestConnection(services: TestConnection.services(registry: registry, world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 1, via: registry)
        #expect(try await c.receive() == .enterWorldResult(code: .ok, entry: entry))
        try await c.send(.logout)
        #expect(try await c.receive() == .disconnect(code: .ok, message: "logged out"))
        #expect(try await c.isClosed)
        #expect(world.inputs.last == .leave(session: 1))
    }

    @Test func chatRulesAreAnsweredByTheGateway() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        let world = FakeWorldLink()
        var c = try await TestConnection(services: TestConnection.services(registry: registry, world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 1, via: registry)
        _ = try await c.receive()

        // Over 256 bytes but well inside the frame: refused, not MALFORMED_PACKET.
        try await c.send(.say(text: String(repeating: "a", count: ProtocolLimits.maxChatBytes + 1)))
        #expect(try await c.receive() == .error(requestOpcode: 0x0031, code: .chatTooLong))
        // The default limit: 5 lines at once, then CHAT_RATE_LIMITED (the clock does not move here).
        for i in 1...6 { try await c.send(.say(text: "line \(i)")) }
        #expect(try await c.receive() == .error(requestOpcode: 0x0031, code: .chatRateLimited))
        try await c.send(.ping(nonce: 1))
        #expect(try await c.receive() == .pong(nonce: 1))
        #expect(try await !c.isClosed)
        let said = world.inputs.compactMap { input -> String? in
            if case .say(_, let text) = input { return text }
            return nil
        }
        #expect(said == (1...5).map { "line \($0)" })
    }

    @Test func loginFailureAndCharacters() async throws {
        var c = try await TestConnection()
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        try await c.send(.login(token: "expired"))
        #expect(try await c.receive() == .loginResult(code: .tokenExpired, accountId: "", displayName: ""))
        try await c.send(.login(token: "outage"))
        #expect(try await c.receive() == .loginResult(code: .serviceUnavailable, accountId: "", displayName: ""))
        try await c.send(.login(token: "token-acc-1"))
        #expect(try await c.receive() == .loginResult(code: .ok, accountId: "acc-1", displayName: "Name acc-1"))

        try await c.send(.characterList)
        guard case .characterListResult(.ok, 8, let characters) = try await c.receive() else { Issue.record("bad list"); return }
        #expect(characters.map(\.id) == [1, 2])
        try await c.send(.characterCreate(name: "x", classId: 1, appearance: 1))
        #expect(try await c.receive() == .characterCreateResult(code: .nameInvalid, character: nil, detail: "name must be 3 to 16 letters"))
        try await c.send(.characterDelete(characterId: 5))
        #expect(try await c.receive() == .characterDeleteResult(code: .characterNotFound, characterId: 5))
    }

    @Test func worldRoundTrip() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        let world = FakeWorldLink()
        var c = try await TestConnection(id: 7, services: TestConnection.services(registry: registry, world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        // Wait until the select call came back and the join went out.
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        #expect(world.inputs == [.join(session: 7, WorldJoin(character: FakeCharacters.character(1), accountId: "acc-1"))])

        let updateBytes = worldUpdateBody(tick: 1, events: [.move(entityId: 5, x: 1, y: 2), .chat(entityId: 5, name: "Bob", text: "hi")])
        deliver([accepted, .update(updateBytes)], to: 7, via: registry)
        #expect(try await c.receive() == .enterWorldResult(code: .ok, entry: entry))
        #expect(try await c.receive() == .worldUpdate(tick: 1, events: [.move(entityId: 5, x: 1, y: 2), .chat(entityId: 5, name: "Bob", text: "hi")]))

        try await c.send(.move(seq: 1, x: 3, y: 4))
        try await c.send(.say(text: "hello"))
        try await c.send(.say(text: ""))
        try await c.send(.ping(nonce: 1))
        #expect(try await c.receive() == .pong(nonce: 1))
        #expect(world.inputs.dropFirst() == [.move(session: 7, seq: 1, x: 3, y: 4), .say(session: 7, text: "hello")])

        deliver([.left(.zoneUnavailable), .update(updateBytes)], to: 7, via: registry)
        #expect(try await c.receive() == .leftWorld(code: .zoneUnavailable))
        #expect(try await c.nothingWritten(), "updates after leaving are dropped")

        try await c.send(.enterWorld(characterId: 2))
        while world.inputs.count < 4 { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 7, via: registry)
        _ = try await c.receive()
        try await c.send(.leaveWorld)
        #expect(try await c.receive() == .leftWorld(code: .ok))
        #expect(world.inputs.last == .leave(session: 7))

        try await c.send(.enterWorld(characterId: 2))
        while world.inputs.count < 6 { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 7, via: registry)
        _ = try await c.receive()
        try await c.channel.close()
        // A drop in the world leaves the character link-dead for the grace period...
        #expect(world.inputs.last != .leave(session: 7))
        #expect(registry.linkDeadCount == 1)
        #expect(registry.connectionCount == 0)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(59))
        #expect(world.inputs.last != .leave(session: 7))
        // ... then it leaves.
        await c.channel.testingEventLoop.advanceTime(by: .seconds(1))
        #expect(world.inputs.last == .leave(session: 7), "the grace period ended")
        #expect(registry.linkDeadCount == 0)
    }

    @Test func worldLinkDownRefusesTheJoin() async throws {
        let world = FakeWorldLink()
        world.setUp(false)
        var c = try await TestConnection(services: TestConnection.services(world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        #expect(try await c.receive() == .enterWorldResult(code: .serviceUnavailable, entry: nil))
        #expect(world.inputs.isEmpty)
    }

    @Test func joinTimesOut() async throws {
        let world = FakeWorldLink()
        var c = try await TestConnection(services: TestConnection.services(world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        await c.channel.testingEventLoop.advanceTime(by: .seconds(6))
        #expect(try await c.receive() == .enterWorldResult(code: .serviceUnavailable, entry: nil))
        #expect(world.inputs.last == .leave(session: 1))
    }

    @Test func helloTimeout() async throws {
        var c = try await TestConnection()
        await c.channel.testingEventLoop.advanceTime(by: .seconds(9))
        #expect(try await !c.isClosed)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(1))
        #expect(try await c.receive() == .disconnect(code: .idleTimeout, message: "no HELLO in time"))
        #expect(try await c.isClosed)
    }

    @Test func idleTimeout() async throws {
        var c = try await TestConnection()
        try await c.logIn()
        await c.channel.testingEventLoop.advanceTime(by: .seconds(50))
        try await c.send(.ping(nonce: 1))
        _ = try await c.receive()
        await c.channel.testingEventLoop.advanceTime(by: .seconds(50))
        #expect(try await !c.isClosed)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(10))
        #expect(try await c.receive() == .disconnect(code: .idleTimeout, message: "no frame in time"))
        #expect(try await c.isClosed)
    }

    /// A connection that says HELLO and then only PINGs (or nothing) is closed at the login
    /// deadline: PING keeps the idle timer alive, not the connection slot.
    @Test func connectionsThatDoNotLogInAreClosedAtTheLoginDeadline() async throws {
        var c = try await TestConnection()
        await c.channel.testingEventLoop.advanceTime(by: .seconds(2))
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        for nonce in UInt32(1)...4 {
            await c.channel.testingEventLoop.advanceTime(by: .seconds(2))
            try await c.send(.ping(nonce: nonce))
            #expect(try await c.receive() == .pong(nonce: nonce))
        }
        await c.channel.testingEventLoop.advanceTime(by: .milliseconds(1_999))
        #expect(try await !c.isClosed)
        await c.channel.testingEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try await c.receive() == .disconnect(code: .loginTimeout, message: "no login in time"))
        #expect(try await c.isClosed)
    }

    @Test func loginDeadlineCanBeShorterThanTheHelloDeadline() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.loginTimeout = .seconds(3)
        var c = try await TestConnection(services: TestConnection.services(configuration: configuration))
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        await c.channel.testingEventLoop.advanceTime(by: .seconds(3))
        #expect(try await c.receive() == .disconnect(code: .loginTimeout, message: "no login in time"))
    }

    @Test func takeoverDisconnectsTheFirstConnection() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        let world = FakeWorldLink()
        let services = TestConnection.services(registry: registry, world: world)
        var first = try await TestConnection(id: 1, services: services)
        try await first.logIn("acc-1")
        try await first.send(.enterWorld(characterId: 1))
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 1, via: registry)
        _ = try await first.receive()

        var second = try await TestConnection(id: 2, services: services)
        try await second.logIn("acc-1")
        // By the time the second login succeeded, the first is out of the world.
        #expect(world.inputs.last == .leave(session: 1))
        #expect(try await first.receive() == .disconnect(code: .loggedInElsewhere, message: "your account logged in from another client"))
        #expect(try await first.isClosed)
        #expect(registry.connectionId(forAccount: "acc-1") == 2)
        try await second.send(.characterList)
        guard case .characterListResult(.ok, _, _) = try await second.receive() else { Issue.record("second connection broken"); return }

        // Another account is unaffected.
        var third = try await TestConnection(id: 3, services: services)
        try await third.logIn("acc-3")
        #expect(try await !second.isClosed)
    }

    @Test func overCapacityIsTurnedAway() async throws {
        let services = TestConnection.services(registry: SessionRegistry(maxConnections: 1))
        var first = try await TestConnection(id: 1, services: services)
        var second = try await TestConnection(id: 2, services: services)
        #expect(try await second.receive() == .disconnect(code: .serviceUnavailable, message: "server is full"))
        #expect(try await second.isClosed)
        try await first.send(.hello(.init(clientName: "test")))
        #expect(try await first.receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
    }

    @Test func floodIsDroppedThenDisconnected() async throws {
        var c = try await TestConnection()
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        var flood = ByteBuffer()
        for i in 0..<400 { ClientMessage.ping(nonce: UInt32(i)).encode(into: &flood) }
        try await c.channel.writeInbound(flood)
        var pongs = 0, limited = 0
        loop: while true {
            switch try await c.receive() {
            case .pong: pongs += 1
            case .error(_, .rateLimited): limited += 1
            case .disconnect(let code, _):
                #expect(code == .rateLimited)
                break loop
            case let other: Issue.record("unexpected \(other)")
            }
        }
        #expect(pongs == 59)  // the burst, less the HELLO
        #expect(limited == 200)
        #expect(try await c.isClosed)
    }
}
