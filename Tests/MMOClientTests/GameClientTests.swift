import MMOTestSupport
import MMOClient
import MMOProtocol
import NIOCore
import Synchronization
import Testing

/// Shared mutable state for a server script.
final class Box<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}

func connect(
    to server: FakeServer,
    _ configure: (inout GameClientConfiguration) -> Void = { _ in }
) async throws -> GameClient {
    var configuration = GameClientConfiguration()
    configuration.keepAliveInterval = nil
    configuration.requestTimeout = .seconds(5)
    configure(&configuration)
    return try await GameClient.connect(host: "127.0.0.1", port: server.port, clientName: "client-tests",
                                        timeout: .seconds(5), configuration: configuration)
}

@Suite("GameClient against a fake server", .timeLimit(.minutes(1)))
struct GameClientTests {
    // MARK: handshake

    @Test func handshakeSendsHelloAndAdoptsServerLimits() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .hello = message { connection.send(.helloAck(version: 1, maxClientFrame: 2048)) }
        }
        let client = try await connect(to: server)
        #expect(client.serverVersion == 1)
        #expect(client.maxClientFrame == 2048)
        #expect(server.received == [.hello(.init(magic: ProtocolLimits.helloMagic, version: ProtocolLimits.version, clientName: "client-tests"))])
        await client.close()
        await server.shutdown()
    }

    @Test func handshakeRefusalSurfacesDisconnectCode() async throws {
        let server = try await FakeServer.start { message, connection in
            connection.send(.disconnect(code: .unsupportedVersion, message: "v2 only"))
            connection.close()
        }
        await #expect(throws: GameClientError.disconnected(.unsupportedVersion, message: "v2 only")) {
            _ = try await connect(to: server)
        }
        await server.shutdown()
    }

    @Test func handshakeTimesOutWhenServerIsSilent() async throws {
        let server = try await FakeServer.start { _, _ in }
        let started = ContinuousClock.now
        await #expect(throws: GameClientError.timedOut(.hello)) {
            _ = try await GameClient.connect(host: "127.0.0.1", port: server.port, timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        await server.shutdown()
    }

    @Test func connectFailsWithoutListener() async throws {
        let server = try await FakeServer.start()
        let port = server.port
        await server.shutdown()
        do {
            _ = try await GameClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
            Issue.record("connect succeeded without a listener")
        } catch let error as GameClientError {
            guard case .connectFailed = error else { Issue.record("wrong error \(error)"); return }
        }
    }

    // MARK: login and requests

    @Test func loginReturnsAccountAndSendsToken() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .login(let token) = message {
                connection.send(.loginResult(code: .ok, accountId: "acc-\(token)", displayName: "Alice"))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        let result = try await client.login(token: "tok123")
        #expect(result == LoginResult(code: .ok, accountId: "acc-tok123", displayName: "Alice"))
        #expect(server.received.last == .login(token: "tok123"))
        await client.close()
        await server.shutdown()
    }

    @Test func loginRefusalThrowsResultCode() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .login = message {
                connection.send(.loginResult(code: .tokenExpired, accountId: "", displayName: ""))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        await #expect(throws: GameClientError.refused(.tokenExpired)) { _ = try await client.login(token: "old") }
        await client.close()
        await server.shutdown()
    }

    @Test func errorFrameFailsTheMatchingRequestAndKeepsConnection() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message {
                connection.send(.error(requestOpcode: Opcode.characterList.rawValue, code: .busy))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        do {
            _ = try await client.listCharacters()
            Issue.record("expected BUSY")
        } catch let error as GameClientError {
            #expect(error == .refused(.busy))
            #expect(error.resultCode == .busy)
        }
        // The refusal must not have poisoned the connection.
        _ = try await client.ping()
        await client.close()
        await server.shutdown()
    }

    @Test func characterCreateRefusalCarriesDetail() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterCreate(let name, _, _) = message {
                connection.send(.characterCreateResult(code: .nameTaken, character: nil, detail: "\(name) is taken"))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        await #expect(throws: GameClientError.refused(.nameTaken, detail: "Bob is taken")) {
            _ = try await client.createCharacter(name: "Bob", classId: 2, appearance: 7)
        }
        #expect(server.received.last == .characterCreate(name: "Bob", classId: 2, appearance: 7))
        await client.close()
        await server.shutdown()
    }

    @Test func characterRequestsDecodeResults() async throws {
        let bob = CharacterSummary(id: 9, name: "Bob", classId: 2, appearance: 7, level: 3, zoneId: 1, x: 10, y: 20)
        let entry = WorldEntry(entityId: 77, zoneId: 1, x: 10, y: 20, tickRateHz: 20)
        let server = try await FakeServer.start { message, connection in
            switch message {
            case .characterList: connection.send(.characterListResult(code: .ok, maxCharacters: 4, characters: [bob]))
            case .characterCreate: connection.send(.characterCreateResult(code: .ok, character: bob, detail: ""))
            case .characterDelete(let id): connection.send(.characterDeleteResult(code: id == 9 ? .ok : .characterNotFound, characterId: id))
            case .enterWorld: connection.send(.enterWorldResult(code: .ok, entry: entry))
            case .leaveWorld: connection.send(.leftWorld(code: .ok))
            default: connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        let list = try await client.listCharacters()
        #expect(list == CharacterList(maxCharacters: 4, characters: [bob]))
        #expect(list.named("Bob") == bob)
        #expect(try await client.createCharacter(name: "Bob", classId: 2) == bob)
        try await client.deleteCharacter(id: 9)
        await #expect(throws: GameClientError.refused(.characterNotFound)) { try await client.deleteCharacter(id: 8) }
        #expect(try await client.enterWorld(characterId: 9) == entry)
        try await client.leaveWorld()
        var iterator = client.events.makeAsyncIterator()
        #expect(await iterator.next() == .leftWorld(.ok))
        await client.close()
        await server.shutdown()
    }

    @Test func pingEchoesNonceAndMeasuresRoundTrip() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .ping(let nonce) = message {
                connection.send(.pong(nonce: nonce), after: .milliseconds(50))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        let rtt = try await client.ping()
        #expect(rtt >= .milliseconds(50))
        await client.close()
        await server.shutdown()
    }

    // MARK: timeouts and ordering

    @Test func requestTimesOutAndLateAnswerIsNotMistakenForTheNext() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message {
                // Answer only after the client's timeout: the answer must be dropped, not given to PING.
                connection.send(.characterListResult(code: .ok, maxCharacters: 1, characters: []), after: .milliseconds(1300))
            } else {
                connection.standardReply(to: message)
            }
        }
        // Timeout and late answer far enough apart that a loaded machine keeps their order.
        let client = try await connect(to: server) { $0.requestTimeout = .seconds(1) }
        await #expect(throws: GameClientError.timedOut(.characterList)) { _ = try await client.listCharacters() }
        _ = try await client.ping()
        // The PING went on the wire only after the late LIST answer: never two requests outstanding.
        #expect(server.received.map(\.opcode) == [.hello, .characterList, .ping])
        await client.close()
        await server.shutdown()
    }

    @Test func concurrentRequestsAreSerializedSoServerNeverSaysBusy() async throws {
        let busy = Box(false)
        let server = try await FakeServer.start { message, connection in
            if case .hello = message { connection.standardReply(to: message); return }
            // Behaves like the packet service: one request at a time, BUSY for a second.
            if busy.get() {
                connection.send(.error(requestOpcode: message.opcode.rawValue, code: .busy))
                return
            }
            busy.set(true)
            let reply: ServerMessage = switch message {
            case .ping(let nonce): .pong(nonce: nonce)
            case .characterList: .characterListResult(code: .ok, maxCharacters: 2, characters: [])
            default: .loginResult(code: .ok, accountId: "a", displayName: "A")
            }
            connection.channel.eventLoop.scheduleTask(in: .milliseconds(30)) {
                busy.set(false)
                connection.send(reply)
            }
        }
        let client = try await connect(to: server)
        async let login = client.login(token: "t")
        async let list = client.listCharacters()
        async let rtt = client.ping()
        let (l, c, _) = try await (login, list, rtt)
        #expect(l.displayName == "A")
        #expect(c.maxCharacters == 2)
        await client.close()
        await server.shutdown()
    }

    // MARK: events

    @Test func worldUpdatesArriveOnTheEventStream() async throws {
        let entry = WorldEntry(entityId: 1, zoneId: 1, x: 0, y: 0, tickRateHz: 20)
        let events: [WorldEvent] = [
            .appear(.init(entityId: 2, name: "Bob", classId: 1, appearance: 3, level: 5, x: 1.5, y: 2.5)),
            .move(entityId: 2, x: 2, y: 3),
            .chat(entityId: 2, name: "Bob", text: "hello"),
            .correction(seq: 4, x: 0, y: 0, reason: .moveTooFast),
        ]
        let server = try await FakeServer.start { message, connection in
            if case .enterWorld = message {
                connection.send(.enterWorldResult(code: .ok, entry: entry))
                connection.send(.worldUpdate(tick: 42, events: events))
            } else {
                connection.standardReply(to: message)
            }
        }
        let observed = Box<[ClientEvent]>([])
        let client = try await connect(to: server) { config in
            config.eventObserver = { event in observed.value.withLock { $0.append(event) } }
        }
        #expect(try await client.enterWorld(characterId: 5) == entry)
        var iterator = client.events.makeAsyncIterator()
        #expect(await iterator.next() == .world(tick: 42, events: events))
        #expect(observed.get() == [.world(tick: 42, events: events)])
        let stats = client.statistics.snapshot()
        #expect(stats.worldUpdatesReceived == 1)
        #expect(stats.worldEventsReceived == 4)
        await client.close()
        await server.shutdown()
    }

    @Test func disconnectFailsPendingRequestAndEndsTheStream() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message {
                connection.send(.disconnect(code: .loggedInElsewhere, message: "another session"))
                connection.close()
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        await #expect(throws: GameClientError.disconnected(.loggedInElsewhere, message: "another session")) {
            _ = try await client.listCharacters()
        }
        var seen: [ClientEvent] = []
        for await event in client.events { seen.append(event) }
        #expect(seen == [.disconnected(code: .loggedInElsewhere, message: "another session"), .connectionClosed])
        // Later requests fail at once with the same reason.
        await #expect(throws: GameClientError.disconnected(.loggedInElsewhere, message: "another session")) {
            _ = try await client.ping()
        }
        #expect(!client.isConnected)
    }

    @Test func silentCloseFailsPendingRequestWithConnectionClosed() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message { connection.close() } else { connection.standardReply(to: message) }
        }
        let client = try await connect(to: server)
        await #expect(throws: GameClientError.connectionClosed) { _ = try await client.listCharacters() }
        #expect(throws: GameClientError.connectionClosed) { try client.move(x: 1, y: 1) }
        await server.shutdown()
    }

    @Test func malformedServerFrameIsAProtocolViolation() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message {
                var bad = connection.channel.allocator.buffer(capacity: 8)
                bad.writeInteger(UInt32(2))
                bad.writeInteger(UInt16(0x9999))  // no such opcode
                connection.sendRaw(bad)
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        do {
            _ = try await client.listCharacters()
            Issue.record("expected a protocol violation")
        } catch let error as GameClientError {
            guard case .protocolViolation = error else { Issue.record("wrong error \(error)"); return }
        }
        await client.waitUntilClosed()
        await server.shutdown()
    }

    @Test func unsolicitedErrorBecomesRefusedEvent() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .say = message {
                connection.send(.error(requestOpcode: Opcode.say.rawValue, code: .chatRateLimited))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        try client.say("spam")
        var iterator = client.events.makeAsyncIterator()
        #expect(await iterator.next() == .refused(requestOpcode: Opcode.say.rawValue, code: .chatRateLimited))
        await client.close()
        await server.shutdown()
    }

    @Test func errorForAnotherOpcodeDoesNotFailTheOutstandingRequest() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .characterList = message {
                // A SAY refusal overtakes the LIST answer: it must not be taken as LIST's refusal.
                connection.send(.error(requestOpcode: Opcode.say.rawValue, code: .chatTooLong))
                connection.send(.characterListResult(code: .ok, maxCharacters: 3, characters: []))
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        #expect(try await client.listCharacters().maxCharacters == 3)
        var iterator = client.events.makeAsyncIterator()
        #expect(await iterator.next() == .refused(requestOpcode: Opcode.say.rawValue, code: .chatTooLong))
        #expect(client.closeReason == nil)
        await client.close()
        #expect(client.closeReason == .connectionClosed)
        await server.shutdown()
    }

    // MARK: fire-and-forget, limits, keep-alive

    @Test func movesCarryIncreasingSequenceNumbers() async throws {
        let server = try await FakeServer.start()
        let client = try await connect(to: server)
        #expect(try client.move(x: 1, y: 2) == 1)
        #expect(try client.move(x: 1.5, y: 2) == 2)
        try client.say("hi")
        try await eventually("four frames received") { server.received.count == 4 }
        #expect(Array(server.received.dropFirst()) == [.move(seq: 1, x: 1, y: 2), .move(seq: 2, x: 1.5, y: 2), .say(text: "hi")])
        #expect(client.statistics.snapshot().movesSent == 2)
        await client.close()
        await server.shutdown()
    }

    @Test func limitsAreEnforcedBeforeSending() async throws {
        let server = try await FakeServer.start()
        let client = try await connect(to: server)
        #expect(throws: GameClientError.self) { try client.say(String(repeating: "a", count: ProtocolLimits.maxChatBytes + 1)) }
        // 128 two-byte characters: 256 bytes is allowed, one more byte is not.
        try client.say(String(repeating: "é", count: 128))
        #expect(throws: GameClientError.self) { try client.say(String(repeating: "é", count: 128) + "a") }
        #expect(throws: GameClientError.self) { try client.move(x: .nan, y: 0) }
        #expect(throws: GameClientError.self) { try client.move(x: 0, y: .infinity) }
        await #expect(throws: GameClientError.self) { _ = try await client.login(token: String(repeating: "t", count: ProtocolLimits.maxTokenBytes + 1)) }
        await #expect(throws: GameClientError.self) {
            _ = try await client.createCharacter(name: String(repeating: "n", count: ProtocolLimits.maxCharacterNameBytes + 1), classId: 1)
        }
        await #expect(throws: GameClientError.self) {
            _ = try await GameClient.connect(host: "127.0.0.1", port: server.port, clientName: String(repeating: "c", count: 65))
        }
        _ = try await client.ping()  // a round trip: anything wrongly sent has arrived by now
        #expect(server.received.map(\.opcode) == [.hello, .say, .ping])
        await client.close()
        await server.shutdown()
    }

    @Test func keepAlivePingsOnlyWhenIdle() async throws {
        let server = try await FakeServer.start()
        // The interval is far above the moves' spacing so a loaded CI machine can't open a gap.
        let client = try await connect(to: server) { $0.keepAliveInterval = .seconds(2) }
        // Busy: a move every 30 ms leaves no 2 s gap, so no PING.
        for i in 0..<20 {
            try client.move(x: Float(i), y: 0)
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(!server.received.contains { $0.opcode == .ping })
        // Idle: PINGs follow.
        try await eventually("two keep-alive PINGs", timeout: .seconds(15)) { server.received.filter { $0.opcode == .ping }.count >= 2 }
        await client.close()
        await server.shutdown()
    }

    @Test func logoutWaitsForServerClose() async throws {
        let server = try await FakeServer.start { message, connection in
            if case .logout = message {
                connection.send(.disconnect(code: .ok, message: "bye"))
                connection.close()
            } else {
                connection.standardReply(to: message)
            }
        }
        let client = try await connect(to: server)
        await client.logout(timeout: .seconds(3))
        #expect(!client.isConnected)
        #expect(server.received.last == .logout)
        var seen: [ClientEvent] = []
        for await event in client.events { seen.append(event) }
        #expect(seen == [.disconnected(code: .ok, message: "bye"), .connectionClosed])
        await server.shutdown()
    }
}
