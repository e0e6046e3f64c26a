import Logging
import Synchronization
import Testing
@testable import MMOUtils

@Suite struct LogRateLimiterTests {
    let start = ContinuousClock.now

    @Test("a burst passes, the rest is held back and counted on the next line written")
    func burstThenSuppressed() {
        var limiter = LogRateLimiter(burst: 3, period: .seconds(3))
        let decisions = (0..<10).map { _ in limiter.admit("backend call failed", now: start) }
        #expect(decisions.prefix(3).allSatisfy { $0 == .write(suppressed: 0) })
        #expect(decisions.dropFirst(3).allSatisfy { $0 == .suppress })
        // One token per second comes back; the next line reports the seven held back.
        #expect(limiter.admit("backend call failed", now: start + .seconds(1)) == .write(suppressed: 7))
        #expect(limiter.admit("backend call failed", now: start + .seconds(1)) == .suppress)
    }

    @Test("each message has its own budget")
    func perMessage() {
        var limiter = LogRateLimiter(burst: 1, period: .seconds(10))
        #expect(limiter.admit("a", now: start) == .write(suppressed: 0))
        #expect(limiter.admit("a", now: start) == .suppress)
        #expect(limiter.admit("b", now: start) == .write(suppressed: 0))
    }

    @Test("the table of messages is bounded")
    func boundedKeys() {
        var limiter = LogRateLimiter(burst: 1, period: .seconds(10), maxKeys: 4)
        for index in 0..<100 { _ = limiter.admit("message \(index)", now: start) }
        // Still works after many distinct keys: a new key gets its burst.
        #expect(limiter.admit("fresh", now: start) == .write(suppressed: 0))
    }
}

/// Records what reaches it.
private struct RecordingHandler: LogHandler {
    final class Lines: Sendable {
        let events = Mutex<[LogEvent]>([])
    }
    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lines.events.withLock { $0.append(event) } }
}

@Suite struct RateLimitedLogHandlerTests {
    @Test("500 client-caused lines in one instant write only the burst; the next one says how many were dropped")
    func floodIsCapped() {
        let lines = RecordingHandler.Lines()
        let clock = Mutex(ContinuousClock.now)
        let handler = RateLimitedLogHandler(
            wrapping: RecordingHandler(lines: lines), limiter: LogRateLimiter(burst: 10, period: .seconds(10)),
            now: { clock.withLock { $0 } })
        let logger = Logger(label: "test", factory: { _ in handler })
        for _ in 0..<500 { logger.warning("backend call failed", metadata: ["error": "unavailable"]) }
        logger.info("something else")
        #expect(lines.events.withLock { $0.count } == 11)
        clock.withLock { $0 = $0 + .seconds(1) }
        logger.warning("backend call failed")
        let last = lines.events.withLock { $0.last }
        #expect(last?.message == "backend call failed")
        #expect(last?.metadata?["suppressed"] == "490")
    }

    @Test("wrap keeps the label and level, and copies share one limiter")
    func wrapKeepsLoggerSettings() {
        let lines = RecordingHandler.Lines()
        var base = Logger(label: "mmo.packet", factory: { _ in RecordingHandler(lines: lines) })
        base.logLevel = .warning
        var logger = RateLimitedLogHandler.wrap(base, limiter: LogRateLimiter(burst: 2, period: .seconds(60)))
        #expect(logger.label == "mmo.packet" && logger.logLevel == .warning)
        logger.info("below the level")
        logger[metadataKey: "connection"] = "7"
        let copy = logger
        logger.warning("refused")
        copy.warning("refused")
        copy.warning("refused")
        #expect(lines.events.withLock { $0.count } == 2)
    }
}

@Suite struct MetricHelpTests {
    @Test("HELP goes before each TYPE line that has none; everything else is unchanged")
    func addsHelp() {
        let text = "# TYPE mmo_world_players gauge\nmmo_world_players 3\n# HELP mine Mine.\n# TYPE mine counter\nmine 1\n# TYPE unknown_metric counter\nunknown_metric 2\n"
        let out = String(decoding: MetricHelp.addingHelp(to: Array(text.utf8)), as: UTF8.self)
        #expect(out == "# HELP mmo_world_players Players in the world.\n# TYPE mmo_world_players gauge\nmmo_world_players 3\n# HELP mine Mine.\n# TYPE mine counter\nmine 1\n# TYPE unknown_metric counter\nunknown_metric 2\n")
        #expect(MetricHelp.addingHelp(to: []) == [])
    }
}
