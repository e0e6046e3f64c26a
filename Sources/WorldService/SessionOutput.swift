import MMOProtocol
import NIOCore

/// What one session learns from one tick.
public enum SessionOutcome: Sendable, Equatable {
    /// The join was accepted: the player is `entityID`, standing at `position` in `zoneID`.
    case joined(entityID: UInt64, zoneID: UInt32, position: Position)
    /// The join was refused, for the reason `code`.
    case rejected(ResultCode)
    /// A complete WORLD_UPDATE body (`u64 tick | u16 count | events`). A session normally gets
    /// one per tick; more only when its events exceed one frame.
    case update(ByteBuffer)
    /// The player is out of the world: it asked to leave (`.ok`), logged in elsewhere, or the
    /// world is shutting down.
    case left(ResultCode)
}

/// One output of a simulation step, addressed to a session.
public struct SessionOutput: Sendable, Equatable {
    public var key: SessionKey
    public var outcome: SessionOutcome

    public init(key: SessionKey, outcome: SessionOutcome) {
        self.key = key
        self.outcome = outcome
    }
}
