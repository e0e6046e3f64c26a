import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

@Suite("Character selection")
struct CharacterSelectTests {
    @Test("connect, login and list: the list shows index, name, class and level")
    func loginThenList() throws {
        var h = Harness()
        #expect(h.sent == [.connect])
        #expect(h.frame().contains("Connecting to 127.0.0.1:7777"))
        #expect(h.send(.connected(serverVersion: 1)) == [.login])
        #expect(h.frame().contains("Logging in"))
        #expect(h.send(.loggedIn(LoginResult(code: .ok, accountId: "u1", displayName: "Ann"))) == [.listCharacters])
        h.send(.characterList(CharacterList(maxCharacters: 8, characters: [Harness.arthas, Harness.jaina])))
        let frame = h.frame()
        #expect(frame.contains("signed in as Ann"))
        #expect(frame.contains("2 of 8 slots"))
        let arthas = try #require(frame.line(containing: "Arthas"))
        #expect(arthas.contains("1") && arthas.contains("Warrior") && arthas.contains(" 3 "))
        let jaina = try #require(frame.line(containing: "Jaina"))
        #expect(jaina.contains("2") && jaina.contains("Mage") && jaina.contains("12"))
        // The first row is selected.
        #expect(frame.styles[frame.lines.firstIndex(of: arthas)!] == .selected)
    }

    @Test("Down then Enter enters the world with the second character")
    func selectAndEnter() {
        var h = Harness.atCharacterSelect()
        h.press(.down)
        #expect(h.press(.enter) == [.enterWorld(characterId: 8)])
        #expect(h.model.screen == .enteringWorld)
        #expect(h.frame().contains("Entering the world as Jaina"))
    }

    @Test("create asks name, class and appearance, then sends them packed")
    func createFlow() throws {
        var h = Harness.atCharacterSelect()
        h.press(.character("c"))
        #expect(h.frame().contains("Name (3-16 letters"))
        #expect(h.type("Thrall") == [])
        #expect(h.frame().contains("Class: 1 Warrior, 2 Mage, 3 Rogue, 4 Cleric"))
        #expect(h.type("mage") == [])
        #expect(h.frame().contains("Appearance: skin"))
        #expect(h.type("1 2 3 4") == [.createCharacter(name: "Thrall", classId: 2, appearance: 0x0403_0201)])
        #expect(h.frame().contains("Creating Thrall"))
        let thrall = CharacterSummary(id: 9, name: "Thrall", classId: 2, appearance: 0x0403_0201, level: 1, zoneId: 1, x: 500, y: 500)
        h.send(.characterCreated(thrall))
        let frame = h.frame()
        #expect(frame.contains("Created Thrall"))
        let row = try #require(frame.line(containing: "Thrall"))
        #expect(frame.styles[frame.lines.firstIndex(of: row)!] == .selected)
        #expect(h.press(.enter) == [.enterWorld(characterId: 9)])
    }

    @Test("empty class and appearance take the defaults (Warrior, 0)")
    func createDefaults() {
        var h = Harness.atCharacterSelect([])
        #expect(h.frame().contains("no characters yet"))
        h.press(.character("c"))
        h.type("Thrall")
        h.type("")
        #expect(h.type("") == [.createCharacter(name: "Thrall", classId: 1, appearance: 0)])
    }

    @Test("NAME_INVALID shows the server's detail and asks only for a new name")
    func nameInvalid() throws {
        var h = Harness.atCharacterSelect()
        h.press(.character("c"))
        h.type("Xx")
        h.type("3")
        h.type("2 5")
        h.send(.failed(.createCharacter, .refused(.nameInvalid, detail: "name must be at least 3 letters")))
        let frame = h.frame()
        #expect(frame.contains("That name is not allowed: name must be at least 3 letters"))
        let message = try #require(frame.lines.firstIndex { $0.contains("name must be at least 3 letters") })
        #expect(frame.styles[message] == .alert)
        #expect(frame.contains("Name (3-16 letters"))
        // Class and appearance are kept: the new name goes straight to the server.
        #expect(h.type("Valeera") == [.createCharacter(name: "Valeera", classId: 3, appearance: 0x0502)])
    }

    @Test("NAME_TAKEN and SLOT_LIMIT say so; SLOT_LIMIT returns to the list")
    func takenAndSlots() {
        var h = Harness.atCharacterSelect()
        h.press(.character("c"))
        h.type("Arthas"); h.type(""); h.type("")
        h.send(.failed(.createCharacter, .refused(.nameTaken, detail: "that name is taken")))
        #expect(h.frame().contains("That name is taken"))
        #expect(h.frame().contains("Name (3-16 letters"))

        h.type("Uther")
        h.send(.failed(.createCharacter, .refused(.slotLimit, detail: "no free character slot (max 8)")))
        let frame = h.frame()
        #expect(frame.contains("All your character slots (8) are used: delete a character first"))
        #expect(!frame.contains("Name (3-16 letters"))
        #expect(h.press(.enter) == [.enterWorld(characterId: 7)])  // back to browsing
    }

    @Test("an appearance out of range is refused before sending, with the rule")
    func appearanceValidation() {
        var h = Harness.atCharacterSelect()
        h.press(.character("c"))
        h.type("Thrall"); h.type("1")
        #expect(h.type("9 0 0 0") == [])
        #expect(h.frame().contains("Skin must be 0-7"))
        #expect(h.frame().contains("Appearance: skin"))
        #expect(h.type("7 15 15 15") == [.createCharacter(name: "Thrall", classId: 1, appearance: 0x0F0F_0F07)])
    }

    @Test("Esc cancels creation without sending anything")
    func escapeCancels() {
        var h = Harness.atCharacterSelect()
        h.press(.character("c"))
        h.type("Thr", enter: false)
        #expect(h.press(.escape) == [])
        #expect(h.frame().contains("Character creation cancelled"))
        #expect(!h.frame().contains("Name (3-16"))
        #expect(h.sent.allSatisfy { if case .createCharacter = $0 { false } else { true } })
    }

    @Test("delete needs the character's name typed; anything else keeps it")
    func deleteConfirmation() {
        var h = Harness.atCharacterSelect()
        h.press(.character("d"))
        #expect(h.frame().contains("Delete Arthas (Warrior, level 3)? This cannot be undone."))
        #expect(h.type("y") == [])
        #expect(h.frame().contains("Arthas was not deleted"))
        #expect(h.frame().contains("Arthas"))

        h.press(.character("d"))
        #expect(h.type("arthas") == [.deleteCharacter(id: 7)])
        h.send(.characterDeleted(id: 7))
        let frame = h.frame()
        #expect(frame.contains("Deleted Arthas"))
        #expect(frame.line(containing: "Warrior") == nil)
        #expect(frame.contains("Jaina"))
    }

    @Test("a refused ENTER_WORLD returns to the list with the reason")
    func enterRefused() {
        var h = Harness.atCharacterSelect()
        h.press(.enter)
        h.send(.failed(.enterWorld, .refused(.worldFull)))
        #expect(h.model.screen == .characterSelect)
        #expect(h.frame().contains("The world is full: try again later"))
        #expect(h.press(.enter) == [.enterWorld(characterId: 7)])
    }

    @Test("typed commands work on the list too: /create with arguments, number to enter")
    func commandLine() {
        var h = Harness.atCharacterSelect()
        h.press(.character("/"))
        #expect(h.type("create Thrall rogue 1 1 1 1", enter: false) == [])
        #expect(h.frame().contains("> /create Thrall rogue 1 1 1 1"))
        #expect(h.press(.enter) == [.createCharacter(name: "Thrall", classId: 3, appearance: 0x0101_0101)])
    }

    @Test("q logs out and exits 0")
    func quit() {
        var h = Harness.atCharacterSelect()
        #expect(h.press(.character("q")) == [.exit(code: 0, logout: true)])
    }
}
