import Logging
import Synchronization

/// Wraps a ``GameCache`` so that its failures never fail a request: reads degrade to misses,
/// writes and deletes are dropped. Failures are counted and logged at most once per interval
/// (a Redis outage would otherwise log once per request).
struct ResilientCache: Sendable {
    let backing: any GameCache
    let metrics: DatabaseMetrics
    let logger: Logger
    private let limiter: LogRateLimiter

    init(backing: any GameCache, metrics: DatabaseMetrics, logger: Logger, logInterval: Duration = .seconds(10)) {
        self.backing = backing
        self.metrics = metrics
        self.logger = logger
        self.limiter = LogRateLimiter(interval: logInterval)
    }

    func get(_ key: String, kind: CacheKind) async -> [UInt8]? {
        do {
            let value = try await backing.get(key)
            if value == nil { metrics.cacheMiss(kind) } else { metrics.cacheHit(kind) }
            return value
        } catch {
            metrics.cacheMiss(kind)
            failed("get", kind: kind, error)
            return nil
        }
    }

    func set(_ key: String, value: [UInt8], ttl: Duration, kind: CacheKind) async {
        guard ttl > .zero else { return }
        do {
            try await backing.set(key, value: value, ttl: ttl)
        } catch {
            failed("set", kind: kind, error)
        }
    }

    /// Returns false if the delete failed: the entry may then stay stale until its TTL ends.
    @discardableResult
    func delete(_ keys: [String], kind: CacheKind) async -> Bool {
        guard !keys.isEmpty else { return true }
        do {
            try await backing.delete(keys)
            return true
        } catch {
            failed("delete", kind: kind, error)
            return false
        }
    }

    func ping() async -> Bool {
        do {
            try await backing.ping()
            return true
        } catch {
            failed("ping", kind: nil, error)
            return false
        }
    }

    private func failed(_ command: String, kind: CacheKind?, _ error: any Error) {
        metrics.cacheErrors.increment()
        // Errors carry no keys (they would reveal token hashes) or values.
        if let suppressed = limiter.shouldLog() {
            logger.warning(
                "cache unavailable, serving from the database",
                metadata: [
                    "cache.command": "\(command)",
                    "cache.kind": "\(kind?.rawValue ?? "-")",
                    "error": "\(error)",
                    "suppressed": "\(suppressed)",
                ])
        }
    }
}

/// Allows one log line per interval and counts what it suppressed in between.
final class LogRateLimiter: Sendable {
    private struct State {
        var last: ContinuousClock.Instant?
        var suppressed = 0
    }

    private let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// nil: don't log. Otherwise log, mentioning how many were suppressed since the last line.
    func shouldLog() -> Int? {
        let now = ContinuousClock.now
        return state.withLock { state in
            if let last = state.last, now - last < interval {
                state.suppressed += 1
                return nil
            }
            state.last = now
            defer { state.suppressed = 0 }
            return state.suppressed
        }
    }
}
