import Testing
import WorldService

@Suite("AutosaveSchedule")
struct AutosaveScheduleTests {
    /// Asks `schedule` about each tick in turn; the ticks it called due.
    func dueTicks(_ schedule: inout AutosaveSchedule, _ ticks: [Duration]) -> [Duration] {
        ticks.filter { schedule.isDue(at: $0) }
    }

    @Test("the first tick only starts the schedule; the first autosave is one interval later")
    func firstTick() {
        var schedule = AutosaveSchedule(interval: .seconds(10))
        #expect(schedule.nextDue == nil)
        let first = dueTicks(&schedule, [.seconds(3)])
        #expect(first.isEmpty)
        #expect(schedule.nextDue == .seconds(13))
        // Exactly at the deadline counts.
        let later = dueTicks(&schedule, [.seconds(12), .seconds(13)])
        #expect(later == [.seconds(13)])
    }

    @Test("each autosave starts the next interval; a late tick does not make the next one early")
    func noCatchingUp() {
        var schedule = AutosaveSchedule(interval: .seconds(10))
        // 25 s is 15 s late; the next is due 10 s after it, and only once.
        let due = dueTicks(&schedule, [.zero, .seconds(25), .seconds(30), .seconds(35), .seconds(35)])
        #expect(due == [.seconds(25), .seconds(35)])
        #expect(schedule.nextDue == .seconds(45))
    }

    @Test("ticks between deadlines are never due")
    func betweenDeadlines() {
        var schedule = AutosaveSchedule(interval: .milliseconds(100))
        let due = dueTicks(&schedule, stride(from: 0, through: 500, by: 50).map { .milliseconds($0) })
        #expect(due == [100, 200, 300, 400, 500].map { .milliseconds($0) })
    }
}
