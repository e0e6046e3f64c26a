/// A map players walk in. Zones never interact: a player sees and hears only its own zone.
public struct Zone: Sendable, Hashable, Identifiable {
    public var id: UInt32
    public var name: String
    public var bounds: ZoneBounds
    /// Where characters with no valid saved position appear.
    public var spawn: Position

    public init(id: UInt32, name: String, bounds: ZoneBounds, spawn: Position) {
        precondition(id != 0, "zone id 0 means 'no zone' on the wire")
        precondition(bounds.contains(spawn), "spawn point outside its zone")
        self.id = id
        self.name = name
        self.bounds = bounds
        self.spawn = spawn
    }

    /// The starting zone: 1000 x 1000 units, spawn in the middle.
    public static let greenvale = Zone(
        id: 1, name: "Greenvale", bounds: ZoneBounds(x: 0...1000, y: 0...1000), spawn: Position(x: 500, y: 500))
}
