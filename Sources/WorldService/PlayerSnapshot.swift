/// A read-only view of one player, for tests and diagnostics (`WorldSimulation.player(_:)`).
public struct PlayerSnapshot: Sendable, Equatable {
    public var entityID: UInt64
    public var characterID: UInt64
    public var zoneID: UInt32
    public var position: Position
    /// Entities this player currently sees (itself excluded).
    public var visibleEntityIDs: Set<UInt64>
}
