import ArgumentParser
import Foundation
import MMOClient
import MMOProtocol
import NIOCore
import Synchronization

/// `mmo-bot load`: many bots in one process that log in, gather around a point and move and
/// chat, measuring throughput and how long a move takes to reach the bots that can see it.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Run many bots in one process and measure the server.",
        discussion: """
            Each bot uses one token from --tokens-file, logs in, selects or creates its character \
            (--name-prefix plus its index spelled in letters, e.g. Botbacedifo for bot 00123, \
            since names are letters only), enters the world, walks to random points within --spread units of a \
            common centre and chats. All bots share the process's event loops; moves and latency \
            measurement run on the event loops, with no task per message. Move latency is the \
            time from a bot sending a MOVE to a neighbour bot receiving the matching move event \
            (same entity, same exact position), both stamped with one ContinuousClock.
            """)

    @OptionGroup var server: ServerOptions

    @Option(name: .customLong("tokens-file"), help: "File with one session token per line.")
    var tokensFile: String

    @Option(help: "Number of bots (default: one per token).")
    var bots: Int?

    @Option(help: "Seconds to measure after every bot has finished logging in.")
    var duration: Double = 30

    @Option(name: .customLong("move-interval-ms"), help: "Milliseconds between a bot's moves.")
    var moveIntervalMs: Int = 200

    @Option(name: .customLong("chat-interval-s"), help: "Seconds between a bot's chat lines (0: no chat).")
    var chatIntervalS: Double = 10

    @Option(help: "Radius, in world units, of the area the bots gather in.")
    var spread: Float = 60

    @Option(name: .customLong("center-x"), help: "Centre x of the gathering (default: first bot's spawn point).")
    var centerX: Float?

    @Option(name: .customLong("center-y"), help: "Centre y of the gathering.")
    var centerY: Float?

    @Option(name: .customLong("max-speed"), help: "Server's movement speed limit, units per second.")
    var maxSpeed: Float = 7

    @Option(name: .customLong("class"), help: "Class id for newly created characters.")
    var classId: UInt8 = 1

    @Option(name: .customLong("name-prefix"), help: "Letters that start every bot's character name (at most 6).")
    var namePrefix = "Bot"

    @Option(help: "Bots logging in at the same time during ramp-up.")
    var concurrency = 64

    @Option(name: .customLong("request-timeout"), help: "Seconds each request may take.")
    var requestTimeout: Double = 10

    @Flag(help: "Print the summary as JSON (for BENCHMARKS.md).")
    var json = false

    func validate() throws {
        guard duration > 0, moveIntervalMs > 0, spread >= 0, maxSpeed > 0, concurrency > 0, requestTimeout > 0, chatIntervalS >= 0 else {
            throw ValidationError("durations, intervals, --concurrency and --max-speed must be positive")
        }
        guard (centerX == nil) == (centerY == nil) else { throw ValidationError("--center-x and --center-y go together") }
        if let bots, bots <= 0 { throw ValidationError("--bots must be positive") }
        guard !namePrefix.isEmpty, namePrefix.count <= 6, namePrefix.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            // Character names are 3-16 ASCII letters; the index adds 10.
            throw ValidationError("--name-prefix must be 1 to 6 ASCII letters")
        }
    }

    func run() async throws {
        Report.lineBufferStdout()
        let tokens = try String(contentsOfFile: tokensFile, encoding: .utf8)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let count = bots ?? tokens.count
        guard count <= tokens.count else {
            throw ValidationError("--bots \(count) needs \(count) tokens; \(tokensFile) has \(tokens.count)")
        }
        guard count > 0 else { throw ValidationError("\(tokensFile) has no tokens") }

        let summary = await LoadRun(options: self, tokens: Array(tokens.prefix(count))).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            summary.printText()
        }
        if summary.inWorld == 0 { throw ExitCode.failure }
    }
}

/// One bot of a load run: its connection, its walk, and its timer on the event loop.
private final class LoadBot: Sendable {
    struct Walk {
        var x: Float
        var y: Float
        var targetX: Float
        var targetY: Float
        var nextChat: ContinuousClock.Instant
        var chats = 0
    }

    let index: Int
    let name: String
    let entityId = Atomic<UInt64>(0)
    /// Set when the run ends, so the connection closing afterwards is not counted as a loss.
    let stopping = Atomic<Bool>(false)
    let client = Mutex<GameClient?>(nil)
    let walk = Mutex<Walk?>(nil)
    let timer = Mutex<RepeatedTask?>(nil)

    init(index: Int, name: String) {
        self.index = index
        self.name = name
    }
}

private struct LoadRun {
    let options: LoadCommand
    let tokens: [String]
    let recorder = LoadRecorder()
    let ledger = MoveLedger()
    let statistics = ClientStatistics()

    func run() async -> LoadSummary {
        if let x = options.centerX, let y = options.centerY { recorder.center.withLock { $0 = (x, y) } }
        let started = ContinuousClock.now
        progress("starting \(tokens.count) bots against \(options.server.host):\(options.server.port)")

        // Ramp-up: at most `concurrency` bots logging in at once; one task per bot, only here.
        var playing: [LoadBot] = []
        await withTaskGroup(of: LoadBot?.self) { group in
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask { await setUp(index: index) }
            }
            while next < min(options.concurrency, tokens.count) { launch() }
            while let bot = await group.next() {
                if let bot { playing.append(bot) }
                if next < tokens.count { launch() }
            }
        }
        let setupTime = ContinuousClock.now - started
        progress("\(playing.count) of \(tokens.count) bots in world after \(String(format: "%.1f", Report.seconds(setupTime))) s; measuring for \(options.duration) s")

        // Measurement window.
        let before = statistics.snapshot()
        let windowStart = ContinuousClock.now
        recorder.measuring.store(true, ordering: .relaxed)
        let end = windowStart + .milliseconds(Int64(options.duration * 1000))
        var lastProgress = statistics.snapshot()
        while ContinuousClock.now < end {
            try? await Task.sleep(for: min(.seconds(5), end - ContinuousClock.now))
            let now = statistics.snapshot()
            progress("in world \(recorder.inWorld.load(ordering: .relaxed) - recorder.lostDuringRun.load(ordering: .relaxed)), "
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
            for _ in 0..<options.concurrency { launch() }
            while await group.next() != nil { launch() }
        }

        return LoadSummary(
            options: options, bots: tokens.count, recorder: recorder, setupTime: setupTime, window: window,
            before: before, after: after)
    }

    private func progress(_ line: String) {
        guard !options.json else { return }
        FileHandle.standardError.write(Data("[load] \(line)\n".utf8))
    }

    /// Connect, login, select or create the character, enter the world, start walking.
    /// Returns nil (after counting the failure) when any step fails.
    private func setUp(index: Int) async -> LoadBot? {
        let name = Self.characterName(prefix: options.namePrefix, index: index)
        let bot = LoadBot(index: index, name: name)
        let connectStarted = ContinuousClock.now
        var configuration = GameClient.Configuration()
        configuration.statistics = statistics
        configuration.requestTimeout = .milliseconds(Int64(options.requestTimeout * 1000))
        // Nobody reads the stream: events are handled on the event loop by the observer.
        configuration.eventBuffering = .bufferingNewest(0)
        configuration.eventObserver = { [recorder, ledger] event in
            Self.observe(event, bot: bot, recorder: recorder, ledger: ledger)
        }
        configuration.logger.logLevel = .warning

        let client: GameClient
        do {
            client = try await GameClient.connect(host: options.server.host, port: options.server.port,
                                                  clientName: "mmo-bot-load", timeout: configuration.requestTimeout,
                                                  configuration: configuration)
        } catch {
            recorder.fail("connect: \(Report.label(error))")
            return nil
        }
        recorder.connected.add(1, ordering: .relaxed)
        bot.client.withLock { $0 = client }

        do {
            let loginStarted = ContinuousClock.now
            _ = try await client.login(token: tokens[index])
            let loginTime = ContinuousClock.now - loginStarted
            recorder.loginLatency.withLock { $0.record(loginTime) }
            recorder.loggedIn.add(1, ordering: .relaxed)
        } catch {
            recorder.fail("login: \(Report.label(error))")
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
                character = try await client.createCharacter(name: name, classId: options.classId)
            }
            entry = try await client.enterWorld(characterId: character.id)
        } catch {
            recorder.fail("character/enter: \(Report.label(error))")
            await client.close()
            return nil
        }
        let enterTime = ContinuousClock.now - connectStarted
        recorder.enterLatency.withLock { $0.record(enterTime) }
        recorder.inWorld.add(1, ordering: .relaxed)
        bot.entityId.store(entry.entityId, ordering: .relaxed)

        let center = recorder.center.withLock { center in
            if center == nil { center = (entry.x, entry.y) }
            return center!
        }
        start(bot, client: client, entry: entry, center: center)
        return bot
    }

    /// Starts the bot's move/chat timer on its connection's event loop.
    private func start(_ bot: LoadBot, client: GameClient, entry: WorldEntry, center: (x: Float, y: Float)) {
        let interval = TimeAmount.milliseconds(Int64(options.moveIntervalMs))
        // 75% of the speed limit leaves room for timer jitter between two moves.
        let step = options.maxSpeed * Float(options.moveIntervalMs) / 1000 * 0.75
        let spread = options.spread
        let chatInterval: Duration? = options.chatIntervalS > 0 ? .milliseconds(Int64(options.chatIntervalS * 1000)) : nil
        let target = Self.randomPoint(around: center, within: spread)
        // Spread the first chat over one interval so the bots do not all talk in the same tick.
        let firstChat = ContinuousClock.now + .milliseconds(Int64.random(in: 0...Int64(max(1, options.chatIntervalS * 1000))))
        bot.walk.withLock { $0 = LoadBot.Walk(x: entry.x, y: entry.y, targetX: target.x, targetY: target.y, nextChat: firstChat) }

        let ledger = self.ledger
        let recorder = self.recorder
        let task = client.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Int64.random(in: 0..<Int64(options.moveIntervalMs))),
            delay: interval
        ) { task in
            let now = ContinuousClock.now
            let (x, y, chat) = bot.walk.withLock { walk -> (Float, Float, String?) in
                guard var w = walk else { return (0, 0, nil) }
                let dx = w.targetX - w.x, dy = w.targetY - w.y
                let distance = (dx * dx + dy * dy).squareRoot()
                if distance <= step {
                    w.x = w.targetX
                    w.y = w.targetY
                    let next = Self.randomPoint(around: center, within: spread)
                    w.targetX = next.x
                    w.targetY = next.y
                } else {
                    w.x += dx / distance * step
                    w.y += dy / distance * step
                }
                var chat: String?
                if let chatInterval, now >= w.nextChat {
                    w.chats += 1
                    chat = "\(bot.name) says hi #\(w.chats)"
                    w.nextChat = now + chatInterval
                }
                walk = w
                return (w.x, w.y, chat)
            }
            // Recorded before sending, so a neighbour can never see the move before it is known.
            ledger.record(entityId: bot.entityId.load(ordering: .relaxed), x: x, y: y, at: now)
            do {
                try client.move(x: x, y: y)
                if let chat { try client.say(chat) }
            } catch {
                task.cancel()
                if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: \(Report.label(error))") }
            }
        }
        bot.timer.withLock { $0 = task }
    }

    /// Runs on the bot's event loop for every event it receives.
    private static func observe(_ event: ClientEvent, bot: LoadBot, recorder: LoadRecorder, ledger: MoveLedger) {
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
        case .leftWorld(let code):
            if !bot.stopping.load(ordering: .relaxed) { recorder.fail("in world: LEFT_WORLD \(code.name)") }
        }
    }

    /// The bot's character name: the prefix, then each of the index's five decimal digits as a
    /// consonant-vowel syllable. Names must be letters only with no letter three times in a
    /// row, and the server capitalizes them, so the result is already in that form.
    static func characterName(prefix: String, index: Int) -> String {
        let syllables = ["ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu"]
        var digits: [Int] = []
        var rest = index % 100_000
        for _ in 0..<5 {
            digits.append(rest % 10)
            rest /= 10
        }
        let capitalized = prefix.prefix(1).uppercased() + prefix.dropFirst().lowercased()
        return capitalized + digits.reversed().map { syllables[$0] }.joined()
    }

    private static func randomPoint(around center: (x: Float, y: Float), within radius: Float) -> (x: Float, y: Float) {
        // Uniform over the disc: radius grows with the square root of a uniform number.
        let r = radius * Float.random(in: 0...1).squareRoot()
        let angle = Float.random(in: 0..<(2 * .pi))
        return (center.x + r * cos(angle), center.y + r * sin(angle))
    }
}

/// What a load run prints (as text or JSON).
struct LoadSummary: Codable {
    struct Latency: Codable {
        var samples: Int
        var p50Ms: Double?
        var p90Ms: Double?
        var p99Ms: Double?
        var maxMs: Double?

        init(_ histogram: LatencyHistogram) {
            samples = histogram.count
            p50Ms = histogram.percentile(0.5).map(Report.millisValue)
            p90Ms = histogram.percentile(0.9).map(Report.millisValue)
            p99Ms = histogram.percentile(0.99).map(Report.millisValue)
            maxMs = histogram.count > 0 ? Report.millisValue(histogram.max) : nil
        }

        var text: String {
            func ms(_ v: Double?) -> String { v.map { String(format: "%.2f ms", $0) } ?? "-" }
            return "p50 \(ms(p50Ms))  p90 \(ms(p90Ms))  p99 \(ms(p99Ms))  max \(ms(maxMs))  (\(samples) samples)"
        }
    }

    var host: String
    var port: Int
    var moveIntervalMs: Int
    var chatIntervalS: Double
    var spread: Float
    var botsRequested: Int
    var botsConnected: Int
    var botsLoggedIn: Int
    var botsInWorld: Int
    var botsLostDuringRun: Int
    var failures: [String: Int]
    var refusals: [String: Int]
    var setupSeconds: Double
    var measuredSeconds: Double
    var movesSent: Int
    var movesPerSecond: Double
    var corrections: Int
    var worldUpdatesReceived: Int
    var worldEventsReceived: Int
    var worldEventsPerSecond: Double
    var bytesReceived: Int
    var bytesReceivedPerSecond: Double
    var bytesSent: Int
    var moveToNeighbourLatency: Latency
    var unmatchedMoveEvents: Int
    var loginLatency: Latency
    var connectToInWorldLatency: Latency

    fileprivate init(options: LoadCommand, bots: Int, recorder: LoadRecorder, setupTime: Duration, window: Duration,
                     before: ClientStatistics.Snapshot, after: ClientStatistics.Snapshot) {
        let seconds = max(Report.seconds(window), 0.001)
        host = options.server.host
        port = options.server.port
        moveIntervalMs = options.moveIntervalMs
        chatIntervalS = options.chatIntervalS
        spread = options.spread
        botsRequested = bots
        botsConnected = recorder.connected.load(ordering: .relaxed)
        botsLoggedIn = recorder.loggedIn.load(ordering: .relaxed)
        botsInWorld = recorder.inWorld.load(ordering: .relaxed)
        botsLostDuringRun = recorder.lostDuringRun.load(ordering: .relaxed)
        failures = recorder.failures.withLock { $0 }
        refusals = recorder.refusals.withLock { $0 }
        setupSeconds = Report.seconds(setupTime)
        measuredSeconds = seconds
        movesSent = after.movesSent - before.movesSent
        movesPerSecond = Double(movesSent) / seconds
        corrections = recorder.corrections.load(ordering: .relaxed)
        worldUpdatesReceived = after.worldUpdatesReceived - before.worldUpdatesReceived
        worldEventsReceived = after.worldEventsReceived - before.worldEventsReceived
        worldEventsPerSecond = Double(worldEventsReceived) / seconds
        bytesReceived = after.bytesReceived - before.bytesReceived
        bytesReceivedPerSecond = Double(bytesReceived) / seconds
        bytesSent = after.bytesSent - before.bytesSent
        moveToNeighbourLatency = Latency(recorder.moveLatency)
        unmatchedMoveEvents = recorder.unmatchedMoves.load(ordering: .relaxed)
        loginLatency = Latency(recorder.loginLatency.withLock { $0 })
        connectToInWorldLatency = Latency(recorder.enterLatency.withLock { $0 })
    }

    var inWorld: Int { botsInWorld }

    func printText() {
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
        }
        print("load run against \(host):\(port): \(botsRequested) bots, move every \(moveIntervalMs) ms, chat every \(chatIntervalS) s, spread \(spread)")
        print("bots:        \(botsConnected) connected, \(botsLoggedIn) logged in, \(botsInWorld) in world, \(botsLostDuringRun) lost during the run")
        print("failures:    \(counts(failures))")
        print("refusals:    \(counts(refusals))")
        print(String(format: "setup:       %.2f s to bring every bot in; measured %.2f s after that", setupSeconds, measuredSeconds))
        print(String(format: "moves:       %d sent (%.1f/s), %d corrected", movesSent, movesPerSecond, corrections))
        print(String(format: "world:       %d events (%.1f/s) in %d updates; %.2f MB received (%.1f KB/s), %.2f MB sent",
                     worldEventsReceived, worldEventsPerSecond, worldUpdatesReceived,
                     Double(bytesReceived) / 1e6, bytesReceivedPerSecond / 1e3, Double(bytesSent) / 1e6))
        print("move->neighbour latency: \(moveToNeighbourLatency.text), \(unmatchedMoveEvents) move events unmatched")
        print("login latency:           \(loginLatency.text)")
        print("connect->in world:       \(connectToInWorldLatency.text)")
    }
}
