import MMOTime
import MMOClient
import MMOProtocol
import Synchronization

/// One character plays through login, character selection, world entry, movement and chat, and
/// checks that it sees an expected peer do the same. Prints one PASS/FAIL line per check (and
/// INFO lines); scripts/e2e.sh greps some of them, so their wording is part of the interface.
public final class ScenarioRun: Sendable {
    private let configuration: ScenarioConfiguration
    private let output: BotOutput
    private let observations = Mutex(ScenarioObservations())
    private let failures = Mutex<[String]>([])

    public init(configuration: ScenarioConfiguration, output: @escaping BotOutput) {
        self.configuration = configuration
        self.output = output
    }

    /// Runs the scenario; true when every check passed.
    public func play() async -> Bool {
        let started = ContinuousClock.now
        let deadline = started + configuration.timeout
        let host = configuration.host, port = configuration.port

        let client: GameClient
        do {
            client = try await GameClient.connect(host: host, port: port, clientName: "mmo-bot-scenario",
                                                  timeout: min(configuration.timeout, .seconds(10)),
                                                  configuration: .with(tls: configuration.tls))
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
        } else {
            await client.close()  // e.g. still reconnecting: stop that
        }
        _ = await consumer.value
        return failures.withLock { $0.isEmpty }
    }

    private func pass(_ line: String) { output("PASS \(line)") }

    private func fail(_ line: String) {
        output("FAIL \(line)")
        failures.withLock { $0.append(line) }
    }

    /// Login, character selection or creation, ENTER_WORLD. One line per step.
    private func enterWorld(_ client: GameClient) async -> WorldEntry? {
        do {
            let login = try await client.login(token: configuration.token)
            pass("logged in as \(login.displayName) (account \(login.accountId))")
        } catch {
            // e2e.sh greps "refused: CODE(" from the error's description.
            fail("login: \(error)")
            return nil
        }

        let name = configuration.character
        let character: CharacterSummary
        do {
            let list = try await client.listCharacters()
            if let existing = list.named(name) {
                character = existing
                pass("found character \(existing.name) (id \(existing.id), level \(existing.level)) among \(list.characters.count)")
            } else {
                character = try await client.createCharacter(name: name, classId: configuration.classId)
                pass("created character \(character.name) (id \(character.id), class \(character.classId))")
            }
        } catch GameClientError.refused(.nameTaken, let detail) {
            fail("character name \(name) is taken by another account (NAME_TAKEN)\(detail.isEmpty ? "" : ": \(detail)")")
            return nil
        } catch {
            fail("character \(name): \(error)")
            return nil
        }

        do {
            let entry = try await client.enterWorld(characterId: character.id)
            pass("entered world as entity \(entry.entityId) in zone \(entry.zoneId) at \(BotFormat.position(entry.x, entry.y)), \(entry.tickRateHz) Hz")
            return entry
        } catch {
            fail("enter world: \(error)")
            return nil
        }
    }

    /// Moves one step every `stepInterval` and repeats the chat line until the checks have
    /// passed (plus the grace period), the deadline passes, or the connection drops.
    private func walkAndTalk(_ client: GameClient, entry: WorldEntry, deadline: ContinuousClock.Instant) async {
        let step = ScenarioWalk.stepLength(maxSpeed: configuration.maxSpeed, interval: configuration.stepInterval)
        var walk = ScenarioWalk(from: BotPosition(x: entry.x, y: entry.y), target: configuration.target, step: step)
        let minimumPlay = ContinuousClock.now + configuration.minimumPlay
        // The peer may have entered just before our checks passed: it needs one more of our chat
        // lines, which comes at most one chat interval later.
        let grace = max(configuration.grace, configuration.chatEvery + .seconds(1))
        var nextChat = ContinuousClock.now
        var passedAt: ContinuousClock.Instant?
        var moves = 0

        while ContinuousClock.now < deadline {
            let (closedReason, checksPassed) = observations.withLock {
                ($0.closedReason, $0.checksPassed(expecting: configuration.expectPeer))
            }
            if let closedReason {
                fail("connection lost while in world: \(closedReason)")
                return
            }
            let now = ContinuousClock.now
            if checksPassed, now >= minimumPlay {
                let since = passedAt ?? now
                passedAt = since
                if now - since >= grace { break }
            }

            // Link-dead while the SDK reconnects: wait (the checks and the deadline still run).
            if client.isReconnecting {
                try? await Task.sleep(for: configuration.stepInterval)
                continue
            }
            let (position, reached) = walk.next()
            if let reached { pass("reached \(reached)") }
            do {
                try client.move(x: position.x, y: position.y)
                moves += 1
                observations.withLock { $0.view.moveSelf(x: position.x, y: position.y) }
                if now >= nextChat {
                    try client.say(configuration.chatLine)
                    nextChat = now + configuration.chatEvery
                }
            } catch {
                fail("sending while in world: \(error)")
                return
            }
            try? await Task.sleep(for: configuration.stepInterval)
        }
        output("INFO sent \(moves) moves")
    }

    /// A FAIL line for each check that did not pass in time.
    private func reportChecks() {
        let seen = observations.withLock { $0 }
        if !seen.sawSelfAppear { fail("did not see our own APPEAR after entering the world") }
        if !seen.heardOwnChat { fail("did not hear our own chat line echoed back") }
        if let peer = configuration.expectPeer {
            let within = "within \(configuration.timeout.inSeconds) s"
            if !seen.sawPeerAppear { fail("did not see peer \(peer) appear \(within)") }
            if !seen.sawPeerMove { fail("did not see peer \(peer) move \(within)") }
            if !seen.sawPeerChat { fail("did not see peer \(peer) chat \(within)") }
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
        let lines = observations.withLock {
            $0.apply(event, character: configuration.character, peer: configuration.expectPeer)
        }
        for line in lines { output(line) }
    }
}
