/// Decides when the periodic autosave runs, from the tick's clock alone.
///
/// The first tick only sets the schedule: the world's first autosave comes one `interval` after
/// it started, not at once (every position was just loaded from the database). After that an
/// autosave is due at the first tick at or past `interval` since the previous one; a tick that
/// comes late does not make the following ones come early (no catching up).
public struct AutosaveSchedule: Sendable, Equatable {
    /// The time between two autosaves.
    public let interval: Duration
    /// When the next autosave is due; nil before the first tick.
    public private(set) var nextDue: Duration?

    /// - Parameter interval: must be positive (`WorldConfiguration.validate()` checks it).
    public init(interval: Duration) {
        self.interval = interval
    }

    /// Whether a tick at `now` should autosave. Call once per tick; a true answer starts the
    /// next interval at `now`.
    public mutating func isDue(at now: Duration) -> Bool {
        guard let due = nextDue else {
            nextDue = now + interval
            return false
        }
        guard now >= due else { return false }
        nextDue = now + interval
        return true
    }
}
