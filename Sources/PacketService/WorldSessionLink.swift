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

/// A character entering the world: the selected character (its saved zone and position
/// included) and the account it plays for. Everything the world needs to place and show it.
public struct WorldJoin: Sendable, Equatable {
    public var character: CharacterRecord
    public var accountId: String
    /// RESUME: if the character is in the world already (link-dead, here or on another gateway),
    /// the world hands it to this session with its entity and live position and sends a fresh
    /// snapshot; otherwise an ordinary join.
    public var resume: Bool

    public init(character: CharacterRecord, accountId: String, resume: Bool = false) {
        self.character = character
        self.accountId = accountId
        self.resume = resume
    }
}

/// One thing the world tells one session.
enum WorldOutput: Sendable, Equatable {
    /// A WORLD_UPDATE body (tick + events), already in wire form: forwarded as is.
    case update(Data)
    /// The join was accepted.
    case joined(WorldEntry)
    /// The world re-admitted the session, as a new entity, after the link broke and came back
    /// (the client gets VIEW_RESET; see `WorldLink.route`).
    case readmitted(WorldEntry)
    /// The join was refused with this code.
    case rejected(ResultCode)
    /// The world removed the character (or acknowledged our leave) with this code.
    case left(ResultCode)
}
