import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

@Suite("Plain (line) mode")
struct PlainModeTests {
    @Test("a script's lines wait for each answer: create, then enter, then chat")
    func scriptedSession() {
        var h = Harness(mode: .plain)
        // The whole script arrives before the server has said anything.
        for line in ["/create Thrall mage", "1 2 3 4", "1", "/say hello", "/quit"] { h.send(.line(line)) }
        #expect(h.sent == [.connect])
        h.send(.connected(serverVersion: 1))
        h.send(.loggedIn(LoginResult(code: .ok, accountId: "u1", displayName: "Ann")))
        #expect(h.send(.characterList(CharacterList(maxCharacters: 8, characters: []))) ==
                [.createCharacter(name: "Thrall", classId: 2, appearance: 0x0403_0201)])
        let thrall = CharacterSummary(id: 9, name: "Thrall", classId: 2, appearance: 0, level: 1, zoneId: 1, x: 500, y: 500)
        #expect(h.send(.characterCreated(thrall)) == [.enterWorld(characterId: 9)])
        #expect(h.send(.enteredWorld(WorldEntry(entityId: 9, zoneId: 1, x: 500, y: 500, tickRateHz: 20))) ==
                [.say("hello"), .exit(code: 0, logout: true)])
        let transcript = h.model.takeTranscript()
        #expect(transcript.contains("Logged in as Ann."))
        #expect(transcript.contains("Characters (0 of 8 slots):"))
        #expect(transcript.contains { $0.contains("Appearance: skin") })
        #expect(transcript.contains { $0.hasPrefix("You are Thrall in Greenvale (zone 1) at (500.0, 500.0).") })
    }

    @Test("the list, arrivals, chat and departures are printed as lines")
    func transcript() {
        var h = Harness.atCharacterSelect(mode: .plain)
        var lines = h.model.takeTranscript()
        #expect(lines.contains("  1) Arthas  Warrior  level 3  Greenvale (zone 1) (500.0, 500.0)"))
        #expect(lines.contains("  2) Jaina  Mage  level 12  Greenvale (zone 1) (420.5, 610.0)"))
        h.send(.line("1"))
        h.send(.enteredWorld(Harness.entry))
        h.world(.player(9, "Bob", x: 503, y: 504))
        h.world(.chat(entityId: 9, name: "Bob", text: "hi Arthas"))
        h.world(.disappear(entityId: 9))
        lines = h.model.takeTranscript()
        #expect(lines.contains("Bob (Mage 5) appears at (503.0, 504.0), 5.0 away."))
        #expect(lines.contains("[say] Bob: hi Arthas"))
        #expect(lines.contains("Bob leaves view."))
        #expect(h.model.takeTranscript().isEmpty)  // taken once
    }

    @Test("/who lists players around with distance and direction")
    func who() {
        var h = Harness.inWorld(mode: .plain)
        h.world(.player(9, "Bob", x: 500, y: 490))
        _ = h.model.takeTranscript()
        h.send(.line("/who"))
        let lines = h.model.takeTranscript()
        #expect(lines.contains("1 around you:"))
        #expect(lines.contains("  Bob (Mage 5) at (500.0, 490.0), 10.0 N"))
    }

    @Test("/wait holds the next lines back until the time has passed")
    func wait() {
        var h = Harness.inWorld(mode: .plain)
        h.send(.line("/wait 1.5"))
        #expect(h.send(.line("/say later")) == [])
        #expect(!h.advance(.seconds(1)).contains(.say("later")))
        #expect(h.advance(.seconds(1)).contains(.say("later")))
    }

    @Test("a takeover prints the reason and exits at once with status 3")
    func takeover() {
        var h = Harness.inWorld(mode: .plain)
        let commands = h.send(.server(.disconnected(code: .loggedInElsewhere, message: "")))
        #expect(commands == [.exit(code: ExitStatus.disconnected, logout: false)])
        #expect(h.model.takeTranscript().contains("Disconnected: You logged in from another place"))
    }

    @Test("end of input quits after the queued lines")
    func endOfInput() {
        var h = Harness.atCharacterSelect(mode: .plain)
        h.send(.line("1"))
        #expect(h.send(.endOfInput) == [])  // still entering the world
        #expect(h.send(.enteredWorld(Harness.entry)) == [.exit(code: 0, logout: true)])
    }

    @Test("delete asks for the name in plain mode too")
    func delete() {
        var h = Harness.atCharacterSelect(mode: .plain)
        h.send(.line("/delete 2"))
        #expect(h.model.takeTranscript().contains { $0.contains("Delete Jaina (Mage, level 12)? This cannot be undone.") })
        #expect(h.send(.line("Jaina")) == [.deleteCharacter(id: 8)])
    }
}
