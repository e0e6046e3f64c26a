import MMOTime
import Testing

@Suite struct DurationUnitsTests {
    @Test func secondsAndMillisecondsKeepTheFraction() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.microseconds(2500).inMilliseconds == 2.5)
        #expect(Duration.seconds(-2).inSeconds == -2)
    }

    @Test func millisecondsRoundUpOnlyWhenThereIsARemainder() {
        #expect(Duration.milliseconds(7).millisecondsRoundedUp == 7)
        #expect(Duration.microseconds(7001).millisecondsRoundedUp == 8)
        #expect(Duration.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(Duration.zero.millisecondsRoundedUp == 0)
        #expect(Duration.seconds(-1).millisecondsRoundedUp == -1000)
        #expect(Duration.microseconds(7999).wholeMilliseconds == 7)
        #expect(Duration.seconds(-60).wholeMilliseconds == -60_000)
    }

    @Test func microsecondsAndNanoseconds() {
        #expect(Duration.milliseconds(3).wholeMicroseconds == 3000)
        #expect(Duration.seconds(-1).wholeMicroseconds == 0)
        #expect(Duration.seconds(2).wholeNanoseconds == 2_000_000_000)
        #expect(Duration.nanoseconds(17).wholeNanoseconds == 17)
    }
}
