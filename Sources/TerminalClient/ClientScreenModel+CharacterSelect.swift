import MMOClient
import MMOProtocol

/// Character selection: the list, creating (name, class, appearance), deleting (type the name
/// to confirm) and entering the world.
extension ClientScreenModel {
    static let selectHelp = [
        "Character selection commands:",
        "  N or /enter N          play character number N (or type its name)",
        "  /create [NAME [CLASS [SKIN FACE HAIR COLOUR]]]   create a character (missing parts are asked)",
        "  /delete N              delete character N (asks you to type its name)",
        "  /refresh               reload the list",
        "  /wait SECONDS          pause before the next line (scripts)",
        "  /quit                  log out and exit",
    ]

    static let classPrompt = "Class: " + Messages.classes.map { "\($0.id) \($0.name)" }.joined(separator: ", ") + " [1]:"
    static let appearancePrompt = "Appearance: skin (0-7) face (0-15) hair (0-15) hair colour (0-15), e.g. \"2 5 3 7\" [0 0 0 0]:"

    // MARK: answers

    mutating func received(_ list: CharacterList) -> [ClientCall] {
        guard screen == .characterSelect else { return [] }
        characters = list.characters
        maxCharacters = list.maxCharacters
        selectedIndex = min(selectedIndex, max(0, characters.count - 1))
        if case .waiting = selectMode { selectMode = .browsing }
        printList()
        return []
    }

    mutating func created(_ character: CharacterSummary) -> [ClientCall] {
        guard screen == .characterSelect else { return [] }
        characters.append(character)
        selectedIndex = characters.count - 1
        selectMode = .browsing
        let enter = mode == .plain ? "type \(characters.count) to play" : "press Enter to play"
        setStatus("Created \(character.name), \(Messages.className(character.classId)): \(enter)", .good)
        return []
    }

    mutating func deleted(id: UInt64) -> [ClientCall] {
        guard screen == .characterSelect else { return [] }
        let name = characters.first { $0.id == id }?.name ?? "the character"
        characters.removeAll { $0.id == id }
        selectedIndex = min(selectedIndex, max(0, characters.count - 1))
        selectMode = .browsing
        setStatus("Deleted \(name).", .good)
        return []
    }

    /// A list, create, delete or enter request was refused (connection errors are handled
    /// before this).
    mutating func characterRequestFailed(_ request: ClientRequest, _ error: GameClientError) -> [ClientCall] {
        guard screen == .characterSelect || screen == .enteringWorld else { return [] }
        guard case .refused(let code, let detail) = error else {
            selectMode = .browsing
            screen = .characterSelect
            setStatus(Messages.error(error, server: server), .alert)
            return []
        }
        switch request {
        case .createCharacter:
            guard case .waiting = selectMode, let form = lastCreateForm else {
                selectMode = .browsing
                return []
            }
            let message = Messages.createRefused(code, detail: detail, maxCharacters: maxCharacters)
            var retry = form
            switch code {
            case .nameInvalid, .nameTaken:
                retry.name = nil
                retry.step = .name
            case .classInvalid:
                retry.classId = nil
                retry.step = .characterClass
            case .appearanceInvalid:
                retry.appearance = nil
                retry.step = .appearance
            default:
                selectMode = .browsing
                setStatus(message, .alert, sticky: true)
                return []
            }
            setStatus(message, .alert, sticky: true)
            selectMode = .creating(retry)
            promptCreateStep(retry)
            return []
        case .enterWorld:
            screen = .characterSelect
            selectMode = .browsing
            entering = nil
            earlyEvents.removeAll()
            setStatus(Messages.enterRefused(code), .alert, sticky: true)
            return code == .characterNotFound ? reload() : []
        case .deleteCharacter:
            selectMode = .browsing
            let message = code == .characterNotFound ? "That character no longer exists" : Messages.serverProblem(code)
            setStatus(message, .alert, sticky: true)
            return code == .characterNotFound ? reload() : []
        default:
            selectMode = .browsing
            setStatus("Cannot load your characters: " + Messages.serverProblem(code) + " (press r to retry)", .alert, sticky: true)
            return []
        }
    }

    // MARK: keys (full-screen)

    mutating func selectKey(_ key: Key) -> [ClientCall] {
        guard case .browsing = selectMode else { return [] }
        switch key {
        case .up, .character("k"), .character("w"):
            if selectedIndex > 0 { selectedIndex -= 1 }
        case .down, .character("j"), .character("s"):
            if selectedIndex + 1 < characters.count { selectedIndex += 1 }
        case .home: selectedIndex = 0
        case .end: selectedIndex = max(0, characters.count - 1)
        case .character(let c) where c.isWholeNumber:
            guard let n = c.wholeNumberValue, n >= 1, n <= characters.count else {
                setStatus("There is no character \(c).", .alert)
                return []
            }
            selectedIndex = n - 1
        case .enter:
            guard characters.indices.contains(selectedIndex) else {
                return startCreate(arguments: [])
            }
            return enter(characters[selectedIndex])
        case .character("c"), .character("n"), .insert:
            return startCreate(arguments: [])
        case .character("d"), .delete:
            guard characters.indices.contains(selectedIndex) else { return [] }
            return startDelete(characters[selectedIndex])
        case .character("r"):
            return reload()
        case .character("q"):
            return quit(code: ExitStatus.ok)
        case .character("/"):
            prompt("Command (/help):", initial: "/")
        case .character("?"):
            setStatus("Keys: Up/Down select, Enter play, c create, d delete, r refresh, / command, q quit")
        default:
            break
        }
        return []
    }

    mutating func cancelSelectInput() -> [ClientCall] {
        switch selectMode {
        case .creating:
            selectMode = .browsing
            setStatus("Character creation cancelled.")
        case .confirmingDelete(let character):
            selectMode = .browsing
            setStatus("\(character.name) was not deleted.")
        default:
            break
        }
        return []
    }

    // MARK: lines (plain mode, and text fields)

    mutating func selectLine(_ line: String) -> [ClientCall] {
        let text = line.trimmingSpaces
        switch selectMode {
        case .waiting:
            return []
        case .creating(let form):
            return createInput(text, form: form)
        case .confirmingDelete(let character):
            selectMode = .browsing
            guard text.lowercased() == character.name.lowercased() else {
                setStatus("\(character.name) was not deleted" + (text.isEmpty ? "." : ": the name did not match."))
                return []
            }
            selectMode = .waiting("Deleting \(character.name)...")
            say("Deleting \(character.name)...")
            return [.deleteCharacter(id: character.id)]
        case .browsing:
            return selectCommand(text)
        }
    }

    private mutating func selectCommand(_ text: String) -> [ClientCall] {
        guard !text.isEmpty else { return [] }
        let words = text.split(separator: " ").map(String.init)
        var verb = words[0].lowercased()
        if verb.hasPrefix("/") { verb.removeFirst() }
        let arguments = Array(words.dropFirst())
        if let n = Int(verb) { return enterNumber(n) }
        switch verb {
        case "enter", "play", "e":
            guard let first = arguments.first else { return enterNumber(selectedIndex + 1) }
            if let n = Int(first) { return enterNumber(n) }
            return enterNamed(first)
        case "create", "new", "c":
            return startCreate(arguments: arguments)
        case "delete", "del", "d":
            guard let first = arguments.first else {
                setStatus("Which one? /delete N", .alert)
                return []
            }
            let target = Int(first).flatMap { characters.indices.contains($0 - 1) ? characters[$0 - 1] : nil }
                ?? characters.first { $0.name.lowercased() == first.lowercased() }
            guard let target else {
                setStatus("There is no character \(first).", .alert)
                return []
            }
            return startDelete(target)
        case "refresh", "list", "r", "l":
            return reload()
        case "quit", "exit", "q", "logout":
            return quit(code: ExitStatus.ok)
        case "help", "h", "?":
            for line in Self.selectHelp { say(line) }
            if mode == .fullScreen { setStatus("Keys: Up/Down select, Enter play, c create, d delete, r refresh, / command, q quit") }
            return []
        case "wait", "sleep":
            return wait(arguments)
        default:
            if words.count == 1, characters.contains(where: { $0.name.lowercased() == verb }) { return enterNamed(verb) }
            setStatus("Unknown command \"\(TextLayout.sanitize(text))\": type /help", .alert)
            return []
        }
    }

    /// `/wait SECONDS`: holds back the following lines (scripts wait for the world to happen).
    mutating func wait(_ arguments: [String]) -> [ClientCall] {
        guard let seconds = arguments.first.flatMap(Double.init), seconds >= 0, seconds <= 3600 else {
            setStatus("Usage: /wait SECONDS", .alert)
            return []
        }
        sleepUntil = now + .milliseconds(Int64(seconds * 1000))
        return []
    }

    private mutating func enterNumber(_ n: Int) -> [ClientCall] {
        guard characters.indices.contains(n - 1) else {
            setStatus(characters.isEmpty ? "You have no characters yet: /create one." : "There is no character \(n): choose 1-\(characters.count).", .alert)
            return []
        }
        selectedIndex = n - 1
        return enter(characters[n - 1])
    }

    private mutating func enterNamed(_ name: String) -> [ClientCall] {
        guard let index = characters.firstIndex(where: { $0.name.lowercased() == name.lowercased() }) else {
            setStatus("You have no character named \(TextLayout.sanitize(name)).", .alert)
            return []
        }
        return enterNumber(index + 1)
    }

    mutating func enter(_ character: CharacterSummary) -> [ClientCall] {
        screen = .enteringWorld
        entering = character
        earlyEvents.removeAll()
        status = nil
        say("Entering the world as \(character.name)...")
        return [.enterWorld(characterId: character.id)]
    }

    mutating func reload() -> [ClientCall] {
        selectMode = .waiting("Loading your characters...")
        return [.listCharacters]
    }

    private mutating func startDelete(_ character: CharacterSummary) -> [ClientCall] {
        selectMode = .confirmingDelete(character)
        let question = "Delete \(character.name) (\(Messages.className(character.classId)), level \(character.level))? This cannot be undone."
        if mode == .plain { say(question) }
        prompt("Type \(character.name) to delete it, anything else keeps it:", maxBytes: 64)
        return []
    }

    // MARK: creating

    /// Starts the create form; `/create Name class skin face hair colour` fills it from words.
    mutating func startCreate(arguments: [String]) -> [ClientCall] {
        var form = CreateForm()
        if let name = arguments.first { form.name = name }
        if arguments.count >= 2 {
            guard let id = Messages.classId(parsing: arguments[1]) else {
                setStatus("Unknown class \"\(TextLayout.sanitize(arguments[1]))\".", .alert)
                return []
            }
            form.classId = id
        }
        if arguments.count >= 3 {
            switch Self.parseAppearance(arguments[2...].joined(separator: " ")) {
            case .success(let value): form.appearance = value
            case .failure(let problem):
                setStatus(problem.message, .alert)
                return []
            }
        }
        if mode == .plain && form.name == nil { say("New character (an empty name cancels).") }
        return advance(form)
    }

    /// Asks for the next missing field, or sends the request when nothing is missing.
    private mutating func advance(_ form: CreateForm) -> [ClientCall] {
        var form = form
        if form.name == nil {
            form.step = .name
        } else if form.classId == nil {
            form.step = .characterClass
        } else if form.appearance == nil {
            form.step = .appearance
        } else {
            let name = form.name!
            selectMode = .waiting("Creating \(name)...")
            lastCreateForm = form
            say("Creating \(name)...")
            return [.createCharacter(name: name, classId: form.classId!, appearance: form.appearance!)]
        }
        selectMode = .creating(form)
        promptCreateStep(form)
        return []
    }

    mutating func promptCreateStep(_ form: CreateForm) {
        switch form.step {
        case .name: prompt("Name (3-16 letters; empty cancels):", maxBytes: ProtocolLimits.maxCharacterNameBytes)
        case .characterClass: prompt(Self.classPrompt, maxBytes: 32)
        case .appearance: prompt(Self.appearancePrompt, maxBytes: 64)
        }
    }

    private mutating func createInput(_ text: String, form: CreateForm) -> [ClientCall] {
        var form = form
        switch form.step {
        case .name:
            guard !text.isEmpty else { return cancelSelectInput() }
            // The server judges the name (and explains a refusal); only the wire limit is
            // checked here, because the SDK would refuse to send a longer one.
            guard text.utf8.count <= ProtocolLimits.maxCharacterNameBytes else {
                setStatus("That name is far too long: 3-16 letters.", .alert)
                promptCreateStep(form)
                return []
            }
            form.name = text
        case .characterClass:
            if text.isEmpty {
                form.classId = 1
            } else if let id = Messages.classId(parsing: text) {
                form.classId = id
            } else {
                setStatus("Choose a class: 1-4 or its name.", .alert)
                promptCreateStep(form)
                return []
            }
        case .appearance:
            switch Self.parseAppearance(text) {
            case .success(let value): form.appearance = value
            case .failure(let problem):
                setStatus(problem.message, .alert)
                promptCreateStep(form)
                return []
            }
        }
        return advance(form)
    }

    struct AppearanceProblem: Error, Equatable {
        var message: String
    }

    /// "skin face hair colour" (missing ones are 0) packed as the protocol wants: four bytes,
    /// least significant first. Ranges are the protocol's (docs/protocol.md).
    static func parseAppearance(_ text: String) -> Result<UInt32, AppearanceProblem> {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard parts.count <= 4 else { return .failure(AppearanceProblem(message: "At most four numbers: skin face hair colour.")) }
        let limits: [(String, Int)] = [("skin", 7), ("face", 15), ("hair", 15), ("hair colour", 15)]
        var packed: UInt32 = 0
        for (index, part) in parts.enumerated() {
            let (what, max) = limits[index]
            guard let value = Int(part), (0...max).contains(value) else {
                return .failure(AppearanceProblem(message: "\(what.prefix(1).uppercased() + what.dropFirst()) must be 0-\(max)."))
            }
            packed |= UInt32(value) << (8 * UInt32(index))
        }
        return .success(packed)
    }

    // MARK: plain output

    mutating func printList() {
        guard mode == .plain else { return }
        say("Characters (\(characters.count) of \(maxCharacters) slots):")
        if characters.isEmpty { say("  (none yet)") }
        for (index, character) in characters.enumerated() {
            say("  \(index + 1)) \(Self.describe(character))")
        }
        say(characters.isEmpty ? "Type /create to make one, /help for commands." : "Type a number to play, /create, /delete N, /help.")
    }

    static func describe(_ character: CharacterSummary) -> String {
        "\(character.name)  \(Messages.className(character.classId))  level \(character.level)  \(Messages.zoneName(character.zoneId)) \(TextLayout.position(character.x, character.y))"
    }
}
