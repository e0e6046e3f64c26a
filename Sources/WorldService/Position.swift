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
