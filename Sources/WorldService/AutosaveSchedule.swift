/// Decides, tick by tick, which players the autosave looks at, from the tick's clock alone.
///
/// Players are split into `bucketCount` buckets (the simulation puts slot `s` in bucket
/// `s % bucketCount`), one bucket per `interval / bucketCount` slice of time: each tick takes
/// the buckets whose slice began since the previous tick, and the changed positions in them are
/// saved. Every bucket comes up once per `interval`, so a changed position is written at most
/// one interval (and a tick) after the change, and the writes are spread evenly over the
/// interval instead of arriving as one burst. With the default 10 s at 20 Hz there are 200
/// buckets: each tick saves about 1/200 of the moved players.
///
/// The first tick only starts the schedule. A tick that comes late takes every bucket whose
/// slice it skipped (all of them at most, each once), so a late tick never leaves a bucket out.
public struct AutosaveSchedule: Sendable, Equatable {
    /// The buckets due at a tick: `count` buckets from `first` on, wrapping at `bucketCount`.
    public struct Due: Sendable, Equatable {
        public var first: Int
        public var count: Int

        public init(first: Int, count: Int) {
            self.first = first
            self.count = count
        }

        /// The bucket numbers, in order.
        public func buckets(of bucketCount: Int) -> [Int] {
            (0..<count).map { (first + $0) % bucketCount }
        }
    }

    /// The time in which every bucket comes up once.
    public let interval: Duration
    /// How many slices the interval is cut into: one per tick, at least 1.
    public let bucketCount: Int
    private let sliceNanoseconds: Int64
    /// When the schedule started (the first tick); nil before it.
    public private(set) var origin: Duration?
    /// The last slice handed out, counted from `origin`.
    private var lastSlice: Int64 = 0

    /// - Parameters:
    ///   - interval: must be positive (`WorldConfiguration.validate()` checks it).
    ///   - tickInterval: the world's tick; the interval gets one bucket per tick.
    public init(interval: Duration, tickInterval: Duration) {
        self.interval = interval
        let intervalNanoseconds = Self.nanoseconds(interval)
        let tick = max(1, Self.nanoseconds(tickInterval))
        bucketCount = Int(max(1, min(intervalNanoseconds / tick, 1 << 20)))
        sliceNanoseconds = max(1, intervalNanoseconds / Int64(bucketCount))
    }

    /// The buckets due at a tick at `now`. Call once per tick, with non-decreasing times.
    public mutating func due(at now: Duration) -> Due {
        guard let origin else {
            origin = now
            return Due(first: 0, count: 0)
        }
        let slice = Self.nanoseconds(now - origin) / sliceNanoseconds
        guard slice > lastSlice else { return Due(first: 0, count: 0) }
        let skipped = slice - lastSlice
        let first = Int((lastSlice + 1) % Int64(bucketCount))
        lastSlice = slice
        return Due(first: first, count: Int(min(skipped, Int64(bucketCount))))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
