/// The persistent part of a character the world owns: where it stands. This is the state the
/// world saves (`CharacterStateStore`), on leave, on autosave and on shutdown.
public struct CharacterPosition: Sendable, Hashable {
    public var characterID: UInt64
    public var zoneID: UInt32
    public var position: Position
    /// Orders this character's states: a greater version is newer (`StateVersionClock`). The
    /// database applies a save only over an older version; 0 means "unversioned".
    public var version: UInt64

    public init(characterID: UInt64, zoneID: UInt32, position: Position, version: UInt64 = 0) {
        self.characterID = characterID
        self.zoneID = zoneID
        self.position = position
        self.version = version
    }
}
