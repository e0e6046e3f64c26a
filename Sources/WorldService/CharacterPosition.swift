/// The persistent part of a character the world owns: where it stands. This is the state the
/// world saves (`CharacterStateStore`), on leave, on autosave and on shutdown.
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
