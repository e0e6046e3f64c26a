/// One input to the simulation, already attributed to a session.
public enum PlayerCommand: Sendable, Equatable {
    /// Enter the world. `zoneID` 0 means "the default zone, at its spawn point"; a position outside
    /// the zone (or non-finite) also means the spawn point. Every entry gets a new entity id,
    /// even for a character that was in the world before. `stateVersion` is the version of the
    /// record zone and position came from (0: unknown); the world starts the character from its
    /// own live state instead when it holds a newer one.
    ///
    /// `resume` (RESUME after a dropped connection): if the character is in the world already,
    /// under whatever session, it moves to this session instead: same entity, same position, and
    /// this session gets a fresh snapshot (`appear` for itself, then for everyone in view);
    /// observers see nothing, and the old session is told `left(LOGGED_IN_ELSEWHERE)`. Without
    /// the character present it is an ordinary join.
    case join(PlayerProfile, zoneID: UInt32, position: Position, stateVersion: UInt64 = 0, resume: Bool = false)
    /// Walk to a position. `seq` is echoed in a correction if the move is refused.
    case move(seq: UInt32, to: Position)
    /// Say-chat to everyone nearby. The gateway enforces the length and rate limits; the world
    /// only drops lines it could not encode (empty or over the protocol's limit).
    case say(String)
    /// Leave the world (client asked, or its connection closed).
    case leave
}
