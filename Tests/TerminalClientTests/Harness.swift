import MMOClient
import MMOProtocol
@testable import TerminalClient

/// Drives a `ClientScreenModel` the way the shell does, with a fake clock, and records every
/// command it asks for.
struct Harness {
    var model: ClientScreenModel
    var now: Duration = .zero
    var sent: [ClientCall] = []

    static let arthas = CharacterSummary(id: 7, name: "Arthas", classId: 1, appearance: 0, level: 3, zoneId: 1, x: 500, y: 500)
    static let jaina = CharacterSummary(id: 8, name: "Jaina", classId: 2, appearance: 0, level: 12, zoneId: 1, x: 420.5, y: 610)
    static let entry = WorldEntry(entityId: 7, zoneId: 1, x: 500, y: 500, tickRateHz: 20)

    init(mode: ClientScreenModel.Mode = .fullScreen, settings: ClientScreenModel.Settings = .init()) {
        model = ClientScreenModel(server: "127.0.0.1:7777", mode: mode, settings: settings)
        sent = model.start(now: now)
    }

    /// Connected, logged in and shown `characters`.
    static func atCharacterSelect(_ characters: [CharacterSummary] = [arthas, jaina], mode: ClientScreenModel.Mode = .fullScreen) -> Harness {
        var h = Harness(mode: mode)
        h.send(.connected(serverVersion: 1))
        h.send(.loggedIn(LoginResult(code: .ok, accountId: "u1", displayName: "Ann")))
        h.send(.characterList(CharacterList(maxCharacters: 8, characters: characters)))
        return h
    }

    /// In the world as Arthas at (500, 500), having seen its own APPEAR.
    static func inWorld(mode: ClientScreenModel.Mode = .fullScreen) -> Harness {
        var h = atCharacterSelect(mode: mode)
        if mode == .plain { h.send(.line("1")) } else { h.press(.enter) }
        h.send(.enteredWorld(entry))
        h.world(.appear(.init(entityId: 7, name: "Arthas", classId: 1, appearance: 0, level: 3, x: 500, y: 500)))
        h.sent.removeAll()
        return h
    }

    @discardableResult
    mutating func send(_ input: ClientInput) -> [ClientCall] {
        let commands = model.handle(input, now: now)
        sent += commands
        return commands
    }

    @discardableResult
    mutating func press(_ key: Key) -> [ClientCall] { send(.key(key)) }

    /// Presses each character's key, then Enter.
    @discardableResult
    mutating func type(_ text: String, enter: Bool = true) -> [ClientCall] {
        var commands: [ClientCall] = []
        for character in text { commands += press(.character(character)) }
        if enter { commands += press(.enter) }
        return commands
    }

    /// One WORLD_UPDATE with these events.
    @discardableResult
    mutating func world(_ events: WorldEvent..., tick: UInt64 = 1) -> [ClientCall] {
        send(.server(.world(tick: tick, events: events)))
    }

    /// Lets `duration` pass in ticks of 50 ms, as the shell does.
    @discardableResult
    mutating func advance(_ duration: Duration, tick: Duration = .milliseconds(50)) -> [ClientCall] {
        var commands: [ClientCall] = []
        let end = now + duration
        while now < end {
            now += tick
            commands += send(.tick)
        }
        return commands
    }

    func frame(width: Int = 100, height: Int = 30) -> ScreenFrame { model.render(width: width, height: height) }

    /// The MOVE commands among `commands`.
    static func moves(_ commands: [ClientCall]) -> [(x: Float, y: Float)] {
        commands.compactMap { if case .move(let x, let y) = $0 { (x, y) } else { nil } }
    }
}

extension WorldEvent {
    static func player(_ id: UInt64, _ name: String, x: Float, y: Float, classId: UInt8 = 2, level: UInt16 = 5) -> WorldEvent {
        .appear(.init(entityId: id, name: name, classId: classId, appearance: 0, level: level, x: x, y: y))
    }
}
