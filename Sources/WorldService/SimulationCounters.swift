/// Counters the simulation keeps for the runtime to export as metrics. They only ever grow.
public struct SimulationCounters: Sendable, Equatable {
    /// Moves refused because they were too far for the elapsed time.
    public var movesTooFast = 0
    /// Moves refused because the target was outside the zone.
    public var movesOutOfBounds = 0
    /// Chat lines dropped for being empty or longer than the protocol allows (the gateway
    /// refuses those before they get here; a line counted here means a gateway did not).
    public var chatInvalid = 0
    /// Inputs for sessions that are not in the world (raced with a leave, or a gateway bug).
    public var inputsForUnknownSessions = 0
    /// Joins refused, any reason.
    public var joinsRejected = 0
    /// RESUMEs that moved a character already in the world to a new session.
    public var resumes = 0

    public init() {}
}
