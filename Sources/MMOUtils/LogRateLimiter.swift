/// Decides which log lines pass, per message: each distinct message gets `burst` lines at once
/// and then `burst` more per `period`; what is held back is counted and reported with the next
/// line that passes. Pure: the caller gives the time, so tests step it.
///
/// For lines a client can cause (a refused request, a failed backend call): without a limit one
/// client can write thousands of lines a second. Keys are message texts, which are constant in
/// our log calls (variable parts go in metadata); the table is bounded all the same.
public struct LogRateLimiter: Sendable {
    /// What to do with one line.
    public enum Decision: Equatable, Sendable {
        /// Write it; `suppressed` lines of this message were held back since the last one written.
        case write(suppressed: Int)
        /// Hold it back.
        case suppress
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var suppressed: Int
    }

    public let burst: Int
    public let period: Duration
    /// Most distinct messages tracked; when full, the table starts again (a few lines too many
    /// are better than unbounded memory).
    public let maxKeys: Int
    private var buckets: [String: Bucket] = [:]

    public init(burst: Int = 10, period: Duration = .seconds(10), maxKeys: Int = 1024) {
        precondition(burst > 0 && period > .zero && maxKeys > 0)
        self.burst = burst
        self.period = period
        self.maxKeys = maxKeys
    }

    public mutating func admit(_ key: String, now: ContinuousClock.Instant) -> Decision {
        if buckets[key] == nil, buckets.count >= maxKeys { buckets.removeAll(keepingCapacity: true) }
        var bucket = buckets[key] ?? Bucket(tokens: Double(burst), updated: now, suppressed: 0)
        let elapsed = now - bucket.updated
        if elapsed > .zero {
            let refill = Double(burst) * (elapsed / period)
            bucket.tokens = min(Double(burst), bucket.tokens + refill)
            bucket.updated = now
        }
        let decision: Decision
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            decision = .write(suppressed: bucket.suppressed)
            bucket.suppressed = 0
        } else {
            bucket.suppressed += 1
            decision = .suppress
        }
        buckets[key] = bucket
        return decision
    }
}
