import ArgumentParser
import Foundation
import MMOClient
import MMOProtocol
import Synchronization

/// `mmo-bot scenario`: one character plays through login, character selection, world entry,
/// movement and chat, and checks that it sees an expected peer do the same.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Play one character end to end and check what it sees.",
        discussion: """
            Connects, logs in, creates CHARACTER if the account lacks it, enters the world, walks \
            (1 unit per step, under the server's speed limit) and repeats its chat line. With \
            --expect-peer it passes once it has seen that peer appear, move and chat, then keeps \
            playing for --grace seconds so the peer can see it too. Prints one PASS/FAIL line per \
            check; exits 0 only if every check passed.
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "Session token (e.g. from `mmo dev create-user`).")
    var token: String

    @Option(help: "Character name; created when the account does not have it.")
    var character: String

    @Option(name: .customLong("class"), help: "Class id for a newly created character.")
    var classId: UInt8 = 1

    @Option(name: .customLong("expect-peer"), help: "Name of a character that must be seen appearing, moving and chatting.")
    var expectPeer: String?

    @Option(help: "Chat line to say, repeated every --chat-every seconds (default: \"hello from CHARACTER\").")
    var say: String?

    @Option(help: "Seconds for the whole scenario; unmet checks fail after it.")
    var timeout: Double = 30

    @Option(help: "Walk to this x first (with --y).")
    var x: Float?

    @Option(help: "Walk to this y first (with --x).")
    var y: Float?

    @Option(help: "Seconds to keep playing after every check passed, so the peer can see us too (at least --chat-every + 1, so the peer hears one more chat line).")
    var grace: Double = 3

    @Option(name: .customLong("chat-every"), help: "Seconds between repetitions of the chat line.")
    var chatEvery: Double = 3

    @Option(name: .customLong("step-ms"), help: "Milliseconds between moves.")
    var stepMilliseconds: Int = 200

    @Option(name: .customLong("max-speed"), help: "Server's movement speed limit, units per second.")
    var maxSpeed: Float = 7

    func validate() throws {
        guard (x == nil) == (y == nil) else { throw ValidationError("--x and --y go together") }
        guard timeout > 0, grace >= 0, chatEvery > 0, stepMilliseconds > 0, maxSpeed > 0 else {
            throw ValidationError("--timeout, --chat-every, --step-ms and --max-speed must be positive")
        }
        guard character.utf8.count <= ProtocolLimits.maxCharacterNameBytes else {
            throw ValidationError("--character is longer than \(ProtocolLimits.maxCharacterNameBytes) bytes")
        }
        guard (say ?? "").utf8.count <= ProtocolLimits.maxChatBytes else {
            throw ValidationError("--say is longer than \(ProtocolLimits.maxChatBytes) bytes")
        }
    }

    func run() async throws {
        Report.lineBufferStdout()
        let passed = await ScenarioRun(options: self).play()
        print(passed ? "RESULT PASS" : "RESULT FAIL")
        if !passed { throw ExitCode.failure }
    }
}

/// What the scenario has seen, updated by the event consumer and read by the play loop.
private struct Observations {
    var view = WorldView()
    var peerId: UInt64?
    var peerName = ""
    var sawSelfAppear = false
    var heardOwnChat = false
    var sawPeerAppear = false
    var sawPeerMove = false
    var sawPeerChat = false
    var corrections: [(seq: UInt32, reason: ResultCode)] = []
    var closedReason: String?
    var leftWorld: ResultCode?

    func checksPassed(expecting peer: String?) -> Bool {
        sawSelfAppear && heardOwnChat && (peer == nil || (sawPeerAppear && sawPeerMove && sawPeerChat))
    }
}

private final class ScenarioRun: Sendable {
    let options: ScenarioCommand
    let observations = Mutex(Observations())
    let failures = Mutex<[String]>([])

    init(options: ScenarioCommand) {
        self.options = options
    }

    func pass(_ line: String) { print("PASS \(line)") }

    func fail(_ line: String) {
        print("FAIL \(line)")
        failures.withLock { $0.append(line) }
    }

    /// Runs the scenario; true when every check passed.
    func play() async -> Bool {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int64(options.timeout * 1000))
        let host = options.server.host, port = options.server.port

        let client: GameClient
        do {
            client = try await GameClient.connect(host: host, port: port, clientName: "mmo-bot-scenario",
                                                  timeout: .seconds(min(options.timeout, 10)))
            pass("connected to \(host):\(port) (protocol v\(client.serverVersion))")
        } catch {
            fail("connect to \(host):\(port): \(error)")
            return false
        }

        // One consumer for the whole event stream (not one task per message).
        let consumer = Task { [self] in
            for await event in client.events { observe(event) }
        }
        defer { consumer.cancel() }

        guard let entry = await enterWorld(client) else {
            await client.logout()
            return false
        }
        // Not a new WorldView: the consumer may already have applied the first updates.
        observations.withLock {
            $0.view.selfEntityId = entry.entityId
            $0.view.moveSelf(x: entry.x, y: entry.y)
        }

        await walkAndTalk(client, entry: entry, deadline: deadline)
        reportChecks()

        if client.isConnected {
            do {
                try await client.leaveWorld()
                pass("left world")
            } catch {
                fail("leave world: \(error)")
            }
            await client.logout()
            pass("logged out")
        }
        _ = await consumer.value
        return failures.withLock { $0.isEmpty }
    }

    /// Login, character selection or creation, ENTER_WORLD. Prints one line per step.
    private func enterWorld(_ client: GameClient) async -> WorldEntry? {
        do {
            let login = try await client.login(token: options.token)
            pass("logged in as \(login.displayName) (account \(login.accountId))")
        } catch {
            fail("login: \(error)")
            return nil
        }

        let character: CharacterSummary
        do {
            let list = try await client.listCharacters()
            if let existing = list.named(options.character) {
                character = existing
                pass("found character \(existing.name) (id \(existing.id), level \(existing.level)) among \(list.characters.count)")
            } else {
                character = try await client.createCharacter(name: options.character, classId: options.classId)
                pass("created character \(character.name) (id \(character.id), class \(character.classId))")
            }
        } catch GameClientError.refused(.nameTaken, let detail) {
            fail("character name \(options.character) is taken by another account (NAME_TAKEN)\(detail.isEmpty ? "" : ": \(detail)")")
            return nil
        } catch {
            fail("character \(options.character): \(error)")
            return nil
        }

        do {
            let entry = try await client.enterWorld(characterId: character.id)
            pass("entered world as entity \(entry.entityId) in zone \(entry.zoneId) at \(Report.position(entry.x, entry.y)), \(entry.tickRateHz) Hz")
            return entry
        } catch {
            fail("enter world: \(error)")
            return nil
        }
    }

    /// Moves one step every `stepMilliseconds` and repeats the chat line until the checks have
    /// passed (plus the grace period), the deadline passes, or the connection drops.
    private func walkAndTalk(_ client: GameClient, entry: WorldEntry, deadline: ContinuousClock.Instant) async {
        let stepInterval = Duration.milliseconds(options.stepMilliseconds)
        // 75% of the speed limit leaves room for timer jitter: two moves may land close together.
        let step = min(1, options.maxSpeed * Float(options.stepMilliseconds) / 1000 * 0.75)
        let text = options.say ?? "hello from \(options.character)"
        let chatInterval = Duration.milliseconds(Int64(options.chatEvery * 1000))
        let minimumPlay = ContinuousClock.now + .seconds(2)

        var position = (x: entry.x, y: entry.y)
        var target = options.x.map { (x: $0, y: options.y!) }
        var anchor = position
        let loop: [(Float, Float)] = [(1, 0), (1, 1), (0, 1), (0, 0)]
        var loopIndex = 0
        var nextChat = ContinuousClock.now
        var passedAt: ContinuousClock.Instant?
        var moves = 0

        while ContinuousClock.now < deadline {
            let state = observations.withLock { ($0.closedReason, $0.checksPassed(expecting: options.expectPeer)) }
            if let reason = state.0 {
                fail("connection lost while in world: \(reason)")
                return
            }
            let now = ContinuousClock.now
            if state.1, now >= minimumPlay {
                if passedAt == nil { passedAt = now }
                // The peer may have entered just before our checks passed: it needs one more of our
                // chat lines, which comes at most one chat interval later.
                let grace = max(options.grace, options.chatEvery + 1)
                if now - passedAt! >= .milliseconds(Int64(grace * 1000)) { break }
            }

            // Next position: towards --x/--y first, then round a one-step square.
            if let goal = target {
                let dx = goal.x - position.x, dy = goal.y - position.y
                let distance = (dx * dx + dy * dy).squareRoot()
                if distance <= step {
                    position = goal
                    anchor = goal
                    target = nil
                    pass("reached \(Report.position(goal.x, goal.y))")
                } else {
                    position = (position.x + dx / distance * step, position.y + dy / distance * step)
                }
            } else {
                let offset = loop[loopIndex % loop.count]
                loopIndex += 1
                position = (anchor.x + offset.0 * step, anchor.y + offset.1 * step)
            }
            do {
                try client.move(x: position.x, y: position.y)
                moves += 1
                observations.withLock { $0.view.moveSelf(x: position.x, y: position.y) }
                if now >= nextChat {
                    try client.say(text)
                    nextChat = now + chatInterval
                }
            } catch {
                fail("sending while in world: \(error)")
                return
            }
            try? await Task.sleep(for: stepInterval)
        }
        print("INFO sent \(moves) moves")
    }

    /// Prints a FAIL line for each check that did not pass in time.
    private func reportChecks() {
        let seen = observations.withLock { $0 }
        if !seen.sawSelfAppear { fail("did not see our own APPEAR after entering the world") }
        if !seen.heardOwnChat { fail("did not hear our own chat line echoed back") }
        if let peer = options.expectPeer {
            if !seen.sawPeerAppear { fail("did not see peer \(peer) appear within \(options.timeout) s") }
            if !seen.sawPeerMove { fail("did not see peer \(peer) move within \(options.timeout) s") }
            if !seen.sawPeerChat { fail("did not see peer \(peer) chat within \(options.timeout) s") }
        }
        if seen.corrections.isEmpty {
            pass("no moves corrected")
        } else {
            let reasons = Set(seen.corrections.map { $0.reason.name }).sorted().joined(separator: ", ")
            fail("\(seen.corrections.count) moves corrected by the server (\(reasons))")
        }
    }

    /// Runs in the event consumer for every event.
    private func observe(_ event: ClientEvent) {
        // Names compare without regard to case, as the server stores them capitalized.
        let peer = options.expectPeer?.lowercased()
        let me = options.character.lowercased()
        var lines: [String] = []
        observations.withLock { o in
            o.view.apply(event)
            switch event {
            case .world(_, let events):
                for worldEvent in events {
                    switch worldEvent {
                    case .appear(let a) where a.name.lowercased() == me:
                        if !o.sawSelfAppear {
                            o.sawSelfAppear = true
                            lines.append("PASS saw own APPEAR as entity \(a.entityId) at \(Report.position(a.x, a.y))")
                        }
                    case .appear(let a) where a.name.lowercased() == peer:
                        o.peerId = a.entityId
                        o.peerName = a.name
                        if !o.sawPeerAppear {
                            o.sawPeerAppear = true
                            lines.append("PASS saw peer \(a.name) appear as entity \(a.entityId) at \(Report.position(a.x, a.y))")
                        }
                    case .move(let id, let x, let y) where id == o.peerId && o.peerId != nil:
                        if !o.sawPeerMove {
                            o.sawPeerMove = true
                            lines.append("PASS saw peer \(o.peerName) move to \(Report.position(x, y))")
                        }
                    case .chat(_, let name, let text) where name.lowercased() == me:
                        if !o.heardOwnChat {
                            o.heardOwnChat = true
                            lines.append("PASS heard own chat line \"\(text)\"")
                        }
                    case .chat(let id, let name, let text) where name.lowercased() == peer || (id == o.peerId && o.peerId != nil):
                        if !o.sawPeerChat {
                            o.sawPeerChat = true
                            lines.append("PASS saw peer \(name) say \"\(text)\"")
                        }
                    case .correction(let seq, let x, let y, let reason):
                        o.corrections.append((seq, reason))
                        lines.append("INFO move \(seq) corrected to \(Report.position(x, y)): \(reason)")
                    default:
                        break
                    }
                }
            case .refused(let opcode, let code):
                lines.append("INFO server refused opcode 0x\(String(opcode, radix: 16)): \(code)")
            case .leftWorld(let code):
                o.leftWorld = code
            case .disconnected(let code, let message):
                o.closedReason = "DISCONNECT \(code) \(message)"
            case .connectionClosed:
                if o.closedReason == nil { o.closedReason = "connection closed" }
            }
        }
        for line in lines { print(line) }
    }
}
