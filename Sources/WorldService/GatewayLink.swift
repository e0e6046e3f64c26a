import Synchronization

/// One gateway's stream into the world: a bounded inbox the gateway fills and the tick drains,
/// and a bounded outbox of per-tick batches the gateway's stream writer consumes.
///
/// The inbox lock is held only to append or to swap the queued arrays out, never while the
/// simulation runs, so a gateway never waits for a tick.
///
/// Flow control: the tick hands a batch over without waiting (`deliver`); the stream writer
/// takes batches as fast as gRPC's HTTP/2 flow control lets it write them, so a slow gateway
/// slows only its own stream while its batches wait here. The outbox holds at most
/// `maxPendingBatches` batches and `maxPendingBytes` bytes; a gateway that stays slow past
/// either is disconnected (`tooSlow`) rather than buffered without bound. Both bounds are
/// configuration (`WorldConfiguration.maxPendingBatchesPerGateway`/`maxPendingBytesPerGateway`:
/// `world.gatewayOutboxBatches`, `world.gatewayOutboxBytes`).
public final class GatewayLink: Sendable {
    /// Why a link stopped delivering batches.
    public enum CloseReason: Sendable, Equatable {
        /// The gateway's stream ended or failed.
        case gatewayDisconnected
        /// The gateway fell `maxPendingBatchesPerGateway` batches or `maxPendingBytes` behind.
        case tooSlow
        /// The world is shutting down.
        case worldStopping
    }

    /// The runtime's number for this link; the `link` part of every `SessionKey` from it.
    public let id: UInt32
    /// Where the stream comes from, for logs.
    public let peer: String
    /// One batch per tick in which any of this gateway's sessions has output. One consumer.
    public var batches: Batches { Batches(stream: queued, link: self) }

    /// Default for `maxPendingBytes`: 256 MiB, about 55 ticks of the largest output measured
    /// (2,000 players crowded at one spot, ~4.6 MB per tick) and 200 ticks of ordinary play.
    public static let defaultMaxPendingBytes = 256 << 20

    private let queued: AsyncStream<Queued>
    private let outbox: AsyncStream<Queued>.Continuation
    let maxQueuedInputs: Int
    /// Outbox bound in bytes (`TickBatch.payloadBytes`).
    let maxPendingBytes: Int
    /// Bytes in the outbox: added by the tick, subtracted as the writer takes batches.
    private let pendingBytes = Atomic<Int>(0)
    private let inbox = Mutex(Inbox())
    private let state = Mutex(LinkState())

    /// A batch in the outbox with its size, so taking it gives back exactly what delivering took.
    struct Queued: Sendable {
        var batch: TickBatch
        var bytes: Int
    }

    /// The outbox as the stream writer reads it; taking a batch frees its bytes.
    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = TickBatch
        public typealias Failure = Never
        let stream: AsyncStream<Queued>
        let link: GatewayLink

        public func makeAsyncIterator() -> Iterator {
            Iterator(base: stream.makeAsyncIterator(), link: link)
        }

        public struct Iterator: AsyncIteratorProtocol {
            public typealias Element = TickBatch
            public typealias Failure = Never
            var base: AsyncStream<Queued>.Iterator
            let link: GatewayLink

            public mutating func next() async -> TickBatch? {
                guard let next = await base.next() else { return nil }
                link.pendingBytes.subtract(next.bytes, ordering: .relaxed)
                return next.batch
            }
        }
    }

    /// Bytes of output waiting for the gateway's stream writer.
    public var pendingOutputBytes: Int { pendingBytes.load(ordering: .relaxed) }

    struct Inbox {
        /// Whole submitted arrays: appending one is a retain, not a copy.
        var batches: [[GatewayInput]] = []
        var count = 0
        /// Inputs dropped since the last drain (for the metric).
        var dropped = 0
        /// Sessions whose join arrived when the inbox was full; answered with BUSY.
        var refusedJoins: [UInt64] = []
    }

    struct LinkState {
        var gatewayID = ""
        var closeReason: CloseReason?
    }

    init(
        id: UInt32, peer: String, maxQueuedInputs: Int, maxPendingBatches: Int,
        maxPendingBytes: Int = GatewayLink.defaultMaxPendingBytes
    ) {
        self.id = id
        self.peer = peer
        self.maxQueuedInputs = maxQueuedInputs
        self.maxPendingBytes = maxPendingBytes
        (queued, outbox) = AsyncStream.makeStream(of: Queued.self, bufferingPolicy: .bufferingOldest(maxPendingBatches))
    }

    /// The gateway's self-reported id (from its first batch), or "" before it sent one.
    public var gatewayID: String {
        get { state.withLock { $0.gatewayID } }
    }

    func setGatewayID(_ id: String) {
        state.withLock { if $0.gatewayID.isEmpty { $0.gatewayID = id } }
    }

    /// Why the link closed, once it has.
    public var closeReason: CloseReason? { state.withLock { $0.closeReason } }

    /// Marks the link closed and ends its batch stream (after the batches already queued).
    /// The first reason wins. Returns false if it was already closed.
    @discardableResult
    func close(_ reason: CloseReason) -> Bool {
        let first = state.withLock { s in
            guard s.closeReason == nil else { return false }
            s.closeReason = reason
            return true
        }
        if first { outbox.finish() }
        return first
    }

    /// Queues a gateway batch's inputs; returns how many were dropped.
    ///
    /// Past `maxQueuedInputs` moves and chat are dropped, joins are refused with BUSY at the
    /// next tick, and leaves are always kept: dropping one would leave a ghost in the world.
    @discardableResult
    func enqueue(_ inputs: [GatewayInput]) -> Int {
        guard !inputs.isEmpty else { return 0 }
        return inbox.withLock { box in
            if box.count + inputs.count <= maxQueuedInputs {
                box.batches.append(inputs)
                box.count += inputs.count
                return 0
            }
            var kept: [GatewayInput] = []
            var dropped = 0
            for input in inputs {
                switch input.command {
                case .leave:
                    kept.append(input)
                case .join where box.count + kept.count < maxQueuedInputs:
                    kept.append(input)
                case .join where box.refusedJoins.count < maxQueuedInputs:
                    box.refusedJoins.append(input.session)
                case _ where box.count + kept.count < maxQueuedInputs:
                    kept.append(input)
                default:
                    dropped += 1
                }
            }
            if !kept.isEmpty {
                box.batches.append(kept)
                box.count += kept.count
            }
            box.dropped += dropped
            return dropped
        }
    }

    /// Swaps the queued inputs into `batches` (which must be empty; its capacity is reused for
    /// the next round) and returns the refused joins and the number dropped since last time.
    func drain(into batches: inout [[GatewayInput]]) -> (refusedJoins: [UInt64], dropped: Int) {
        inbox.withLock { box in
            swap(&box.batches, &batches)
            box.count = 0
            let result = (box.refusedJoins, box.dropped)
            if !box.refusedJoins.isEmpty { box.refusedJoins = [] }
            box.dropped = 0
            return result
        }
    }

    /// Hands a tick's batch to the gateway's writer without waiting. False when the gateway is
    /// too far behind (`maxPendingBatches` batches or `maxPendingBytes` bytes already waiting;
    /// the batch was not queued) or the link is closed. An empty outbox takes a batch of any
    /// size, so one tick's output larger than the byte bound still goes out.
    ///
    /// Only the tick calls it, so the check and the add below cannot interleave with another
    /// delivery; the writer only subtracts.
    func deliver(_ batch: TickBatch) -> Bool {
        let bytes = batch.payloadBytes
        let waiting = pendingBytes.load(ordering: .relaxed)
        if waiting > 0, waiting + bytes > maxPendingBytes { return false }
        pendingBytes.add(bytes, ordering: .relaxed)
        if case .enqueued = outbox.yield(Queued(batch: batch, bytes: bytes)) { return true }
        pendingBytes.subtract(bytes, ordering: .relaxed)
        return false
    }
}
