import Testing
import WorldService

@Suite("AutosaveSchedule")
struct AutosaveScheduleTests {
    @Test("one bucket per tick of the interval: 10 s at 20 Hz is 200 buckets")
    func bucketCount() {
        #expect(AutosaveSchedule(interval: .seconds(10), tickInterval: .milliseconds(50)).bucketCount == 200)
        #expect(AutosaveSchedule(interval: .seconds(1), tickInterval: .seconds(2)).bucketCount == 1)
    }

    @Test("the first tick only starts the schedule; each later tick takes the next bucket")
    func oneBucketPerTick() {
        var schedule = AutosaveSchedule(interval: .seconds(1), tickInterval: .milliseconds(250))
        #expect(schedule.due(at: .seconds(3)).count == 0)
        #expect(schedule.origin == .seconds(3))
        var seen: [Int] = []
        for tick in 1...8 {
            seen += schedule.due(at: .seconds(3) + .milliseconds(250 * tick)).buckets(of: 4)
        }
        // Every bucket once per interval, in turn: the writes are spread, not one burst.
        #expect(seen == [1, 2, 3, 0, 1, 2, 3, 0])
    }

    @Test("ticks within one slice take nothing; exactly at a slice's start counts")
    func withinSlice() {
        var schedule = AutosaveSchedule(interval: .seconds(1), tickInterval: .milliseconds(250))
        _ = schedule.due(at: .zero)
        #expect(schedule.due(at: .milliseconds(100)).count == 0)
        #expect(schedule.due(at: .milliseconds(249)).count == 0)
        #expect(schedule.due(at: .milliseconds(250)) == .init(first: 1, count: 1))
        #expect(schedule.due(at: .milliseconds(250)).count == 0)
    }

    @Test("a late tick takes every bucket it skipped, each once, and all of them at most")
    func lateTick() {
        var schedule = AutosaveSchedule(interval: .seconds(1), tickInterval: .milliseconds(250))
        _ = schedule.due(at: .zero)
        _ = schedule.due(at: .milliseconds(250))  // bucket 1
        #expect(schedule.due(at: .milliseconds(750)).buckets(of: 4) == [2, 3])
        #expect(schedule.due(at: .seconds(10)).buckets(of: 4).sorted() == [0, 1, 2, 3])
        #expect(schedule.due(at: .milliseconds(10_250)).buckets(of: 4) == [1])
    }

    @Test("over any interval every bucket is due exactly once, whatever the tick times")
    func everyBucketOncePerInterval() {
        var schedule = AutosaveSchedule(interval: .seconds(10), tickInterval: .milliseconds(50))
        _ = schedule.due(at: .zero)
        var counts = [Int](repeating: 0, count: schedule.bucketCount)
        var now = Duration.zero
        // Irregular ticks (40-70 ms apart) over exactly 10 s.
        var step = 0
        while now < .seconds(10) {
            step += 1
            now = min(.seconds(10), now + .milliseconds(40 + (step * 7) % 31))
            for bucket in schedule.due(at: now).buckets(of: schedule.bucketCount) { counts[bucket] += 1 }
        }
        #expect(counts.allSatisfy { $0 == 1 })
    }
}
