import Foundation
import MMOProtocol

/// What a connection needs from the world: join, inputs, leave. All calls are non-blocking and
/// safe from any thread; inputs are queued and sent in batches. Production: `WorldLink`.
protocol WorldSessionLink: Sendable {
    /// Queues a join; returns the link epoch it was queued on, or nil when the link is down
    /// (the caller answers SERVICE_UNAVAILABLE).
    func join(session: UInt64, _ join: WorldJoin) -> UInt64?
    func move(session: UInt64, seq: UInt32, x: Float, y: Float)
    func say(session: UInt64, text: String)
    func leave(session: UInt64)
}

/// A character entering the world: everything the world needs to place and show it.
public struct WorldJoin: Sendable, Equatable {
    public var characterId: UInt64
    public var accountId: String
    public var name: String
    public var classId: UInt32
    public var appearance: UInt32
    public var level: UInt32
    public var zoneId: UInt32
    public var x: Float
    public var y: Float

    public init(
        characterId: UInt64, accountId: String, name: String, classId: UInt32, appearance: UInt32,
        level: UInt32, zoneId: UInt32, x: Float, y: Float
    ) {
        self.characterId = characterId
        self.accountId = accountId
        self.name = name
        self.classId = classId
        self.appearance = appearance
        self.level = level
        self.zoneId = zoneId
        self.x = x
        self.y = y
    }

    /// The join for a character the character service selected for `accountId`.
    public init(character c: CharacterRecord, accountId: String) {
        self.init(
            characterId: c.id, accountId: accountId, name: c.name, classId: c.classId,
            appearance: c.appearance, level: c.level, zoneId: c.zoneId, x: c.x, y: c.y)
    }
}

/// One thing the world tells one session.
enum WorldOutput: Sendable, Equatable {
    /// A WORLD_UPDATE body (tick + events), already in wire form: forwarded as is.
    case update(Data)
    /// The join was accepted.
    case joined(WorldEntry)
    /// The join was refused with this code.
    case rejected(ResultCode)
    /// The world removed the character (or acknowledged our leave) with this code.
    case left(ResultCode)
}
