import MMOProtocol

/// The per-player data the simulation's hot loops do not need (positions, views and updates
/// are separate columns).
struct PlayerInfo {
    /// Changes only when a RESUME moves the player to a new session (`WorldSimulation.rebind`).
    var key: SessionKey
    let entityID: UInt64
    let characterID: UInt64
    let zoneIndex: Int
    /// Name, class and looks, as sent in `appear` (x/y are filled in when sent).
    let look: WorldEvent.EntityAppearance
    /// What the player may still walk (`MovementRules`).
    var moveBudget: MoveBudget
    /// The tick in which the player last moved, so it is queued for interest once per tick.
    var movedTick: UInt64 = 0
    /// Moved since the last autosave (or joined at a substituted position).
    var positionChanged: Bool
}
