import MMOTime

/// A fixed-memory latency histogram for load bots: microsecond resolution below 128 µs, then 64
/// buckets per power of two (at most ~1.6% error), up to ~19 hours. Recording is O(1) with no
/// allocation, so it can run on the event loop for every observed event, and histograms from
/// many recorders merge exactly.
public struct LatencyHistogram: Sendable, Equatable {
    private static let exactLimit: UInt64 = 128
    private static let subBucketBits = 6
    private static let maxExponent = 36
    private static let bucketCount = Int(exactLimit) + (maxExponent - 6) * (1 << subBucketBits)

    private var counts: [UInt32]
    /// Number of recorded samples.
    public private(set) var count: Int = 0
    /// The largest sample, exact.
    public private(set) var max: Duration = .zero
    /// The smallest sample, exact.
    public private(set) var min: Duration = .zero
    private var sumMicros: Double = 0

    public init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    /// Records one sample; negative durations count as zero.
    public mutating func record(_ duration: Duration) {
        let micros = duration.wholeMicroseconds
        counts[Self.index(of: micros)] &+= 1
        if count == 0 || duration < min { min = Swift.max(duration, .zero) }
        if duration > max { max = duration }
        count += 1
        sumMicros += Double(micros)
    }

    /// Adds every sample of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        for i in counts.indices { counts[i] &+= other.counts[i] }
        if count == 0 || other.min < min { min = other.min }
        if other.max > max { max = other.max }
        count += other.count
        sumMicros += other.sumMicros
    }

    /// The mean, or nil without samples.
    public var mean: Duration? {
        count == 0 ? nil : .microseconds(Int64(sumMicros / Double(count)))
    }

    /// The value at quantile `q` (0...1): the midpoint of the bucket holding that rank, clamped to
    /// the exact min and max. nil without samples.
    public func percentile(_ q: Double) -> Duration? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += Int(n)
            if seen >= rank {
                let (low, width) = Self.bucketRange(index)
                let mid = Duration.microseconds(Int64(low + width / 2))
                return Swift.min(Swift.max(mid, min), max)
            }
        }
        return max
    }

    private static func index(of micros: UInt64) -> Int {
        if micros < exactLimit { return Int(micros) }
        let exponent = Swift.min(63 - micros.leadingZeroBitCount, maxExponent - 1)
        let sub = Int((micros >> UInt64(exponent - subBucketBits)) & ((1 << UInt64(subBucketBits)) - 1))
        let clampedSub = exponent == maxExponent - 1 && micros >> UInt64(maxExponent) > 0 ? (1 << subBucketBits) - 1 : sub
        return Int(exactLimit) + (exponent - 7) * (1 << subBucketBits) + clampedSub
    }

    /// Lower bound and width, in microseconds, of bucket `index`.
    private static func bucketRange(_ index: Int) -> (UInt64, UInt64) {
        if index < Int(exactLimit) { return (UInt64(index), 1) }
        let offset = index - Int(exactLimit)
        let exponent = offset / (1 << subBucketBits) + 7
        let sub = UInt64(offset % (1 << subBucketBits))
        let shift = UInt64(exponent - subBucketBits)
        return (((1 << UInt64(subBucketBits)) + sub) << shift, 1 << shift)
    }
}
