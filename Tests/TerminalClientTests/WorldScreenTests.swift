import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

@Suite("World screen")
struct WorldScreenTests {
    @Test("the title shows your name, class, zone and position")
    func title() {
        let h = Harness.inWorld()
        let frame = h.frame()
        #expect(frame.styles[0] == .title)
        #expect(frame.lines[0].contains("Arthas"))
        #expect(frame.lines[0].contains("Greenvale (zone 1)"))
        #expect(frame.lines[0].contains("(500.0, 500.0)"))
    }

    @Test("players around you are listed nearest first with position and distance")
    func nearbyPlayers() throws {
        var h = Harness.inWorld()
        h.world(.player(9, "Bob", x: 503, y: 504), .player(10, "Cid", x: 500, y: 490))
        let frame = h.frame()
        #expect(frame.contains("Nearby players (2)"))
        let bob = try #require(frame.line(containing: "Bob"))
        #expect(bob.contains("(503.0, 504.0)") && bob.contains("5.0") && bob.contains("Mage 5"))
        let cid = try #require(frame.line(containing: "Cid"))
        #expect(cid.contains("10.0") && cid.contains(" N"))
        #expect(frame.lines.firstIndex(of: bob)! < frame.lines.firstIndex(of: cid)!)

        // They move, one leaves.
        h.world(.move(entityId: 9, x: 520, y: 500), .disappear(entityId: 10), tick: 2)
        let after = h.frame()
        #expect(after.line(containing: "Bob")?.contains("(520.0, 500.0)") == true)
        #expect(after.line(containing: "Bob")?.contains("20.0") == true)
        #expect(!after.contains("Cid"))
        #expect(after.contains("Nearby players (1)"))
    }

    @Test("the map shows you in the middle and others by initial")
    func radar() throws {
        var h = Harness.inWorld()
        h.world(.player(9, "Bob", x: 510, y: 500))
        let frame = h.frame(width: 120, height: 40)
        #expect(frame.contains("Map: @ you"))
        let mapRows = frame.lines.filter { $0.contains("|") }
        #expect(mapRows.count >= 5)
        let mapRow = try #require(mapRows.first { $0.contains("@") })
        let at = mapRow.firstIndex(of: "@")!
        // 10 units east at ~2.6 units per column: 4 columns to the right, on your row.
        let b = try #require(mapRow[at...].firstIndex(of: "B"))
        #expect(mapRow.distance(from: at, to: b) == 4)
        #expect(mapRows.filter { $0.contains("B") }.count == 1)
    }

    @Test("the chat log shows the most recent lines that fit, oldest dropped")
    func chatLog() {
        var h = Harness.inWorld()
        for i in 1...40 {
            h.world(.chat(entityId: 9, name: "Bob", text: "line \(i)"), tick: UInt64(i))
        }
        let frame = h.frame(width: 100, height: 24)
        #expect(frame.contains("Bob: line 40"))
        #expect(frame.contains("Bob: line 39"))
        #expect(!frame.lines.contains("Bob: line 1"))
        // Most recent last: line 39 is drawn above line 40.
        #expect(frame.lines.firstIndex { $0.contains("line 39") }! < frame.lines.firstIndex { $0.contains("line 40") }!)
    }

    @Test("chat text cannot inject escape sequences into the terminal")
    func chatSanitized() {
        var h = Harness.inWorld()
        h.world(.chat(entityId: 9, name: "Bob", text: "\u{1B}]0;pwned\u{07}\u{1B}[2Jhello"))
        let frame = h.frame()
        #expect(frame.contains("hello"))
        #expect(!frame.text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }

    @Test("Enter opens a chat line; Enter sends it as SAY; Esc cancels")
    func chatTyping() {
        var h = Harness.inWorld()
        h.press(.enter)
        // While typing, WASD are letters, not steps.
        #expect(h.type("wasd hello", enter: false) == [])
        #expect(h.frame().contains("> wasd hello"))
        #expect(h.frame().cursor != nil)
        #expect(h.press(.enter) == [.say("wasd hello")])
        #expect(h.frame().cursor == nil)

        h.press(.character("t"))
        h.type("nope", enter: false)
        #expect(h.press(.escape) == [])
        #expect(!h.frame().contains("> nope"))
    }

    @Test("/say sends its text; unknown commands are explained, not said")
    func commands() {
        var h = Harness.inWorld()
        h.press(.character("/"))
        #expect(h.type("say hi there") == [.say("hi there")])
        h.press(.character("/"))
        #expect(h.type("dance") == [])
        #expect(h.frame().contains("Unknown command /dance"))
    }

    @Test("a key press moves one unit; held keys are limited to the server's speed")
    func keyStepsRespectSpeed() {
        var h = Harness.inWorld()
        // First press: one step east at once.
        #expect(Harness.moves(h.press(.character("d"))).map { [$0.x, $0.y] } == [[501, 500]])
        #expect(h.frame().lines[0].contains("(501.0, 500.0)"))

        // Hold "d" for 2 seconds: the terminal repeats it 30 times a second.
        var moves: [(x: Float, y: Float)] = []
        var times: [Duration] = []
        for _ in 0..<60 {
            h.now += .milliseconds(33)
            for command in h.press(.character("d")) + h.send(.tick) {
                if case .move(let x, let y) = command { moves.append((x, y)); times.append(h.now) }
            }
        }
        // At most 7 units/s: about 14 steps in 2 s, each exactly 1 unit.
        #expect(moves.count >= 12 && moves.count <= 15)
        for (a, b) in zip([(x: Float(501), y: Float(500))] + moves, moves) { #expect(b.x - a.x == 1 && b.y == a.y) }
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= .milliseconds(1000 / 7)) }

        // Released: at most one step still pending, then nothing.
        let after = Harness.moves(h.advance(.seconds(1)))
        #expect(after.count <= 1)
    }

    @Test("arrows, WASD and hjkl map to the four directions (north is smaller y)")
    func directions() {
        let cases: [(Key, Float, Float)] = [
            (.up, 500, 499), (.character("w"), 500, 499), (.character("k"), 500, 499),
            (.down, 500, 501), (.character("s"), 500, 501), (.character("j"), 500, 501),
            (.left, 499, 500), (.character("a"), 499, 500), (.character("h"), 499, 500),
            (.right, 501, 500), (.character("d"), 501, 500), (.character("l"), 501, 500),
        ]
        for (key, x, y) in cases {
            var h = Harness.inWorld()
            let moves = Harness.moves(h.press(key))
            #expect(moves.count == 1 && moves[0].x == x && moves[0].y == y, "\(key)")
        }
    }

    @Test("/move X Y walks there one unit per step over time and stops on arrival")
    func walkTo() {
        var h = Harness.inWorld()
        h.press(.character("/"))
        let first = Harness.moves(h.type("move 504.5 500"))
        #expect(first.count == 1 && first[0].x == 501)
        let rest = Harness.moves(h.advance(.seconds(2)))
        #expect(rest.map(\.x) == [502, 503, 504, 504.5])
        #expect(h.frame().contains("Arrived at (504.5, 500.0)"))
        #expect(Harness.moves(h.advance(.seconds(1))).isEmpty)
    }

    @Test("a CORRECTION snaps your position back and says why")
    func correction() {
        var h = Harness.inWorld()
        h.press(.character("d"))
        #expect(h.frame().lines[0].contains("(501.0, 500.0)"))
        h.world(.correction(seq: 1, x: 500, y: 500, reason: .moveTooFast))
        let frame = h.frame()
        #expect(frame.lines[0].contains("(500.0, 500.0)"))
        #expect(frame.contains("Position corrected: moving too fast"))
        // The next step starts from the corrected position.
        h.advance(.milliseconds(200))
        #expect(Harness.moves(h.press(.character("d"))).first?.x == 501)
    }

    @Test("an out-of-bounds correction stops a /move walk")
    func outOfBoundsStopsWalk() {
        var h = Harness.inWorld()
        h.press(.character("/"))
        h.type("move 2000 500")
        h.world(.correction(seq: 1, x: 500, y: 500, reason: .moveOutOfBounds))
        #expect(h.frame().contains("You cannot go there: edge of the zone"))
        #expect(Harness.moves(h.advance(.seconds(1))).isEmpty)
    }

    @Test("a refused SAY (chat rate limit) is shown")
    func chatRefused() {
        var h = Harness.inWorld()
        h.send(.server(.refused(requestOpcode: Opcode.say.rawValue, code: .chatRateLimited)))
        #expect(h.frame().contains("You are talking too fast"))
    }

    @Test("/leave goes back to character selection and reloads the list, once")
    func leave() {
        var h = Harness.inWorld()
        h.press(.character("/"))
        #expect(h.type("leave") == [.leaveWorld])
        #expect(h.send(.server(.leftWorld(.ok))) == [.listCharacters])
        #expect(h.model.screen == .characterSelect)
        #expect(h.send(.leftWorld) == [])  // leaveWorld()'s own answer, arriving second
        h.send(.characterList(CharacterList(maxCharacters: 8, characters: [Harness.arthas])))
        #expect(h.frame().contains("You left the world"))
        #expect(h.press(.enter) == [.enterWorld(characterId: 7)])
    }

    @Test("world events that overtake ENTER_WORLD's answer are not lost")
    func earlyEvents() {
        var h = Harness.atCharacterSelect()
        h.press(.enter)
        h.world(.player(7, "Arthas", x: 500, y: 500, classId: 1, level: 3), .player(9, "Bob", x: 502, y: 500))
        h.send(.enteredWorld(Harness.entry))
        #expect(h.frame().line(containing: "Bob")?.contains("2.0") == true)
    }

    @Test("/quit logs out and exits 0")
    func quit() {
        var h = Harness.inWorld()
        h.press(.character("/"))
        #expect(h.type("quit") == [.exit(code: 0, logout: true)])
        #expect(h.press(.character("x")) == [])  // nothing after that
    }
}
