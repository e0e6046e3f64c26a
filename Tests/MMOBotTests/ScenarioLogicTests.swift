import MMOTime
import MMOClient
import MMOProtocol
import Testing

@testable import MMOBot

@Suite("Scenario logic")
struct ScenarioLogicTests {
    private func appear(_ id: UInt64, _ name: String, x: Float = 1, y: Float = 2) -> WorldEvent {
        .appear(.init(entityId: id, name: name, classId: 1, appearance: 0, level: 1, x: x, y: y))
    }

    @Test("each check passes once, on the event that proves it, names matched without case")
    func checks() {
        var o = ScenarioObservations()
        #expect(!o.checksPassed(expecting: nil))
        #expect(o.apply(.world(tick: 1, events: [appear(7, "Alice")]), character: "alice", peer: "bob")
            == ["PASS saw own APPEAR as entity 7 at (1.0, 2.0)"])
        #expect(o.apply(.world(tick: 2, events: [.chat(entityId: 7, name: "Alice", text: "hi")]), character: "alice", peer: "bob")
            == ["PASS heard own chat line \"hi\""])
        #expect(o.checksPassed(expecting: nil))
        #expect(!o.checksPassed(expecting: "bob"))

        // A peer's move before its APPEAR cannot be attributed and does not count.
        #expect(o.apply(.world(tick: 3, events: [.move(entityId: 9, x: 5, y: 5)]), character: "alice", peer: "bob").isEmpty)
        #expect(o.apply(.world(tick: 4, events: [appear(9, "Bob"), .move(entityId: 9, x: 5.5, y: 6)]), character: "alice", peer: "bob")
            == ["PASS saw peer Bob appear as entity 9 at (1.0, 2.0)", "PASS saw peer Bob move to (5.5, 6.0)"])
        #expect(!o.checksPassed(expecting: "bob"))
        #expect(o.apply(.world(tick: 5, events: [.chat(entityId: 9, name: "Bob", text: "yo")]), character: "alice", peer: "BOB")
            == ["PASS saw peer Bob say \"yo\""])
        #expect(o.checksPassed(expecting: "bob"))
        // Repeats earn no more lines.
        #expect(o.apply(.world(tick: 6, events: [appear(9, "Bob"), .move(entityId: 9, x: 1, y: 1), .chat(entityId: 9, name: "Bob", text: "yo")]),
                        character: "alice", peer: "bob").isEmpty)
    }

    @Test("other players' moves and chat do not pass the peer's checks")
    func strangers() {
        var o = ScenarioObservations()
        let lines = o.apply(
            .world(tick: 1, events: [appear(3, "Carol"), .move(entityId: 3, x: 1, y: 1), .chat(entityId: 3, name: "Carol", text: "x")]),
            character: "Alice", peer: "Bob")
        #expect(lines.isEmpty)
        #expect(!o.sawPeerAppear && !o.sawPeerMove && !o.sawPeerChat && !o.heardOwnChat)
    }

    @Test("corrections, refusals and the end of the connection are recorded")
    func troubles() {
        var o = ScenarioObservations()
        #expect(o.apply(.world(tick: 1, events: [.correction(seq: 4, x: 1, y: 2, reason: .moveTooFast)]), character: "a", peer: nil)
            == ["INFO move 4 corrected to (1.0, 2.0): MOVE_TOO_FAST(40)"])
        #expect(o.corrections.map { $0.seq } == [4])
        #expect(o.apply(.refused(requestOpcode: 0x31, code: .chatRateLimited), character: "a", peer: nil)
            == ["INFO server refused opcode 0x31: CHAT_RATE_LIMITED(43)"])
        _ = o.apply(.leftWorld(.ok), character: "a", peer: nil)
        #expect(o.leftWorld == .ok)
        #expect(o.closedReason == nil)
        _ = o.apply(.disconnected(code: .loggedInElsewhere, message: "bye"), character: "a", peer: nil)
        _ = o.apply(.connectionClosed, character: "a", peer: nil)
        // The DISCONNECT's reason is kept, not replaced by the close that follows it.
        #expect(o.closedReason == "DISCONNECT LOGGED_IN_ELSEWHERE(13) bye")
    }

    @Test("the walk goes straight to the target, then round a one-step square")
    func walk() {
        var walk = ScenarioWalk(from: BotPosition(x: 0, y: 0), target: BotPosition(x: 2.5, y: 0), step: 1)
        let first = walk.next()
        #expect(first.position == BotPosition(x: 1, y: 0))
        #expect(first.reached == nil)
        var positions = [first.position]
        var reached: [BotPosition] = []
        for _ in 0..<6 {
            let (position, arrived) = walk.next()
            positions.append(position)
            if let arrived { reached.append(arrived) }
        }
        #expect(positions == [
            BotPosition(x: 1, y: 0), BotPosition(x: 2, y: 0), BotPosition(x: 2.5, y: 0),
            BotPosition(x: 3.5, y: 0), BotPosition(x: 3.5, y: 1), BotPosition(x: 2.5, y: 1), BotPosition(x: 2.5, y: 0),
        ])
        #expect(reached == [BotPosition(x: 2.5, y: 0)])
        #expect(walk.target == nil)
    }

    @Test("out-of-range scenario settings are refused with the flag's message")
    func validation() throws {
        try ScenarioConfiguration(token: "t", character: "Alice").validate()
        let positive = BotConfigurationError("--timeout, --chat-every, --step-ms and --max-speed must be positive")
        #expect(throws: positive) { try ScenarioConfiguration(token: "t", character: "A", timeout: .zero).validate() }
        #expect(throws: positive) { try ScenarioConfiguration(token: "t", character: "A", grace: .seconds(-1)).validate() }
        #expect(throws: positive) { try ScenarioConfiguration(token: "t", character: "A", chatEvery: .zero).validate() }
        #expect(throws: positive) { try ScenarioConfiguration(token: "t", character: "A", stepInterval: .zero).validate() }
        #expect(throws: positive) { try ScenarioConfiguration(token: "t", character: "A", maxSpeed: 0).validate() }
        #expect(throws: BotConfigurationError("--character is longer than \(ProtocolLimits.maxCharacterNameBytes) bytes")) {
            try ScenarioConfiguration(token: "t", character: String(repeating: "a", count: ProtocolLimits.maxCharacterNameBytes + 1)).validate()
        }
        #expect(throws: BotConfigurationError("--say is longer than \(ProtocolLimits.maxChatBytes) bytes")) {
            try ScenarioConfiguration(token: "t", character: "A", say: String(repeating: "é", count: ProtocolLimits.maxChatBytes / 2 + 1)).validate()
        }
        #expect(ScenarioConfiguration(token: "t", character: "Alice").chatLine == "hello from Alice")
        #expect(ScenarioConfiguration(token: "t", character: "Alice", say: "gg").chatLine == "gg")
    }

    @Test("failures are labelled by result code so a load run can group them")
    func labels() {
        #expect(BotFormat.label(GameClientError.refused(.tokenUnknown)) == "TOKEN_UNKNOWN")
        #expect(BotFormat.label(GameClientError.disconnected(.busy, message: "full")) == "DISCONNECT BUSY")
        #expect(BotFormat.label(GameClientError.timedOut(.login)) == "TIMEOUT login")
        #expect(BotFormat.label(GameClientError.connectFailed("x")) == "CONNECT_FAILED")
        #expect(BotFormat.label(GameClientError.connectionClosed) == "CONNECTION_CLOSED")
        #expect(BotFormat.label(BotConfigurationError("plain")) == "plain")
        #expect(BotFormat.millis(Duration?.none) == "-")
        #expect(BotFormat.millis(.microseconds(12_340)) == "12.34 ms")
        #expect(Duration.milliseconds(1500).inMilliseconds == 1500)
        #expect(Duration.microseconds(250).inMilliseconds == 0.25)
        #expect(Duration.milliseconds(-1500).inSeconds == -1.5)
    }
}
