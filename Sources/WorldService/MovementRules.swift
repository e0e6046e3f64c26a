import MMOTime

/// The server's verdict on a move request.
public enum MoveVerdict: Sendable, Equatable {
    case accepted
    case outOfBounds
    case tooFast
}

/// Decides whether a player may walk from its last accepted position to a requested one.
///
/// A move is legal when the target is inside the zone and its distance from the anchor (the last
/// position accepted in an earlier tick) is at most
/// `maxSpeed * min(elapsed, maxCreditedMoveTime) * speedTolerance + moveSlack`.
/// Measuring from the previous tick's position rather than the previous request means two
/// requests that arrive in the same tick (network jitter) share one budget instead of the second
/// getting zero elapsed time.
public struct MovementRules: Sendable {
    public var maxSpeed: Float
    public var speedTolerance: Float
    public var slack: Float
    public var maxCreditedTime: Duration

    public init(maxSpeed: Float, speedTolerance: Float, slack: Float, maxCreditedTime: Duration) {
        self.maxSpeed = maxSpeed
        self.speedTolerance = speedTolerance
        self.slack = slack
        self.maxCreditedTime = maxCreditedTime
    }

    public init(_ configuration: WorldConfiguration) {
        self.init(
            maxSpeed: configuration.maxSpeed, speedTolerance: configuration.speedTolerance,
            slack: configuration.moveSlack, maxCreditedTime: configuration.maxCreditedMoveTime)
    }

    /// Judges a move from `anchor` (accepted at `anchorTime`) to `target` at `now`.
    @inlinable
    public func judge(
        from anchor: Position, at anchorTime: Duration, to target: Position, now: Duration, within bounds: ZoneBounds
    ) -> MoveVerdict {
        // Also catches NaN and infinities: every comparison with NaN is false.
        guard bounds.contains(target) else { return .outOfBounds }
        var elapsed = now - anchorTime
        if elapsed < .zero { elapsed = .zero }
        if elapsed > maxCreditedTime { elapsed = maxCreditedTime }
        let budget = maxSpeed * Float(elapsed.inSeconds) * speedTolerance + slack
        return anchor.distanceSquared(to: target) <= budget * budget ? .accepted : .tooFast
    }
}
