import MMOTime
import Foundation
import MMOClient
import MMOProtocol
import NIOCore
import Synchronization

/// Many bots in one process that log in, gather around a point, move and chat, measuring
/// throughput and how long a move takes to reach the bots that can see it.
///
/// All bots share the process's event loops; moves and latency measurement run on the event
/// loops, with no task per message. Move latency is the time from a bot sending a MOVE to a
/// neighbour bot receiving the matching move event (same entity, same exact position), both
/// stamped with one `ContinuousClock`.
public struct LoadRun: Sendable {
    private let configuration: LoadConfiguration
    private let progress: BotOutput?
    private let recorder = LoadRecorder()
    private let ledger = MoveLedger()
    private let statistics = ClientStatistics()

    /// - Parameter progress: receives a line at each stage and every few seconds while
    ///   measuring; nil for none.
    public init(configuration: LoadConfiguration, progress: BotOutput?) {
        self.configuration = configuration
        self.progress = progress
    }

    /// Ramp-up, measurement, then every bot leaves the world and logs out.
    public func run() async -> LoadSummary {
        let tokens = configuration.tokens
        if let center = configuration.center { recorder.center.withLock { $0 = center } }
        let started = ContinuousClock.now
        progress?("starting \(tokens.count) bots against \(configuration.host):\(configuration.port)")

        // Ramp-up: at most `concurrency` bots logging in at once; one task per bot, only here.
        var playing: [LoadBot] = []
        await withTaskGroup(of: LoadBot?.self) { group in
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask { await setUp(index: index) }
            }
            while next < min(configuration.concurrency, tokens.count) { launch() }
            while let bot = await group.next() {
                if let bot { playing.append(bot) }
                if next < tokens.count { launch() }
            }
        }
        let setupTime = ContinuousClock.now - started
        progress?("\(playing.count) of \(tokens.count) bots in world after \(String(format: "%.1f", setupTime.inSeconds)) s; "
            + "measuring for \(configuration.duration.inSeconds) s")

        // Measurement window.
        let before = statistics.snapshot()
        let windowStart = ContinuousClock.now
        recorder.measuring.store(true, ordering: .relaxed)
        let end = windowStart + configuration.duration
        var lastProgress = before
        while ContinuousClock.now < end {
            try? await Task.sleep(for: min(configuration.progressInterval, end - ContinuousClock.now))
            let now = statistics.snapshot()
            progress?("in world \(recorder.inWorld.load(ordering: .relaxed) - recorder.lostDuringRun.load(ordering: .relaxed)), "
                + "moves \(now.movesSent - lastProgress.movesSent), world events \(now.worldEventsReceived - lastProgress.worldEventsReceived) in the last interval")
            lastProgress = now
        }
        recorder.measuring.store(false, ordering: .relaxed)
        let window = ContinuousClock.now - windowStart
        let after = statistics.snapshot()

        // Stop timers first so no move races the LEAVE_WORLD, then leave and log out.
        for bot in playing {
            bot.stopping.store(true, ordering: .relaxed)
            bot.timer.withLock { $0?.cancel() }
        }
        await withTaskGroup(of: Void.self) { group in
            var pending = playing[...]
            func launch() {
                guard let bot = pending.popFirst(), let client = bot.client.withLock({ $0 }) else { return }
                group.addTask {
                    try? await client.leaveWorld()
                    await client.logout(timeout: .seconds(3))
                }
            }
            for _ in 0..<configuration.concurrency { launch() }
            while await group.next() != nil { launch() }
        }

        return LoadSummary(
            configuration: configuration, recorder: recorder, setupTime: setupTime, window: window, before: before, after: after)
    }

    /// Connect, login, select or create the character, enter the world, start walking.
    /// Returns nil (after counting the failure) when any step fails.
    private func setUp(index: Int) async -> LoadBot? {
        let name = LoadPlan.characterName(prefix: configuration.namePrefix, index: index)
        let bot = LoadBot(index: index, name: name)
        let connectStarted = ContinuousClock.now
        var clientConfiguration = GameClientConfiguration()
        clientConfiguration.tls = configuration.tls
        clientConfiguration.statistics = statistics
        clientConfiguration.requestTimeout = configuration.requestTimeout
        // Nobody reads the stream: events are handled on the event loop by the observer.
        clientConfiguration.eventBuffering = .bufferingNewest(0)
        clientConfiguration.eventObserver = { [recorder, ledger] event in
            Self.observe(event, bot: bot, recorder: recorder, ledger: ledger)
        }
        clientConfiguration.logger.logLevel = .warning

        let client: GameClient
        do {
            client = try await GameClient.connect(host: configuration.host, port: configuration.port,
                                                  clientName: "mmo-bot-load", timeout: configuration.requestTimeout,
                                                  configuration: clientConfiguration)
        } catch {
            recorder.fail("connect: \(BotFormat.label(error))")
            return nil
        }
        recorder.connected.add(1, ordering: .relaxed)
        bot.client.withLock { $0 = client }

        do {
            let loginStarted = ContinuousClock.now
            _ = try await client.login(token: configuration.tokens[index])
            let loginTime = ContinuousClock.now - loginStarted
            recorder.loginLatency.withLock { $0.record(loginTime) }
            recorder.loggedIn.add(1, ordering: .relaxed)
        } catch {
            recorder.fail("login: \(BotFormat.label(error))")
            await client.close()
            return nil
        }

        let entry: WorldEntry
        do {
            let list = try await client.listCharacters()
            let character: CharacterSummary
            if let existing = list.named(name) {
                character = existing
            } else {
                character = try await client.createCharacter(name: name, classId: configuration.classId)
            }
            entry = try await client.enterWorld(characterId: character.id)
        } catch {
            recorder.fail("character/enter: \(BotFormat.label(error))")
            await client.close()
            return nil
        }
        let enterTime = ContinuousClock.now - connectStarted
        recorder.enterLatency.withLock { $0.record(enterTime) }
        recorder.inWorld.add(1, ordering: .relaxed)
        bot.entityId.store(entry.entityId, ordering: .relaxed)

        let center = recorder.center.withLock { center in
            let chosen = center ?? BotPosition(x: entry.x, y: entry.y)
            center = chosen
            return chosen
        }
        start(bot, client: client, entry: entry, center: center)
        return bot
    }

    /// Starts the bot's move/chat timer on its connection's event loop.
    private func start(_ bot: LoadBot, client: GameClient, entry: WorldEntry, center: BotPosition) {
        var random = SystemRandomNumberGenerator()
        let step = BotPacing.stepLength(maxSpeed: configuration.maxSpeed, interval: configuration.moveInterval)
        let spread = configuration.spread
        let chatInterval: Duration? = configuration.chatInterval > .zero ? configuration.chatInterval : nil
        let target = LoadPlan.randomPoint(around: center, within: spread, using: &random)
        let firstChat = ContinuousClock.now + LoadPlan.firstChatDelay(interval: configuration.chatInterval, using: &random)
        bot.walk.withLock {
            $0 = LoadWalk(position: BotPosition(x: entry.x, y: entry.y), target: target, nextChat: firstChat)
        }

        let ledger = self.ledger
        let recorder = self.recorder
        let task = client.eventLoop.scheduleRepeatedTask(
            initialDelay: TimeAmount(LoadPlan.firstMoveDelay(interval: configuration.moveInterval, using: &random)),
            delay: TimeAmount(configuration.moveInterval)
        ) { task in
            // Link-dead while the SDK reconnects: stand still, walk on from where it resumes.
            if client.isReconnecting { return }
            let now = ContinuousClock.now
            let move = bot.walk.withLock { walk -> (position: BotPosition, chat: String?)? in
                var random = SystemRandomNumberGenerator()
                return walk?.advance(
                    step: step, center: center, spread: spread, now: now, chatInterval: chatInterval, name: bot.name, using: &random)
            }
            guard let move else { return }
            // Recorded before sending, so a neighbour can never see the move before it is known.
            ledger.record(entityId: bot.entityId.load(ordering: .relaxed), x: move.position.x, y: move.position.y, at: now)
            do {
                try client.move(x: move.position.x, y: move.position.y)
                if let chat = move.chat { try client.say(chat) }
            } catch {
                task.cancel()
                if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: \(BotFormat.label(error))") }
            }
        }
        bot.timer.withLock { $0 = task }
    }

    /// Runs on the bot's event loop for every event it receives.
    static func observe(_ event: ClientEvent, bot: LoadBot, recorder: LoadRecorder, ledger: MoveLedger) {
        switch event {
        case .world(_, let events):
            let me = bot.entityId.load(ordering: .relaxed)
            let measuring = recorder.measuring.load(ordering: .relaxed)
            let now = ContinuousClock.now
            var samples: [Duration] = []
            for worldEvent in events {
                switch worldEvent {
                case .move(let id, let x, let y) where id != me && measuring:
                    if let sent = ledger.sentAt(entityId: id, x: x, y: y) {
                        samples.append(now - sent)
                    } else {
                        recorder.unmatchedMoves.add(1, ordering: .relaxed)
                    }
                case .correction:
                    recorder.corrections.add(1, ordering: .relaxed)
                default:
                    break
                }
            }
            if !samples.isEmpty { recorder.recordMoveLatencies(samples, shard: bot.index) }
        case .refused(let opcode, let code):
            recorder.refused("\(Opcode(rawValue: opcode).map { "\($0)" } ?? "0x\(String(opcode, radix: 16))") \(code.name)")
        case .disconnected(let code, _):
            if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: DISCONNECT \(code.name)") }
        case .connectionClosed:
            if !bot.stopping.load(ordering: .relaxed), bot.entityId.load(ordering: .relaxed) != 0 {
                recorder.lostDuringRun.add(1, ordering: .relaxed)
            }
            bot.timer.withLock { $0?.cancel() }
        case .reconnecting:
            // The SDK resumes; the timer keeps running (the SDK drops moves meanwhile).
            recorder.reconnects.add(1, ordering: .relaxed)
        case .resumed(let session):
            recorder.resumed.add(1, ordering: .relaxed)
            bot.rejoined(entityId: session.entry.entityId, x: session.entry.x, y: session.entry.y)
        case .reentered(_, let entry, _):
            recorder.reentered.add(1, ordering: .relaxed)
            bot.rejoined(entityId: entry.entityId, x: entry.x, y: entry.y)
        case .viewReset(let entityId, _, let x, let y):
            bot.rejoined(entityId: entityId, x: x, y: y)
        case .resumeFailed(let error):
            if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: resume failed: \(BotFormat.label(error))") }
        case .leftWorld(let code):
            if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: LEFT_WORLD \(code.name)") }
        }
    }
}

/// One bot of a load run: its connection, its walk, and its timer on the event loop.
final class LoadBot: Sendable {
    let index: Int
    let name: String
    let entityId = Atomic<UInt64>(0)
    /// Set when the run ends, so the connection closing afterwards is not counted as a loss.
    let stopping = Atomic<Bool>(false)
    let client = Mutex<GameClient?>(nil)
    let walk = Mutex<LoadWalk?>(nil)
    let timer = Mutex<RepeatedTask?>(nil)

    init(index: Int, name: String) {
        self.index = index
        self.name = name
    }

    /// Back in the world after a resume, a re-entry or a VIEW_RESET: a new entity id, and the
    /// walk goes on from where the server has the character (moves sent meanwhile were dropped).
    func rejoined(entityId: UInt64, x: Float, y: Float) {
        self.entityId.store(entityId, ordering: .relaxed)
        walk.withLock { $0?.position = BotPosition(x: x, y: y) }
    }
}
