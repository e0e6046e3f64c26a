import Synchronization

/// Traffic counters of one or more clients. Lock-free, so one instance can be shared by
/// thousands of bots (pass it in `GameClientConfiguration.statistics`).
public final class ClientStatistics: Sendable {
    private let _bytesReceived = Atomic<Int>(0)
    private let _framesReceived = Atomic<Int>(0)
    private let _worldUpdatesReceived = Atomic<Int>(0)
    private let _worldEventsReceived = Atomic<Int>(0)
    private let _bytesSent = Atomic<Int>(0)
    private let _framesSent = Atomic<Int>(0)
    private let _movesSent = Atomic<Int>(0)

    public init() {}

    /// A consistent-enough copy of the counters (each counter is read atomically).
    public struct Snapshot: Sendable, Equatable, Codable {
        public var bytesReceived: Int
        public var framesReceived: Int
        public var worldUpdatesReceived: Int
        public var worldEventsReceived: Int
        public var bytesSent: Int
        public var framesSent: Int
        public var movesSent: Int
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            bytesReceived: _bytesReceived.load(ordering: .relaxed),
            framesReceived: _framesReceived.load(ordering: .relaxed),
            worldUpdatesReceived: _worldUpdatesReceived.load(ordering: .relaxed),
            worldEventsReceived: _worldEventsReceived.load(ordering: .relaxed),
            bytesSent: _bytesSent.load(ordering: .relaxed),
            framesSent: _framesSent.load(ordering: .relaxed),
            movesSent: _movesSent.load(ordering: .relaxed))
    }

    func recordReceived(frameBytes: Int) {
        _bytesReceived.add(frameBytes, ordering: .relaxed)
        _framesReceived.add(1, ordering: .relaxed)
    }

    func recordWorldUpdate(events: Int) {
        _worldUpdatesReceived.add(1, ordering: .relaxed)
        _worldEventsReceived.add(events, ordering: .relaxed)
    }

    func recordSent(frameBytes: Int, isMove: Bool) {
        _bytesSent.add(frameBytes, ordering: .relaxed)
        _framesSent.add(1, ordering: .relaxed)
        if isMove { _movesSent.add(1, ordering: .relaxed) }
    }
}
