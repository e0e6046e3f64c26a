import MMOTime
import Foundation
import MMOClient

/// What a load run measured, printed as text or JSON. The JSON keys are the property names;
/// BENCHMARKS.md and scripts/bench-load.sh rely on them, so renaming one is a format change.
public struct LoadSummary: Codable, Sendable, Equatable {
    /// Percentiles of one latency histogram, in milliseconds; nil without samples.
    public struct Latency: Codable, Sendable, Equatable {
        public var samples: Int
        public var p50Ms: Double?
        public var p90Ms: Double?
        public var p99Ms: Double?
        public var maxMs: Double?

        init(_ histogram: LatencyHistogram) {
            samples = histogram.count
            p50Ms = histogram.percentile(0.5)?.inMilliseconds
            p90Ms = histogram.percentile(0.9)?.inMilliseconds
            p99Ms = histogram.percentile(0.99)?.inMilliseconds
            maxMs = histogram.count > 0 ? histogram.max.inMilliseconds : nil
        }

        /// "p50 1.00 ms  p90 ...  (N samples)".
        public var text: String {
            func ms(_ value: Double?) -> String { BotFormat.millis(value) }
            return "p50 \(ms(p50Ms))  p90 \(ms(p90Ms))  p99 \(ms(p99Ms))  max \(ms(maxMs))  (\(samples) samples)"
        }
    }

    public var host: String
    public var port: Int
    public var moveIntervalMs: Int
    public var chatIntervalS: Double
    public var spread: Float
    public var botsRequested: Int
    public var botsConnected: Int
    public var botsLoggedIn: Int
    public var botsInWorld: Int
    public var botsLostDuringRun: Int
    /// Connection drops in the world the SDK reconnected after; of those, how many resumed the
    /// character and how many logged in and entered again after a refused RESUME. A drop that
    /// ends neither way counts in `botsLostDuringRun`.
    public var reconnects: Int
    public var botsResumed: Int
    public var botsReentered: Int
    /// Setup failures and in-run failures, by step and label (mostly result code names).
    public var failures: [String: Int]
    /// ERRORs for fire-and-forget messages (e.g. a rate-limited SAY), by opcode and code.
    public var refusals: [String: Int]
    public var setupSeconds: Double
    public var measuredSeconds: Double
    public var movesSent: Int
    public var movesPerSecond: Double
    public var corrections: Int
    public var worldUpdatesReceived: Int
    public var worldEventsReceived: Int
    public var worldEventsPerSecond: Double
    public var bytesReceived: Int
    public var bytesReceivedPerSecond: Double
    public var bytesSent: Int
    public var moveToNeighbourLatency: Latency
    public var unmatchedMoveEvents: Int
    public var loginLatency: Latency
    public var connectToInWorldLatency: Latency

    /// Traffic figures are the difference between the snapshots taken at the start and the end
    /// of the measurement window, and rates divide by that window (at least 1 ms).
    init(configuration: LoadConfiguration, recorder: LoadRecorder, setupTime: Duration, window: Duration,
         before: ClientStatistics.Snapshot, after: ClientStatistics.Snapshot) {
        let seconds = max(window.inSeconds, 0.001)
        host = configuration.host
        port = configuration.port
        moveIntervalMs = Int(configuration.moveInterval.inMilliseconds.rounded())
        chatIntervalS = configuration.chatInterval.inSeconds
        spread = configuration.spread
        botsRequested = configuration.tokens.count
        botsConnected = recorder.connected.load(ordering: .relaxed)
        botsLoggedIn = recorder.loggedIn.load(ordering: .relaxed)
        botsInWorld = recorder.inWorld.load(ordering: .relaxed)
        botsLostDuringRun = recorder.lostDuringRun.load(ordering: .relaxed)
        reconnects = recorder.reconnects.load(ordering: .relaxed)
        botsResumed = recorder.resumed.load(ordering: .relaxed)
        botsReentered = recorder.reentered.load(ordering: .relaxed)
        failures = recorder.failures.withLock { $0 }
        refusals = recorder.refusals.withLock { $0 }
        setupSeconds = setupTime.inSeconds
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

    /// The summary as pretty-printed JSON with sorted keys (`--json`).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The summary as the text lines `mmo-bot load` prints without `--json`.
    public var textLines: [String] {
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
        }
        return [
            "load run against \(host):\(port): \(botsRequested) bots, move every \(moveIntervalMs) ms, chat every \(chatIntervalS) s, spread \(spread)",
            "bots:        \(botsConnected) connected, \(botsLoggedIn) logged in, \(botsInWorld) in world, \(botsLostDuringRun) lost during the run",
            "failures:    \(counts(failures))",
            "refusals:    \(counts(refusals))",
            String(format: "setup:       %.2f s to bring every bot in; measured %.2f s after that", setupSeconds, measuredSeconds),
            String(format: "moves:       %d sent (%.1f/s), %d corrected", movesSent, movesPerSecond, corrections),
            String(format: "world:       %d events (%.1f/s) in %d updates; %.2f MB received (%.1f KB/s), %.2f MB sent",
                   worldEventsReceived, worldEventsPerSecond, worldUpdatesReceived,
                   Double(bytesReceived) / 1e6, bytesReceivedPerSecond / 1e3, Double(bytesSent) / 1e6),
            "move->neighbour latency: \(moveToNeighbourLatency.text), \(unmatchedMoveEvents) move events unmatched",
            "login latency:           \(loginLatency.text)",
            "connect->in world:       \(connectToInWorldLatency.text)",
            "reconnects:  \(reconnects) drops in the world, \(botsResumed) resumed, \(botsReentered) re-entered after a refused resume, \(botsLostDuringRun) lost",
        ]
    }
}
