import MMOClient
import MMOProtocol
import Testing

@Suite struct WorldViewTests {
    let bob = WorldEvent.EntityAppearance(entityId: 2, name: "Bob", classId: 1, appearance: 0, level: 3, x: 5, y: 6)

    @Test func tracksAppearMoveDisappear() {
        var view = WorldView(entry: WorldEntry(entityId: 1, zoneId: 1, x: 0, y: 0, tickRateHz: 20), selfName: "Alice")
        #expect(!view.sees("Bob"))
        view.apply(.world(tick: 10, events: [.appear(bob)]))
        #expect(view.sees("Bob"))
        #expect(view.position(of: "Bob")! == (5, 6))
        #expect(view.others.map(\.name) == ["Bob"])

        view.apply(.world(tick: 11, events: [.move(entityId: 2, x: 7, y: 8), .move(entityId: 2, x: 7.5, y: 8)]))
        #expect(view.position(of: "Bob")! == (7.5, 8))
        #expect(view.entity(named: "Bob")?.moves == 2)
        #expect(view.lastTick == 11)

        view.apply(.world(tick: 12, events: [.disappear(entityId: 2)]))
        #expect(!view.sees("Bob"))
        #expect(view.entity(id: 2) == nil)
        #expect(view.selfPosition! == (0, 0))
    }

    @Test func correctionMovesSelfAndIsRecorded() {
        var view = WorldView(entry: WorldEntry(entityId: 1, zoneId: 1, x: 0, y: 0, tickRateHz: 20))
        view.moveSelf(x: 3, y: 0)
        #expect(view.selfPosition! == (3, 0))
        view.apply(.world(tick: 5, events: [.correction(seq: 9, x: 1, y: 0, reason: .moveTooFast)]))
        #expect(view.selfPosition! == (1, 0))
        #expect(view.corrections.count == 1)
        #expect(view.corrections.first?.seq == 9)
        #expect(view.corrections.first?.reason == .moveTooFast)
    }

    @Test func chatIsKeptWithinLimit() {
        var view = WorldView(selfEntityId: 1, chatHistoryLimit: 2)
        view.apply(.world(tick: 1, events: [
            .chat(entityId: 2, name: "Bob", text: "one"),
            .chat(entityId: 3, name: "Carol", text: "two"),
            .chat(entityId: 2, name: "Bob", text: "three"),
        ]))
        #expect(view.chat.map(\.text) == ["two", "three"])
        #expect(view.chatLines(from: "Bob").map(\.text) == ["three"])
    }

    @Test func leavingTheWorldForgetsEverything() {
        var view = WorldView(selfEntityId: 1)
        view.apply(.world(tick: 1, events: [.appear(bob)]))
        #expect(view.inWorld)
        view.apply(.leftWorld(.ok))
        #expect(!view.inWorld)
        #expect(view.entities.isEmpty)
    }
}

@Suite struct LatencyHistogramTests {
    @Test func percentilesWithinBucketError() throws {
        var histogram = LatencyHistogram()
        for ms in 1...1000 { histogram.record(.milliseconds(ms)) }
        #expect(histogram.count == 1000)
        #expect(histogram.max == .milliseconds(1000))
        #expect(histogram.min == .milliseconds(1))
        func near(_ value: Duration?, _ expected: Duration) -> Bool {
            guard let value else { return false }
            let error = abs((value / expected) - 1)
            return error < 0.02
        }
        #expect(near(histogram.percentile(0.5), .milliseconds(500)))
        #expect(near(histogram.percentile(0.9), .milliseconds(900)))
        #expect(near(histogram.percentile(0.99), .milliseconds(990)))
        #expect(histogram.percentile(1.0) == .milliseconds(1000))
    }

    @Test func smallValuesAreExactAndMergeAddsSamples() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        a.record(.microseconds(5))
        b.record(.microseconds(7))
        b.record(.microseconds(9))
        a.merge(b)
        #expect(a.count == 3)
        #expect(a.percentile(0.5) == .microseconds(7))
        #expect(a.min == .microseconds(5))
        #expect(a.max == .microseconds(9))
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }
}

@Suite("WorldView after a resume or a VIEW_RESET")
struct WorldViewResetTests {
    private func populated() -> WorldView {
        var view = WorldView(entry: WorldEntry(entityId: 1, zoneId: 1, x: 10, y: 20, tickRateHz: 20), selfName: "Alice")
        view.apply(.world(tick: 1, events: [
            .appear(.init(entityId: 1, name: "Alice", classId: 1, appearance: 0, level: 1, x: 10, y: 20)),
            .appear(.init(entityId: 2, name: "Bob", classId: 1, appearance: 0, level: 1, x: 12, y: 20)),
            .chat(entityId: 2, name: "Bob", text: "hi"),
        ]))
        return view
    }

    @Test func resumedForgetsEveryoneAndTakesTheNewEntity() {
        var view = populated()
        view.apply(.reconnecting(reason: .connectionClosed))
        #expect(view.sees("Bob"), "nothing changes until the client is back")
        let entry = WorldEntry(entityId: 7, zoneId: 1, x: 11, y: 20, tickRateHz: 20)
        view.apply(.resumed(ResumedSession(accountId: "a", displayName: "A", characterId: 100, entry: entry)))
        #expect(view.selfEntityId == 7)
        #expect(view.entities.keys.sorted() == [7])
        #expect(view.entity(named: "Alice")?.id == 7)
        #expect(view.selfPosition.map { $0.x == 11 && $0.y == 20 } == true)
        #expect(view.inWorld)
        #expect(view.chatLines(from: "Bob").count == 1, "chat heard is kept")
        view.apply(.world(tick: 9, events: [.appear(.init(entityId: 3, name: "Bob", classId: 1, appearance: 0, level: 1, x: 12, y: 20))]))
        #expect(view.entity(named: "Bob")?.id == 3)
    }

    @Test func reenteredAndViewResetDoTheSame() {
        var view = populated()
        view.apply(.reentered(characterId: 100, entry: WorldEntry(entityId: 8, zoneId: 1, x: 1, y: 2, tickRateHz: 20), resumeCode: .resumeRejected))
        #expect(view.selfEntityId == 8 && view.others.isEmpty)
        view = populated()
        view.apply(.viewReset(entityId: 9, zoneId: 1, x: 3, y: 4))
        #expect(view.selfEntityId == 9 && view.others.isEmpty)
        #expect(view.selfPosition.map { $0.x == 3 && $0.y == 4 } == true)
    }
}
