import MMOClient
import MMOProtocol

/// Exit statuses of `mmo-client`, so a launcher can tell why the game ended.
public enum ExitStatus {
    /// The player quit.
    public static let ok: Int32 = 0
    /// Anything else that went wrong (bad arguments, an unexpected error).
    public static let failure: Int32 = 1
    /// The server refused the login (expired, unknown or malformed token, banned account).
    public static let loginRefused: Int32 = 2
    /// The server ended the session: logged in elsewhere, shutting down, idle timeout, ...
    public static let disconnected: Int32 = 3
    /// The server could not be reached, or the connection was lost without a goodbye.
    public static let connectionLost: Int32 = 4
}

/// A request the shell was asked to make (names which one failed in `ClientInput.failed`).
public enum ClientRequest: Equatable, Sendable {
    case connect, login, listCharacters, createCharacter, deleteCharacter, enterWorld, leaveWorld, move, say
}

/// Everything that can happen to the client: what the player typed, what the server answered
/// or sent on its own, and the passing of time.
public enum ClientInput: Sendable {
    /// A key press (full-screen mode).
    case key(Key)
    /// A whole typed line (plain mode, or a test).
    case line(String)
    /// Standard input ended (plain mode): quit after the lines already queued.
    case endOfInput
    /// Time passed (the shell sends this ~20 times a second): walking, key repeat, messages.
    case tick
    /// The process was asked to stop (SIGTERM, SIGHUP): log out and exit with `code`.
    case terminate(code: Int32)

    // Answers to `ClientCall`s.
    case connected(serverVersion: UInt16)
    case loggedIn(LoginResult)
    case characterList(CharacterList)
    case characterCreated(CharacterSummary)
    case characterDeleted(id: UInt64)
    case enteredWorld(WorldEntry)
    /// `leaveWorld()` returned (LEFT_WORLD OK); the `.leftWorld` event may come before or after.
    case leftWorld
    case failed(ClientRequest, GameClientError)

    /// Something the server sent unasked (`GameClient.events`).
    case server(ClientEvent)
}

/// What the model asks the shell to do.
public enum ClientCall: Equatable, Sendable {
    /// Open the connection (answer: `.connected` or `.failed(.connect, ...)`).
    case connect
    /// LOGIN with the session token the shell holds (the model never sees it).
    case login
    case listCharacters
    case createCharacter(name: String, classId: UInt8, appearance: UInt32)
    case deleteCharacter(id: UInt64)
    case enterWorld(characterId: UInt64)
    case leaveWorld
    case move(x: Float, y: Float)
    case say(String)
    /// Stop: log out first when `logout` (the connection is healthy), restore the terminal and
    /// exit with `code`.
    case exit(code: Int32, logout: Bool)
}

/// The game client's whole user interface as a pure state machine: inputs in (`handle`),
/// commands out, and a frame for any terminal size (`render`). No I/O, no clocks (time comes
/// with each input), so every screen and flow is unit-tested without sockets or terminals.
///
/// Screens: connecting and logging in; character selection (list, create, delete, enter);
/// the world (you, players around you, chat, status); and a final screen with the reason when
/// the session ends. In `.plain` mode the same flows produce a line-by-line transcript
/// (`takeTranscript()`) instead of frames, and typed lines instead of key presses drive it.
public struct ClientScreenModel: Sendable {
    /// How the player sees and drives the client.
    public enum Mode: Equatable, Sendable {
        /// Raw-mode terminal: keys in, whole-screen frames out.
        case fullScreen
        /// Lines in (stdin), lines out (stdout): for scripts, screen readers, dumb terminals.
        case plain
    }

    /// Which screen is showing.
    public enum Screen: Equatable, Sendable {
        case connecting, loggingIn, characterSelect, enteringWorld, inWorld, leavingWorld, exiting, ended
    }

    /// Tunables; the defaults match the server's defaults.
    public struct Settings: Sendable {
        /// The server's walking speed limit, units per second (world.maxSpeed, default 7).
        public var maxSpeed: Float = 7
        /// Units per step: one key press moves this far.
        public var stepSize: Float = 1
        /// Lines kept in the chat log.
        public var logLimit = 200
        /// How long a status message stays.
        public var statusDuration: Duration = .seconds(5)
        /// The defaults: the server's default speed limit, 1-unit steps.
        public init() {}
    }

    /// Why the session ended, shown on the final screen.
    public struct Ending: Equatable, Sendable {
        /// A heading ("Disconnected", "Cannot log in").
        public var title: String
        /// What happened and what to do, in the player's words.
        public var message: String
        /// The exit status (`ExitStatus`).
        public var code: Int32
    }

    /// A line of the world screen's log.
    public struct LogLine: Equatable, Sendable {
        /// Chat from players, the client's own notes, or problems.
        public enum Kind: Equatable, Sendable { case chat, system, error }
        /// What sort of line it is (decides its style).
        public var kind: Kind
        /// The line as shown ("Bob: hello").
        public var text: String
    }

    /// A transient message on the status line.
    public struct Status: Equatable, Sendable {
        /// The message.
        public var text: String
        public var style: ScreenFrame.Style
        var until: Duration?
    }

    /// A text field being typed into (full-screen mode).
    struct LineEditor: Equatable, Sendable {
        var prompt: String
        var text: String = ""
        var maxBytes: Int = 256
    }

    /// What the character selection screen is doing.
    enum SelectMode: Equatable, Sendable {
        case browsing
        case creating(CreateForm)
        case confirmingDelete(CharacterSummary)
        /// A request is out; `String` says which ("Creating Alice...").
        case waiting(String)
    }

    /// The character being created, filled in step by step.
    struct CreateForm: Equatable, Sendable {
        enum Step: Equatable, Sendable { case name, characterClass, appearance }
        var step: Step = .name
        var name: String?
        var classId: UInt8?
        var appearance: UInt32?
    }

    /// The world session: your character, what you see, your movement.
    public struct WorldState: Sendable {
        /// The character playing.
        public var character: CharacterSummary
        /// ENTER_WORLD's answer: entity id, zone, start position.
        public var entry: WorldEntry
        /// Everything seen: you, the players around, chat.
        public var view: WorldView
        /// The chat log: chat lines and the client's notes, oldest first.
        public var log: [LogLine] = []
        /// Where `/move x y` is walking to.
        public var walkTarget: (x: Float, y: Float)?
        /// A key step waiting for the speed limit to allow it (only the latest one is kept, so
        /// releasing a held key stops at once).
        var pendingStep: Direction?
        var lastStepAt: Duration?
        /// MOVEs sent since entering.
        public var movesSent = 0
        /// CORRECTIONs received since entering.
        public var corrections = 0
        /// The connection dropped and the SDK is resuming the character: steps wait.
        public var reconnecting = false
        /// Times the character was resumed (or entered again) after a drop.
        public var resumes = 0
    }

    /// A step direction; north is up on the screen, towards smaller y.
    public enum Direction: Equatable, Sendable {
        case north, south, west, east
        var delta: (dx: Float, dy: Float) {
            switch self {
            case .north: (0, -1)
            case .south: (0, 1)
            case .west: (-1, 0)
            case .east: (1, 0)
            }
        }
    }

    enum PendingLine: Equatable, Sendable {
        case line(String)
        case end
    }

    // MARK: state

    public let mode: Mode
    /// Tunables (speed limit, step size, log length).
    public let settings: Settings
    /// "host:port", for messages.
    public let server: String
    /// The screen showing now.
    public internal(set) var screen: Screen = .connecting
    /// Protocol version from HELLO_ACK, once connected.
    public internal(set) var serverVersion: UInt16?
    /// The account, once logged in.
    public internal(set) var account: LoginResult?
    /// The account's characters, as last listed (plus created, minus deleted).
    public internal(set) var characters: [CharacterSummary] = []
    /// The account's character slots.
    public internal(set) var maxCharacters = 0
    /// Index into `characters` of the highlighted row.
    public internal(set) var selectedIndex = 0
    /// The world session while in the world.
    public internal(set) var world: WorldState?
    /// Why the session ended, once it has.
    public internal(set) var ending: Ending?
    /// The status line's message, if one is showing.
    public internal(set) var status: Status?
    var selectMode: SelectMode = .browsing
    var editor: LineEditor?
    /// The form of the create request in flight, remembered so a refusal re-asks only the
    /// field that was wrong.
    var lastCreateForm: CreateForm?
    /// The character ENTER_WORLD was sent for.
    var entering: CharacterSummary?
    /// World events that arrived before ENTER_WORLD's answer reached the model (the events
    /// stream and the request's answer travel separately).
    var earlyEvents: [ClientEvent] = []
    /// Why the SDK could not resume after a drop; the session ends with it.
    var resumeFailure: GameClientError?
    /// True from a successful connect until the connection ends.
    var connected = false
    var transcript: [String] = []
    var pendingLines: [PendingLine] = []
    var sleepUntil: Duration?
    /// The time of the latest input.
    var now: Duration = .zero

    public init(server: String, mode: Mode = .fullScreen, settings: Settings = Settings()) {
        self.server = server
        self.mode = mode
        self.settings = settings
    }

    /// Time between steps so walking stays at the server's speed limit.
    var stepInterval: Duration {
        .milliseconds(Int64((Double(settings.stepSize) / Double(settings.maxSpeed) * 1000).rounded(.up)))
    }

    // MARK: driving

    /// The first commands: connect.
    public mutating func start(now: Duration = .zero) -> [ClientCall] {
        self.now = now
        screen = .connecting
        say("Connecting to \(server)...")
        return [.connect]
    }

    /// Feeds one input; returns what the shell must do, in order.
    public mutating func handle(_ input: ClientInput, now: Duration) -> [ClientCall] {
        self.now = max(self.now, now)
        expireStatus()
        var commands: [ClientCall]
        switch input {
        case .key(let key): commands = handleKey(key)
        case .line(let line):
            pendingLines.append(.line(line))
            commands = []
        case .endOfInput:
            if mode == .fullScreen {
                // The terminal is gone (hang-up): nobody can press a key any more.
                commands = quit(code: ending?.code ?? ExitStatus.ok)
            } else {
                pendingLines.append(.end)
                commands = []
            }
        case .tick:
            if let until = sleepUntil, self.now >= until { sleepUntil = nil }
            commands = worldTick()
        case .terminate(let code):
            commands = quit(code: code)
        case .connected(let version):
            commands = connectedToServer(version: version)
        case .loggedIn(let result):
            commands = loggedIn(result)
        case .characterList(let list): commands = received(list)
        case .characterCreated(let character): commands = created(character)
        case .characterDeleted(let id): commands = deleted(id: id)
        case .enteredWorld(let entry): commands = enteredWorld(entry)
        case .leftWorld: commands = leftWorld(code: .ok)
        case .failed(let request, let error): commands = failed(request, error)
        case .server(let event): commands = serverEvent(event)
        }
        commands += drainPendingLines()
        return commands
    }

    /// Lines printed since the last call (plain mode prints them; full-screen mode drops them).
    public mutating func takeTranscript() -> [String] {
        defer { transcript.removeAll() }
        return transcript
    }

    /// True while a request is outstanding, so queued lines wait for its answer (a script's
    /// "create, then enter" must not race the server).
    var isBusy: Bool {
        switch screen {
        case .connecting, .loggingIn, .enteringWorld, .leavingWorld, .exiting, .ended: return true
        case .characterSelect:
            if case .waiting = selectMode { return true }
            return false
        case .inWorld: return sleepUntil != nil
        }
    }

    private mutating func drainPendingLines() -> [ClientCall] {
        var commands: [ClientCall] = []
        while !pendingLines.isEmpty && !isBusy && sleepUntil == nil {
            switch pendingLines.removeFirst() {
            case .line(let line):
                commands += submit(line)
            case .end:
                pendingLines.removeAll()
                commands += quit(code: ExitStatus.ok)
            }
        }
        return commands
    }

    // MARK: messages

    /// A line for the plain transcript.
    mutating func say(_ line: String) {
        transcript.append(line)
        if transcript.count > 1000 { transcript.removeFirst(transcript.count - 1000) }  // nobody drains it
    }

    /// Sets the status line (and prints it in plain mode).
    mutating func setStatus(_ text: String, _ style: ScreenFrame.Style = .plain, sticky: Bool = false) {
        status = Status(text: text, style: style, until: sticky ? nil : now + settings.statusDuration)
        say(style == .alert ? "! \(text)" : text)
    }

    private mutating func expireStatus() {
        if let until = status?.until, now >= until { status = nil }
    }

    // MARK: connection and login

    private mutating func connectedToServer(version: UInt16) -> [ClientCall] {
        guard screen == .connecting else { return [] }
        connected = true
        serverVersion = version
        screen = .loggingIn
        say("Connected (protocol v\(version)). Logging in...")
        return [.login]
    }

    private mutating func loggedIn(_ result: LoginResult) -> [ClientCall] {
        guard screen == .loggingIn else { return [] }
        account = result
        screen = .characterSelect
        selectMode = .waiting("Loading your characters...")
        say("Logged in as \(TextLayout.sanitize(result.displayName)).")
        return [.listCharacters]
    }

    /// Ends the session with a reason. Plain mode exits at once; full-screen mode shows the
    /// reason until a key is pressed.
    mutating func end(_ title: String, _ message: String, code: Int32) -> [ClientCall] {
        guard screen != .ended, screen != .exiting else { return [] }
        connected = false
        world = nil
        editor = nil
        screen = .ended
        ending = Ending(title: title, message: message, code: code)
        status = nil
        say("\(title): \(message)")
        if mode == .plain { return [.exit(code: code, logout: false)] }
        return []
    }

    /// Quits: log out (if connected) and exit.
    mutating func quit(code: Int32) -> [ClientCall] {
        switch screen {
        case .exiting: return []
        case .ended: return [.exit(code: ending?.code ?? code, logout: false)]
        default:
            let logout = connected
            screen = .exiting
            editor = nil
            connected = false
            say("Goodbye.")
            return [.exit(code: code, logout: logout)]
        }
    }

    /// A request failed. Connection-level errors end the session whatever the request was.
    private mutating func failed(_ request: ClientRequest, _ error: GameClientError) -> [ClientCall] {
        switch error {
        case .disconnected(let code, let message):
            return end("Disconnected", Messages.disconnected(code, message: message), code: ExitStatus.disconnected)
        case .connectionClosed, .protocolViolation:
            return end("Connection lost", Messages.error(error, server: server), code: ExitStatus.connectionLost)
        default:
            break
        }
        switch request {
        case .connect:
            return end("Cannot connect", Messages.error(error, server: server), code: ExitStatus.connectionLost)
        case .login:
            if case .refused(let code, _) = error {
                return end("Cannot log in", Messages.loginRefused(code), code: ExitStatus.loginRefused)
            }
            // Not a refusal (a timeout, ...): the token may be fine, so not "login refused".
            return end("Cannot log in", Messages.error(error, server: server), code: ExitStatus.connectionLost)
        case .listCharacters, .createCharacter, .deleteCharacter, .enterWorld:
            return characterRequestFailed(request, error)
        case .leaveWorld:
            return leaveFailed(error)
        case .move, .say:
            setStatus(Messages.error(error, server: server), .alert)
            return []
        }
    }

    private mutating func serverEvent(_ event: ClientEvent) -> [ClientCall] {
        switch event {
        case .world:
            switch screen {
            case .inWorld, .leavingWorld: return applyWorld(event)
            case .enteringWorld: earlyEvents.append(event)
            default: break
            }
            return []
        case .leftWorld(let code):
            return leftWorld(code: code)
        case .refused(let opcode, let code):
            let message = Messages.refusedMessage(opcode: opcode, code: code)
            if world != nil { world!.appendLog(LogLine(kind: .error, text: message), limit: settings.logLimit) }
            setStatus(message, .alert)
            return []
        case .disconnected(let code, let message):
            return end("Disconnected", Messages.disconnected(code, message: message), code: ExitStatus.disconnected)
        case .connectionClosed:
            if let failure = resumeFailure {
                return end("Connection lost", Messages.resumeFailed(failure, server: server), code: ExitStatus.connectionLost)
            }
            return end("Connection lost", "The connection to the server was lost", code: ExitStatus.connectionLost)
        case .reconnecting, .resumed, .reentered, .viewReset:
            return reconnectEvent(event)
        case .resumeFailed(let reason):
            resumeFailure = reason
            world?.reconnecting = false
            return []
        }
    }

    // MARK: keys and lines

    private mutating func handleKey(_ key: Key) -> [ClientCall] {
        if key == .control("c") || (key == .control("d") && editor == nil) {
            return quit(code: ExitStatus.ok)
        }
        if screen == .ended { return quit(code: ending?.code ?? ExitStatus.failure) }  // any key leaves
        if editor != nil { return editKey(key) }
        switch screen {
        case .characterSelect: return selectKey(key)
        case .inWorld: return worldKey(key)
        default: return []
        }
    }

    /// Keys while a text field is open.
    private mutating func editKey(_ key: Key) -> [ClientCall] {
        guard var field = editor else { return [] }
        switch key {
        case .character(let character):
            let candidate = field.text + String(character)
            if candidate.utf8.count <= field.maxBytes { field.text = candidate }
        case .backspace:
            if !field.text.isEmpty { field.text.removeLast() }
        case .control("u"):
            field.text = ""
        case .control("w"):
            // Delete back to the previous word, as shells do.
            while field.text.last == " " { field.text.removeLast() }
            while let last = field.text.last, last != " " { _ = last; field.text.removeLast() }
        case .enter:
            editor = nil
            return submit(field.text)
        case .escape:
            editor = nil
            return cancelEditing()
        default:
            break
        }
        editor = field
        return []
    }

    /// Opens a text field (full-screen) or prints the prompt (plain).
    mutating func prompt(_ text: String, maxBytes: Int = 256, initial: String = "") {
        if mode == .fullScreen {
            editor = LineEditor(prompt: text, text: initial, maxBytes: maxBytes)
        } else {
            say(text)
        }
    }

    /// A typed line, from a text field or from plain mode's stdin.
    mutating func submit(_ line: String) -> [ClientCall] {
        switch screen {
        case .characterSelect: return selectLine(line)
        case .inWorld: return worldLine(line)
        default: return []
        }
    }

    private mutating func cancelEditing() -> [ClientCall] {
        switch screen {
        case .characterSelect: return cancelSelectInput()
        default: return []
        }
    }
}
