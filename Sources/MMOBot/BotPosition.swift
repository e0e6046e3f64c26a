import MMOTime

/// A point on the world plane, as the bots plan their walks.
public struct BotPosition: Sendable, Equatable, CustomStringConvertible {
    public var x: Float
    public var y: Float

    public init(x: Float, y: Float) {
        self.x = x
        self.y = y
    }

    /// "(x, y)" with one decimal, as the bots print positions.
    public var description: String { BotFormat.position(x, y) }

    /// Straight-line distance to `other`.
    func distance(to other: BotPosition) -> Float {
        let dx = other.x - x, dy = other.y - y
        return (dx * dx + dy * dy).squareRoot()
    }

    /// `step` units towards `goal`, or `goal` itself when it is at most `step` away.
    func stepped(towards goal: BotPosition, by step: Float) -> (position: BotPosition, arrived: Bool) {
        let distance = distance(to: goal)
        if distance <= step { return (goal, true) }
        return (BotPosition(x: x + (goal.x - x) / distance * step, y: y + (goal.y - y) / distance * step), false)
    }
}

/// How far a bot moves per step so that it never trips the server's speed check.
enum BotPacing {
    /// 75% of what the speed limit allows in one interval: timer jitter can bring two moves
    /// closer together than the interval, and the server measures the real gap.
    static let speedMargin: Float = 0.75

    static func stepLength(maxSpeed: Float, interval: Duration) -> Float {
        maxSpeed * Float(interval.inSeconds) * speedMargin
    }
}
