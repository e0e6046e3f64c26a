import MMOProtocol
import NIOCore

/// Addresses one player session: which gateway link it came through and the gateway's own id
/// for the connection (unique only within that link).
public struct SessionKey: Hashable, Sendable, CustomStringConvertible {
    /// The runtime's number for a gateway stream.
    public var link: UInt32
    /// The gateway's connection id.
    public var session: UInt64

    public init(link: UInt32, session: UInt64) {
        self.link = link
        self.session = session
    }

    public var description: String { "\(link)/\(session)" }
}

/// Who a character is, as far as others can see. Taken from the join request.
public struct PlayerProfile: Sendable, Equatable {
    public var characterID: UInt64
    public var accountID: String
    public var name: String
    public var classID: UInt8
    public var appearance: UInt32
    public var level: UInt16

    public init(characterID: UInt64, accountID: String = "", name: String, classID: UInt8 = 0, appearance: UInt32 = 0, level: UInt16 = 1) {
        self.characterID = characterID
        self.accountID = accountID
        self.name = name
        self.classID = classID
        self.appearance = appearance
        self.level = level
    }
}

/// One input to the simulation, already attributed to a session.
public enum PlayerCommand: Sendable, Equatable {
    /// Enter the world. `zoneID` 0 means "the default zone, at its spawn point"; a position outside
    /// the zone (or non-finite) also means the spawn point.
    case join(PlayerProfile, zoneID: UInt32, position: Position)
    /// Walk to a position. `seq` is echoed in a correction if the move is refused.
    case move(seq: UInt32, to: Position)
    /// Say-chat to everyone nearby.
    case say(String)
    /// Leave the world (client asked, or its connection closed).
    case leave
}

/// What one session learns from one tick. The runtime turns these into `Mmo_SessionOutput`s.
public enum SessionOutcome: Sendable, Equatable {
    case joined(entityID: UInt64, zoneID: UInt32, position: Position)
    case rejected(ResultCode)
    /// A complete WORLD_UPDATE body (`u64 tick | u16 count | events`). A session normally gets
    /// one per tick; more only when its events exceed one frame.
    case update(ByteBuffer)
    /// The player is out of the world: it asked to leave (`.ok`), logged in elsewhere, or the
    /// world is shutting down.
    case left(ResultCode)
}

/// One output of a tick, addressed to a session.
public struct SessionOutput: Sendable, Equatable {
    public var key: SessionKey
    public var outcome: SessionOutcome

    public init(key: SessionKey, outcome: SessionOutcome) {
        self.key = key
        self.outcome = outcome
    }
}

/// The persistent part of a character the world owns: where it stands.
public struct CharacterPosition: Sendable, Hashable {
    public var characterID: UInt64
    public var zoneID: UInt32
    public var position: Position

    public init(characterID: UInt64, zoneID: UInt32, position: Position) {
        self.characterID = characterID
        self.zoneID = zoneID
        self.position = position
    }
}

/// Counters the simulation keeps for the runtime to export as metrics. They only ever grow.
public struct SimulationCounters: Sendable, Equatable {
    /// Moves refused because they were too far for the elapsed time.
    public var movesTooFast = 0
    /// Moves refused because the target was outside the zone.
    public var movesOutOfBounds = 0
    /// Chat lines dropped by the per-player rate limit.
    public var chatRateLimited = 0
    /// Chat lines dropped for being empty or longer than the protocol allows.
    public var chatInvalid = 0
    /// Inputs for sessions that are not in the world (raced with a leave, or a gateway bug).
    public var inputsForUnknownSessions = 0
    /// Joins refused, any reason.
    public var joinsRejected = 0

    public init() {}
}
