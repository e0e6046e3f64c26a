import Testing
import WorldService

@Suite("MovementRules")
struct MovementRulesTests {
    let rules = MovementRules(WorldConfiguration())
    let bounds = Zone.greenvale.bounds
    let origin = Position(x: 100, y: 100)

    /// Judges one move with a budget of `units` last accrued at `at`.
    func judge(_ units: Float, at: Duration, to target: Position, now: Duration) -> (MoveVerdict, MoveBudget) {
        var budget = MoveBudget(units: units, updatedAt: at)
        let verdict = rules.judge(from: origin, to: target, budget: &budget, now: now, within: bounds)
        return (verdict, budget)
    }

    @Test("the budget accrues at maxSpeed per second and an accepted move spends its length")
    func accrual() {
        // Entering gives the slack (1 unit); one second later 1 + 7 = 8.
        let start = rules.initialBudget(at: .zero)
        #expect(start == MoveBudget(units: 1, updatedAt: .zero))
        let (ok, left) = judge(start.units, at: .zero, to: Position(x: 107.9, y: 100), now: .seconds(1))
        #expect(ok == .accepted)
        #expect(abs(left.units - 0.1) < 1e-4 && left.updatedAt == .seconds(1))
        #expect(judge(start.units, at: .zero, to: Position(x: 108.1, y: 100), now: .seconds(1)).0 == .tooFast)
        // Diagonal moves are measured by their length: (6, 8) is 10 units.
        #expect(judge(10, at: .zero, to: Position(x: 106, y: 108), now: .zero).0 == .accepted)
        #expect(judge(9.9, at: .zero, to: Position(x: 106, y: 108), now: .zero).0 == .tooFast)
    }

    @Test("a refused move spends nothing")
    func refusedSpendsNothing() {
        let (verdict, budget) = judge(3, at: .zero, to: Position(x: 110, y: 100), now: .zero)
        #expect(verdict == .tooFast && budget.units == 3)
    }

    @Test("idle time banks at most the burst: 7 * 2 * 1.5 + 1 = 22 units")
    func burstCap() {
        #expect(rules.burst == 22)
        #expect(judge(0, at: .zero, to: Position(x: 121.9, y: 100), now: .seconds(60)).0 == .accepted)
        #expect(judge(0, at: .zero, to: Position(x: 122.1, y: 100), now: .seconds(60)).0 == .tooFast)
    }

    @Test("a clock that went backwards credits nothing")
    func negativeElapsed() {
        let (verdict, budget) = judge(1, at: .seconds(5), to: Position(x: 105, y: 100), now: .seconds(1))
        #expect(verdict == .tooFast)
        #expect(budget.updatedAt == .seconds(5))
    }

    @Test("60 moves of 1.5 units at 20 per second: at most 7 units/s plus the burst is accepted")
    func smallMovesCannotBeatTheLimit() {
        var budget = rules.initialBudget(at: .zero)
        var position = origin
        var accepted = 0
        for i in 1...60 {
            let target = Position(x: position.x + 1.5, y: 100)
            if rules.judge(from: position, to: target, budget: &budget, now: .milliseconds(50 * i), within: bounds) == .accepted {
                position = target
                accepted += 1
            }
        }
        // Before: every move was judged alone against a fixed slack, and all 60 (90 units) passed.
        let covered = position.x - origin.x
        #expect(covered <= 7 * 3 + 1 + 0.01, "covered \(covered) units in 3 s from a fresh entry")
        #expect(accepted < 60)
    }

    @Test("targets outside the zone or non-finite are out of bounds; edges are inside")
    func bounds_() {
        let corner = Position(x: 1, y: 1)
        func judgeFromCorner(_ target: Position) -> MoveVerdict {
            var budget = MoveBudget(units: 10, updatedAt: .zero)
            return rules.judge(from: corner, to: target, budget: &budget, now: .seconds(1), within: bounds)
        }
        #expect(judgeFromCorner(Position(x: 0, y: 0)) == .accepted)
        #expect(judgeFromCorner(Position(x: -0.01, y: 0)) == .outOfBounds)
        #expect(judgeFromCorner(Position(x: .nan, y: 1)) == .outOfBounds)
        #expect(judgeFromCorner(Position(x: 1, y: .infinity)) == .outOfBounds)
    }
}
