import NIOCore

/// The pure logic of one pipelined Redis connection: which promise a reply belongs to, when
/// the command timeout fires, and what happens to in-flight commands when the connection dies.
///
/// It performs no I/O; ``RedisCommandHandler`` feeds it events and carries out the returned
/// actions. It is generic over the promise type so it can be tested without an event loop.
///
/// Replies are matched to commands strictly in FIFO order, which is what RESP2 guarantees on a
/// connection that is not in pub/sub mode. Because every command gets the same timeout, deadlines
/// are monotonic along the queue, so a single timer aimed at the head of the queue is enough.
struct RedisConnectionStateMachine<Promise> {
    private struct InFlight {
        var promise: Promise
        var deadline: NIODeadline
    }

    private enum State {
        case active(queue: CircularBuffer<InFlight>)
        /// Terminal. Kept with the error so late commands are told why.
        case closed(RedisError)
    }

    enum EnqueueAction {
        /// Write the command. If `armTimer` is set, schedule ``timerFired(now:)`` at that time.
        case write(armTimer: NIODeadline?)
        /// The connection is closed; fail the promise right away. The command was not sent.
        case fail(RedisError)
    }

    enum ReplyAction {
        case succeed(Promise, RESPValue)
        /// The connection is already closing; drop the reply.
        case ignore
        /// A reply nobody asked for: the stream is out of sync. Fail everything, close.
        case failAllAndClose([Promise], RedisError)
    }

    enum TimerAction {
        case none
        case rearm(NIODeadline)
        /// The head command timed out: fail all in-flight commands (they are stuck behind it
        /// and RESP can't skip a reply) and close the connection.
        case failAllAndClose([Promise], RedisError)
    }

    private var state: State = .active(queue: CircularBuffer(initialCapacity: 16))
    private var timerArmed = false
    let commandTimeout: TimeAmount

    init(commandTimeout: TimeAmount) {
        self.commandTimeout = commandTimeout
    }

    /// Number of commands awaiting a reply.
    var inFlightCount: Int {
        if case .active(let queue) = self.state { return queue.count }
        return 0
    }

    var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    mutating func enqueue(_ promise: Promise, now: NIODeadline) -> EnqueueAction {
        switch self.state {
        case .closed(let error):
            return .fail(error)
        case .active(var queue):
            let deadline = now + self.commandTimeout
            // Release `state`'s reference so appending doesn't copy the whole queue.
            self.state = .closed(.shutdown)
            queue.append(InFlight(promise: promise, deadline: deadline))
            self.state = .active(queue: queue)
            if self.timerArmed {
                return .write(armTimer: nil)
            }
            self.timerArmed = true
            return .write(armTimer: deadline)
        }
    }

    mutating func received(_ value: RESPValue) -> ReplyAction {
        switch self.state {
        case .closed:
            // Replies can still be in the decoder's buffer after we decided to close.
            // Their promises have already been failed.
            return .ignore
        case .active(var queue):
            self.state = .closed(.shutdown)  // see enqueue
            guard let head = queue.popFirst() else {
                let error = RedisError.protocolError("received a reply without a pending command")
                self.state = .closed(error)
                return .failAllAndClose([], error)
            }
            self.state = .active(queue: queue)
            return .succeed(head.promise, value)
        }
    }

    mutating func timerFired(now: NIODeadline) -> TimerAction {
        self.timerArmed = false
        guard case .active(let queue) = self.state, let head = queue.first else {
            return .none
        }
        guard head.deadline <= now else {
            self.timerArmed = true
            return .rearm(head.deadline)
        }
        let error = RedisError(
            code: .timeout,
            message: "no reply within \(Self.describe(self.commandTimeout)); connection closed"
        )
        return .failAllAndClose(self.close(error), error)
    }

    /// The connection is gone (or must go) for `error`. Returns the promises to fail with it.
    mutating func close(_ error: RedisError) -> [Promise] {
        switch self.state {
        case .closed:
            return []
        case .active(let queue):
            self.state = .closed(error)
            return queue.map(\.promise)
        }
    }

    private static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return "\(milliseconds) ms"
    }
}
