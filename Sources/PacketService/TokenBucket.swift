import NIOCore

/// A token bucket for per-connection flood control (frames, and chat lines). Pure: the caller
/// passes the time.
public struct TokenBucket: Sendable, Equatable {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: NIODeadline

    /// Starts full: `burst` tokens (at least 1), refilled at `ratePerSecond`.
    public init(ratePerSecond: Double, burst: Int, now: NIODeadline) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(burst, 1))
        self.tokens = self.burst
        self.last = now
    }

    /// `tokens` per `period`, all of them available at once: "5 lines per 10 s" allows a burst
    /// of 5, then one more every 2 s.
    public init(tokens: Int, per period: TimeAmount, now: NIODeadline) {
        let perSecond = Double(tokens) * 1_000_000_000 / Double(max(period.nanoseconds, 1))
        self.init(ratePerSecond: perSecond, burst: tokens, now: now)
    }

    /// Takes one token if there is one; refills for the time elapsed since the last call first.
    public mutating func take(now: NIODeadline) -> Bool {
        if now > last {
            let elapsed = Double((now - last).nanoseconds) / 1_000_000_000
            tokens = min(burst, tokens + elapsed * ratePerSecond)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
