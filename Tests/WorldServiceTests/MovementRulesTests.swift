import Testing
import WorldService

@Suite("MovementRules")
struct MovementRulesTests {
    let rules = MovementRules(WorldConfiguration())
    let bounds = Zone.greenvale.bounds
    let origin = Position(x: 100, y: 100)

    @Test("the budget is maxSpeed * elapsed * tolerance + slack")
    func budget() {
        // 7 * 1 * 1.5 + 1 = 11.5 units after one second.
        #expect(rules.judge(from: origin, at: .zero, to: Position(x: 111.4, y: 100), now: .seconds(1), within: bounds) == .accepted)
        #expect(rules.judge(from: origin, at: .zero, to: Position(x: 111.6, y: 100), now: .seconds(1), within: bounds) == .tooFast)
        // Without elapsed time only the slack is allowed.
        #expect(rules.judge(from: origin, at: .seconds(3), to: Position(x: 100.9, y: 100), now: .seconds(3), within: bounds) == .accepted)
        #expect(rules.judge(from: origin, at: .seconds(3), to: Position(x: 101.1, y: 100), now: .seconds(3), within: bounds) == .tooFast)
    }

    @Test("idle time is credited only up to maxCreditedMoveTime")
    func idleCap() {
        // After 60 s idle the budget is that of 2 s: 7 * 2 * 1.5 + 1 = 22.
        #expect(rules.judge(from: origin, at: .zero, to: Position(x: 121, y: 100), now: .seconds(60), within: bounds) == .accepted)
        #expect(rules.judge(from: origin, at: .zero, to: Position(x: 123, y: 100), now: .seconds(60), within: bounds) == .tooFast)
    }

    @Test("a clock that went backwards credits nothing")
    func negativeElapsed() {
        #expect(rules.judge(from: origin, at: .seconds(5), to: Position(x: 105, y: 100), now: .seconds(1), within: bounds) == .tooFast)
    }

    @Test("targets outside the zone or non-finite are out of bounds; edges are inside")
    func bounds_() {
        let corner = Position(x: 1, y: 1)
        #expect(rules.judge(from: corner, at: .zero, to: Position(x: 0, y: 0), now: .seconds(1), within: bounds) == .accepted)
        #expect(rules.judge(from: corner, at: .zero, to: Position(x: -0.01, y: 0), now: .seconds(1), within: bounds) == .outOfBounds)
        #expect(rules.judge(from: corner, at: .zero, to: Position(x: .nan, y: 1), now: .seconds(1), within: bounds) == .outOfBounds)
        #expect(rules.judge(from: corner, at: .zero, to: Position(x: 1, y: .infinity), now: .seconds(1), within: bounds) == .outOfBounds)
    }
}
