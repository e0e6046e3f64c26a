/// The one place a `Duration` becomes a plain number. `Duration`'s own arithmetic is exact but
/// slow and its `components` are easy to get wrong (attoseconds are 1e-18 s); every module that
/// needs seconds, milliseconds or nanoseconds for rates, metrics, wire fields or timestamps uses
/// these instead of writing its own conversion.
extension Duration {
    /// Seconds with the fraction kept: rate arithmetic, metrics.
    @inlinable
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Milliseconds with the fraction kept: latency summaries.
    @inlinable
    public var inMilliseconds: Double { inSeconds * 1000 }

    /// Whole milliseconds, rounded up so a timeout is never shorter than asked (Redis `PX`).
    @inlinable
    public var millisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let whole = seconds * 1000 + attoseconds / perMillisecond
        return attoseconds % perMillisecond > 0 ? whole + 1 : whole
    }

    /// Whole milliseconds, truncated toward zero (timestamps in milliseconds).
    @inlinable
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole microseconds, 0 for a negative duration (histogram buckets).
    @inlinable
    public var wholeMicroseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000 &+ UInt64(attoseconds / 1_000_000_000_000)
    }

    /// Whole nanoseconds (timers).
    @inlinable
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
