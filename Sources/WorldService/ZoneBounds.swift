/// An axis-aligned rectangle, inclusive on every edge.
public struct ZoneBounds: Sendable, Hashable {
    public var minX: Float
    public var maxX: Float
    public var minY: Float
    public var maxY: Float

    /// A rectangle from its edges; an empty one traps (a zone must have an area).
    public init(minX: Float, maxX: Float, minY: Float, maxY: Float) {
        precondition(minX < maxX && minY < maxY, "empty zone bounds")
        self.minX = minX
        self.maxX = maxX
        self.minY = minY
        self.maxY = maxY
    }

    /// A rectangle from its x and y ranges.
    public init(x: ClosedRange<Float>, y: ClosedRange<Float>) {
        self.init(minX: x.lowerBound, maxX: x.upperBound, minY: y.lowerBound, maxY: y.upperBound)
    }

    /// True when `position` is finite and inside (edges included). NaN compares false everywhere,
    /// so a NaN coordinate is never "inside".
    @inlinable
    public func contains(_ position: Position) -> Bool {
        position.x >= minX && position.x <= maxX && position.y >= minY && position.y <= maxY
    }

    /// Extent along x.
    public var width: Float { maxX - minX }
    /// Extent along y.
    public var height: Float { maxY - minY }
}
