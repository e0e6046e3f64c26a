/// A point on a zone's plane, in world units (a unit is about a metre).
public struct Position: Sendable, Hashable, CustomStringConvertible {
    public var x: Float
    public var y: Float

    @inlinable
    public init(x: Float, y: Float) {
        self.x = x
        self.y = y
    }

    /// Squared distance: the simulation compares against squared radii so it never takes a root.
    @inlinable
    public func distanceSquared(to other: Position) -> Float {
        let dx = x - other.x
        let dy = y - other.y
        return dx * dx + dy * dy
    }

    public var description: String { "(\(x), \(y))" }
}

/// An axis-aligned rectangle, inclusive on every edge.
public struct ZoneBounds: Sendable, Hashable {
    public var minX: Float
    public var maxX: Float
    public var minY: Float
    public var maxY: Float

    public init(minX: Float, maxX: Float, minY: Float, maxY: Float) {
        precondition(minX < maxX && minY < maxY, "empty zone bounds")
        self.minX = minX
        self.maxX = maxX
        self.minY = minY
        self.maxY = maxY
    }

    public init(x: ClosedRange<Float>, y: ClosedRange<Float>) {
        self.init(minX: x.lowerBound, maxX: x.upperBound, minY: y.lowerBound, maxY: y.upperBound)
    }

    /// True when `position` is finite and inside (edges included). NaN compares false everywhere,
    /// so a NaN coordinate is never "inside".
    @inlinable
    public func contains(_ position: Position) -> Bool {
        position.x >= minX && position.x <= maxX && position.y >= minY && position.y <= maxY
    }

    public var width: Float { maxX - minX }
    public var height: Float { maxY - minY }
}

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
