import MMOTime

/// The server's verdict on a move request.
public enum MoveVerdict: Sendable, Equatable {
    case accepted
    case outOfBounds
    case tooFast
}

/// A player's right to walk, in units: it accrues at `maxSpeed` per second of real (server)
/// time, up to a cap, and every accepted move spends its length.
public struct MoveBudget: Sendable, Equatable {
    /// Units the player may still walk now.
    public var units: Float
    /// The time `units` was last accrued to.
    public var updatedAt: Duration

    public init(units: Float, updatedAt: Duration) {
        self.units = units
        self.updatedAt = updatedAt
    }
}

/// Decides whether a player may walk from where it stands to a requested position.
///
/// A move is legal when the target is inside the zone and its length is at most the player's
/// `MoveBudget`. The budget accrues at `maxSpeed` per second of elapsed server time, capped at
/// `burst = maxSpeed * maxCreditedTime * speedTolerance + slack`, and each accepted move spends
/// its length; a player starts with `slack`. So over any stretch of time T a player walks at
/// most `maxSpeed * T + burst`, however the distance is cut into moves: 60 moves of 1.5 units
/// in 3 s are 90 units against 7 * 3 + 22 = 43 allowed. The cap is the documented tolerance: a
/// client walking at the limit keeps what it banked while standing still, which absorbs moves
/// that network jitter bunches into one tick (those share the budget, in arrival order).
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

    /// The most a budget can hold: 7 * 2 * 1.5 + 1 = 22 units by default.
    @inlinable
    public var burst: Float { maxSpeed * Float(maxCreditedTime.inSeconds) * speedTolerance + slack }

    /// The budget of a player entering the world at `now`: only the slack, so entering again
    /// never refills a teleport.
    @inlinable
    public func initialBudget(at now: Duration) -> MoveBudget {
        MoveBudget(units: slack, updatedAt: now)
    }

    /// Judges a move from `current` to `target` at `now`, accruing `budget` to `now` and, if
    /// the move is accepted, spending its length. A refused move spends nothing.
    @inlinable
    public func judge(
        from current: Position, to target: Position, budget: inout MoveBudget, now: Duration, within bounds: ZoneBounds
    ) -> MoveVerdict {
        // Also catches NaN and infinities: every comparison with NaN is false.
        guard bounds.contains(target) else { return .outOfBounds }
        // A clock that went backwards credits nothing (and does not move `updatedAt` back).
        if now > budget.updatedAt {
            let accrued = maxSpeed * Float((now - budget.updatedAt).inSeconds)
            budget.units = min(burst, budget.units + accrued)
            budget.updatedAt = now
        }
        let length = current.distanceSquared(to: target).squareRoot()
        guard length <= budget.units else { return .tooFast }
        budget.units -= length
        return .accepted
    }
}
