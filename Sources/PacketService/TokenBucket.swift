import NIOCore

/// A token bucket for per-connection flood control. Pure: the caller passes the time.
public struct TokenBucket: Sendable, Equatable {
    public let ratePerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: NIODeadline

    public init(ratePerSecond: Double, burst: Int, now: NIODeadline) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(burst, 1))
        self.tokens = self.burst
        self.last = now
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
