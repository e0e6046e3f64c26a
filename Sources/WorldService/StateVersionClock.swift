/// Gives every state the world captures for saving a version, which the database uses to apply
/// saves in order (a save lands only if its version is greater than the stored one).
///
/// A version is wall-clock microseconds since 1970, made strictly increasing within a process:
/// `next()` returns the larger of the current wall-clock floor and the previous version + 1.
/// Wall-clock time (not a counter) so that versions keep increasing across restarts and between
/// two world processes without any coordination; the `+ 1` keeps them increasing when the wall
/// clock steps back or many states are captured in one microsecond. The cost of that choice: a
/// world process whose clock runs ahead of another's by more than the time between their saves
/// of the same character would win over it (clocks are NTP-synchronised to milliseconds; a
/// character is saved by one world at a time). Without a wall clock (unit tests of the
/// simulation) versions are 1, 2, 3, ...
public struct StateVersionClock: Sendable, Equatable {
    /// The last version handed out.
    public private(set) var last: UInt64 = 0
    private var floor: UInt64 = 0

    public init() {}

    /// Raises the floor to the wall clock's `micros` (microseconds since 1970). The runtime
    /// calls it before each tick; a smaller value (the clock stepped back) is ignored.
    public mutating func advance(toWallClockMicros micros: UInt64) {
        if micros > floor { floor = micros }
    }

    /// The next version: greater than every earlier one.
    public mutating func next() -> UInt64 {
        last = Swift.max(floor, last &+ 1)
        return last
    }
}
