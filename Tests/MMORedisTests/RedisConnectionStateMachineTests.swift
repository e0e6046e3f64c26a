import NIOCore
import Testing

@testable import MMORedis

struct RedisConnectionStateMachineTests {
    typealias Machine = RedisConnectionStateMachine<Int>
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let timeout = TimeAmount.seconds(2)

    @Test func repliesCompleteCommandsInFIFOOrder() {
        var machine = Machine(commandTimeout: self.timeout)
        for id in 1...3 {
            _ = machine.enqueue(id, now: self.start)
        }
        #expect(machine.inFlightCount == 3)
        for (id, reply) in zip(1...3, [RESPValue.simpleString("OK"), .integer(2), .error("ERR x")]) {
            guard case .succeed(let promise, let value) = machine.received(reply) else {
                Issue.record("expected succeed")
                return
            }
            #expect(promise == id)
            #expect(value == reply)
        }
        #expect(machine.inFlightCount == 0)
    }

    @Test func armsOneTimerAtATime() {
        var machine = Machine(commandTimeout: self.timeout)
        guard case .write(armTimer: let first) = machine.enqueue(1, now: self.start) else {
            Issue.record("expected write")
            return
        }
        #expect(first == self.start + self.timeout)
        guard case .write(armTimer: let second) = machine.enqueue(2, now: self.start + .milliseconds(500)) else {
            Issue.record("expected write")
            return
        }
        #expect(second == nil)
    }

    @Test func timerRearmsForTheNextHeadAfterReplies() {
        var machine = Machine(commandTimeout: self.timeout)
        _ = machine.enqueue(1, now: self.start)
        _ = machine.enqueue(2, now: self.start + .milliseconds(500))
        _ = machine.received(.simpleString("OK"))  // completes 1
        guard case .rearm(let deadline) = machine.timerFired(now: self.start + self.timeout) else {
            Issue.record("expected rearm")
            return
        }
        #expect(deadline == self.start + .milliseconds(500) + self.timeout)
        _ = machine.received(.simpleString("OK"))  // completes 2
        guard case .none = machine.timerFired(now: deadline) else {
            Issue.record("expected no action on an empty queue")
            return
        }
        // Queue was empty when the timer fired, so the next command arms a new one.
        guard case .write(armTimer: .some) = machine.enqueue(3, now: deadline) else {
            Issue.record("expected a new timer")
            return
        }
    }

    @Test func timeoutFailsAllInFlightAndClosesForGood() {
        var machine = Machine(commandTimeout: self.timeout)
        _ = machine.enqueue(1, now: self.start)
        _ = machine.enqueue(2, now: self.start + .milliseconds(1))
        guard case .failAllAndClose(let promises, let error) = machine.timerFired(now: self.start + self.timeout) else {
            Issue.record("expected timeout")
            return
        }
        #expect(promises == [1, 2])
        #expect(error.code == .timeout)
        #expect(machine.isClosed)
        guard case .fail(let late) = machine.enqueue(3, now: self.start + self.timeout) else {
            Issue.record("expected enqueue on a closed connection to fail")
            return
        }
        #expect(late.code == .timeout)
        guard case .ignore = machine.received(.simpleString("late reply")) else {
            Issue.record("expected late replies to be ignored")
            return
        }
    }

    @Test func closeReturnsPendingOnce() {
        var machine = Machine(commandTimeout: self.timeout)
        _ = machine.enqueue(7, now: self.start)
        _ = machine.enqueue(8, now: self.start)
        let error = RedisError(code: .connectionClosed, message: "gone")
        #expect(machine.close(error) == [7, 8])
        #expect(machine.close(error) == [])
        guard case .fail(let late) = machine.enqueue(9, now: self.start) else {
            Issue.record("expected fail")
            return
        }
        #expect(late.code == .connectionClosed)
    }

    @Test func unsolicitedReplyIsAProtocolError() {
        var machine = Machine(commandTimeout: self.timeout)
        guard case .failAllAndClose(let promises, let error) = machine.received(.simpleString("OK")) else {
            Issue.record("expected protocol error")
            return
        }
        #expect(promises.isEmpty)
        #expect(error.code == .protocolError)
        #expect(machine.isClosed)
    }
}
