import MMOClient
import MMOProtocol

/// The world: entering and leaving, what the server reports, walking and chatting.
extension ClientScreenModel {
    static let worldHelp = [
        "Keys: WASD, arrows or hjkl take a step; Enter or t chats; / starts a command; Esc cancels; Ctrl-C quits",
        "/say TEXT: chat (or just type the text after Enter)",
        "/move X Y: walk to a point; /stop: stop walking",
        "/who: players around you; /where: your position",
        "/leave: back to character selection; /quit: log out and exit",
        "/wait SECONDS: pause before the next line (scripts)",
    ]

    // MARK: entering and leaving

    mutating func enteredWorld(_ entry: WorldEntry) -> [ClientCall] {
        guard screen == .enteringWorld, let character = entering else { return [] }
        entering = nil
        var state = WorldState(character: character, entry: entry,
                               view: WorldView(entry: entry, selfName: character.name))
        state.view.chatHistoryLimit = settings.logLimit
        world = state
        screen = .inWorld
        editor = nil
        let welcome = "You are \(character.name) in \(Messages.zoneName(entry.zoneId)) at \(TextLayout.position(entry.x, entry.y))."
        world!.appendLog(LogLine(kind: .system, text: welcome), limit: settings.logLimit)
        say(welcome + (mode == .plain ? " Type /help for commands." : ""))
        setStatus(mode == .plain ? "Entered the world." : "Entered the world: WASD/arrows move, Enter chats, /help lists commands.", .good)
        let early = earlyEvents
        earlyEvents.removeAll()
        var commands: [ClientCall] = []
        for event in early { commands += applyWorld(event) }
        return commands
    }

    /// LEFT_WORLD, as the answer to `/leave` (OK) or because the server removed the character.
    mutating func leftWorld(code: ResultCode) -> [ClientCall] {
        guard screen == .inWorld || screen == .leavingWorld else { return [] }
        world = nil
        editor = nil
        screen = .characterSelect
        if code == .ok {
            setStatus("You left the world.")
        } else {
            setStatus(Messages.removedFromWorld(code), .alert, sticky: true)
        }
        return reload()
    }

    mutating func leaveFailed(_ error: GameClientError) -> [ClientCall] {
        guard screen == .leavingWorld else { return [] }
        if case .refused(let code, _) = error, code != .busy {
            // LEFT_WORLD with a code other than OK: the character is out of the world anyway.
            return leftWorld(code: code)
        }
        screen = .inWorld
        setStatus("Could not leave the world: " + Messages.error(error, server: server), .alert)
        return []
    }

    // MARK: server events

    mutating func applyWorld(_ event: ClientEvent) -> [ClientCall] {
        guard case .world(let tick, let events) = event, world != nil else { return [] }
        for worldEvent in events {
            let before = world!.view
            world!.view.apply(worldEvent, tick: tick)
            switch worldEvent {
            case .appear(let a) where a.entityId != world!.view.selfEntityId:
                if before.entity(id: a.entityId) == nil {
                    say("\(TextLayout.sanitize(a.name)) (\(Messages.className(a.classId)) \(a.level)) appears at \(TextLayout.position(a.x, a.y)), \(distanceText(to: a.x, a.y)) away.")
                }
            case .disappear(let id):
                if let gone = before.entity(id: id), id != world!.view.selfEntityId {
                    say("\(displayName(gone)) leaves view.")
                }
            case .chat(_, let name, let text):
                let line = "\(TextLayout.sanitize(name)): \(TextLayout.sanitize(text))"
                world!.appendLog(LogLine(kind: .chat, text: line), limit: settings.logLimit)
                say("[say] " + line)
            case .correction(_, let x, let y, let reason):
                world!.corrections += 1
                world!.pendingStep = nil
                // Walking on after "too fast" would just be corrected again at the zone's edge;
                // after a speed correction the walk resumes from the corrected position.
                if reason == .moveOutOfBounds { world!.walkTarget = nil }
                let message = Messages.correction(reason) + " " + TextLayout.position(x, y)
                world!.appendLog(LogLine(kind: .error, text: message), limit: settings.logLimit)
                setStatus(message, .alert)
            default:
                break
            }
        }
        return []
    }

    // MARK: reconnecting

    /// A drop in the world and the SDK's resume (`.reconnecting`, `.resumed`, `.reentered`), or
    /// a VIEW_RESET: the status line says what is going on, and the view is rebuilt from the
    /// fresh snapshot that follows. Keys keep working; steps wait until the character is back.
    mutating func reconnectEvent(_ event: ClientEvent) -> [ClientCall] {
        guard world != nil, screen == .inWorld || screen == .leavingWorld else { return [] }
        world!.view.apply(event)
        let note: String
        switch event {
        case .reconnecting:
            world!.reconnecting = true
            world!.pendingStep = nil
            note = Messages.reconnecting
            setStatus(note, .alert, sticky: true)
        case .resumed(let session):
            world!.reconnecting = false
            world!.resumes += 1
            world!.entry = session.entry
            note = Messages.resumed
            setStatus(note, .good)
        case .reentered(_, let entry, let code):
            world!.reconnecting = false
            world!.resumes += 1
            world!.entry = entry
            note = Messages.reentered(code)
            setStatus(note, .good)
        case .viewReset:
            note = Messages.viewReset
            setStatus(note)
        default:
            return []
        }
        world!.appendLog(LogLine(kind: .system, text: note), limit: settings.logLimit)
        return []
    }

    // MARK: moving

    /// Each tick: takes the waiting key step, or the next step of a `/move` walk, when the
    /// speed limit allows.
    mutating func worldTick() -> [ClientCall] {
        guard screen == .inWorld, let state = world, !state.reconnecting else { return [] }
        if let last = state.lastStepAt, now - last < stepInterval { return [] }
        guard let position = state.view.selfPosition else { return [] }
        var target: (x: Float, y: Float)
        if let direction = state.pendingStep {
            world!.pendingStep = nil
            let delta = direction.delta
            target = (position.x + delta.dx * settings.stepSize, position.y + delta.dy * settings.stepSize)
        } else if let goal = state.walkTarget {
            let dx = goal.x - position.x, dy = goal.y - position.y
            let distance = (dx * dx + dy * dy).squareRoot()
            if distance < 0.01 {
                world!.walkTarget = nil
                setStatus("Arrived at \(TextLayout.position(goal.x, goal.y)).", .good)
                return []
            }
            if distance <= settings.stepSize {
                target = goal
            } else {
                target = (position.x + dx / distance * settings.stepSize, position.y + dy / distance * settings.stepSize)
            }
        } else {
            return []
        }
        world!.view.moveSelf(x: target.x, y: target.y)
        world!.lastStepAt = now
        world!.movesSent += 1
        if let goal = state.walkTarget, state.pendingStep == nil, target == goal {
            world!.walkTarget = nil
            setStatus("Arrived at \(TextLayout.position(goal.x, goal.y)).", .good)
        }
        return [.move(x: target.x, y: target.y)]
    }

    /// A step key: remembered, and taken now if the speed limit allows (otherwise on a tick).
    private mutating func step(_ direction: Direction) -> [ClientCall] {
        world!.pendingStep = direction
        if world!.walkTarget != nil {
            world!.walkTarget = nil
            setStatus("Walk stopped.")
        }
        return worldTick()
    }

    // MARK: keys

    mutating func worldKey(_ key: Key) -> [ClientCall] {
        guard world != nil else { return [] }
        switch key {
        case .up, .character("w"), .character("W"), .character("k"): return step(.north)
        case .down, .character("s"), .character("S"), .character("j"): return step(.south)
        case .left, .character("a"), .character("A"), .character("h"): return step(.west)
        case .right, .character("d"), .character("D"), .character("l"): return step(.east)
        case .enter, .character("t"):
            prompt("Say:", maxBytes: ProtocolLimits.maxChatBytes)
        case .character("/"):
            prompt("Say:", maxBytes: ProtocolLimits.maxChatBytes, initial: "/")
        case .character("?"):
            for line in Self.worldHelp { world!.appendLog(LogLine(kind: .system, text: line), limit: settings.logLimit) }
        case .escape:
            if world!.walkTarget != nil {
                world!.walkTarget = nil
                setStatus("Walk stopped.")
            }
        default:
            break
        }
        return []
    }

    // MARK: lines

    mutating func worldLine(_ line: String) -> [ClientCall] {
        let text = line.trimmingSpaces
        guard !text.isEmpty else { return [] }
        guard text.hasPrefix("/") else { return chat(text) }
        let words = text.dropFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let verb = words.first?.lowercased() ?? ""
        let arguments = Array(words.dropFirst())
        switch verb {
        case "say", "s":
            let body = text.drop(while: { $0 != " " }).trimmingPrefixSpaces
            return chat(body)
        case "move", "walk", "go", "m":
            guard arguments.count == 2, let x = Float(arguments[0]), let y = Float(arguments[1]), x.isFinite, y.isFinite else {
                setStatus("Usage: /move X Y (e.g. /move 510 495)", .alert)
                return []
            }
            world!.walkTarget = (x, y)
            world!.pendingStep = nil
            setStatus("Walking to \(TextLayout.position(x, y))...")
            return worldTick()
        case "stop":
            world!.walkTarget = nil
            world!.pendingStep = nil
            setStatus("Stopped.")
            return []
        case "leave":
            screen = .leavingWorld
            world!.walkTarget = nil
            setStatus("Leaving the world...", sticky: true)
            return [.leaveWorld]
        case "quit", "exit", "logout", "q":
            return quit(code: ExitStatus.ok)
        case "who":
            let others = sortedOthers()
            say(others.isEmpty ? "Nobody is around." : "\(others.count) around you:")
            for other in others {
                say("  \(displayName(other)) (\(Messages.className(other.classId)) \(other.level)) at \(TextLayout.position(other.x, other.y)), \(distanceText(to: other.x, other.y)) \(compass(to: other.x, other.y))")
            }
            if mode == .fullScreen { setStatus(others.isEmpty ? "Nobody is around." : "\(others.count) around you.") }
            return []
        case "where", "pos":
            if let p = world!.view.selfPosition {
                let text = "You are at \(TextLayout.position(p.x, p.y)) in \(Messages.zoneName(world!.entry.zoneId))."
                mode == .plain ? say(text) : setStatus(text)
            }
            return []
        case "help", "h", "?":
            if mode == .plain {
                for line in Self.worldHelp { say(line) }
            } else {
                for line in Self.worldHelp { world!.appendLog(LogLine(kind: .system, text: line), limit: settings.logLimit) }
            }
            return []
        case "wait", "sleep":
            return wait(arguments)
        default:
            setStatus("Unknown command /\(TextLayout.sanitize(verb)): type /help", .alert)
            return []
        }
    }

    private mutating func chat(_ text: String) -> [ClientCall] {
        guard !text.isEmpty else { return [] }
        if world?.reconnecting == true {
            // The SDK would drop it: say so instead of losing it silently.
            setStatus("Not sent: reconnecting to the server, try again in a moment.", .alert)
            return []
        }
        // The protocol's limit; the editor already stops there, plain mode lines may not.
        return [.say(text.truncatedUTF8(maxBytes: ProtocolLimits.maxChatBytes))]
    }

    // MARK: helpers for views

    /// Others in view, nearest first (then by name, so equal distances do not flicker).
    func sortedOthers() -> [WorldView.Entity] {
        guard let state = world else { return [] }
        let me = state.view.selfPosition ?? (state.entry.x, state.entry.y)
        return state.view.others.sorted { a, b in
            let da = Self.distance(me, (a.x, a.y)), db = Self.distance(me, (b.x, b.y))
            return da != db ? da < db : (a.name, a.id) < (b.name, b.id)
        }
    }

    static func distance(_ a: (x: Float, y: Float), _ b: (x: Float, y: Float)) -> Float {
        let dx = a.x - b.x, dy = a.y - b.y
        return (dx * dx + dy * dy).squareRoot()
    }

    func distanceText(to x: Float, _ y: Float) -> String {
        guard let me = world?.view.selfPosition else { return "?" }
        return TextLayout.format(Self.distance(me, (x, y)))
    }

    /// "N", "SE", ... from you to (x, y); north is smaller y. "here" when on top of you.
    func compass(to x: Float, _ y: Float) -> String {
        guard let me = world?.view.selfPosition else { return "" }
        let dx = x - me.x, dy = y - me.y
        if abs(dx) < 0.5 && abs(dy) < 0.5 { return "here" }
        // Eight sectors of 45 degrees; atan2 with y flipped so north (negative dy) is up.
        let angle = atan2Approx(-dy, dx)  // radians, counterclockwise from east
        let sector = Int(((angle / (Float.pi / 4)).rounded() + 8).truncatingRemainder(dividingBy: 8))
        return ["E", "NE", "N", "NW", "W", "SW", "S", "SE"][sector]
    }

    func displayName(_ entity: WorldView.Entity) -> String {
        entity.name.isEmpty ? "#\(entity.id)" : TextLayout.sanitize(entity.name)
    }
}

extension ClientScreenModel.WorldState {
    mutating func appendLog(_ line: ClientScreenModel.LogLine, limit: Int) {
        log.append(line)
        if log.count > limit { log.removeFirst(log.count - limit) }
    }
}

extension Substring {
    var trimmingPrefixSpaces: String { String(drop(while: { $0 == " " })) }
}

/// atan2 without Foundation: good to well under a degree, plenty for an 8-point compass.
func atan2Approx(_ y: Float, _ x: Float) -> Float {
    if x == 0 && y == 0 { return 0 }
    let ax = abs(x), ay = abs(y)
    let a = min(ax, ay) / max(ax, ay)
    let s = a * a
    var r = ((-0.0464964749 * s + 0.15931422) * s - 0.327622764) * s * a + a
    if ay > ax { r = Float.pi / 2 - r }
    if x < 0 { r = Float.pi - r }
    if y < 0 { r = -r }
    return r
}
