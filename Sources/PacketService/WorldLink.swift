import Logging
import NIOCore
import Synchronization

/// The gateway's one long-lived `Connect` stream to the world service, carrying every player
/// of this gateway (session id = connection id).
///
/// Upstream: inputs from all connections are appended to one `Mutex`-protected buffer and sent as
/// one `GatewayBatch` per flush; the writer sleeps `flushInterval` between batches so a busy
/// gateway sends a few hundred batches a second, not one message per input, and an idle one
/// sends nothing. Downstream: each `WorldBatch` is split by event loop, and every connection
/// gets its outputs in one hop with one flush.
///
/// If the stream fails, everyone in (or entering) the world is told (LEFT_WORLD or
/// ENTER_WORLD_RESULT with SERVICE_UNAVAILABLE) and the link reconnects with backoff.
///
/// The stream and its protobuf messages are in WorldLink+Contracts.swift; this file is the
/// batching and the lifecycle.
final class WorldLink: WorldSessionLink, Sendable {
    private struct State {
        var inputs: [Input] = []
        var waiter: CheckedContinuation<Void, Never>?
        var connected = false
        /// Increments per established stream, so a loss is only applied to joins sent on it.
        var epoch: UInt64 = 0
        var draining = false
    }

    private let state = Mutex(State())
    let client: any Client
    let gatewayId: String
    let registry: SessionRegistry
    let metrics: PacketMetrics
    let flushInterval: Duration
    private let backoff: ClosedRange<Duration>
    private let logger: Logger

    init(
        client: any Client,
        gatewayId: String,
        registry: SessionRegistry,
        metrics: PacketMetrics,
        flushInterval: Duration,
        backoff: ClosedRange<Duration>,
        logger: Logger
    ) {
        self.client = client
        self.gatewayId = gatewayId
        self.registry = registry
        self.metrics = metrics
        self.flushInterval = flushInterval
        self.backoff = backoff
        self.logger = logger
    }

    /// True while a stream to the world is established.
    var isConnected: Bool { state.withLock { $0.connected } }

    // MARK: - Inputs (any thread)

    func join(session: UInt64, _ join: WorldJoin) -> UInt64? {
        let input = Input(session: session, join: join)
        let (epoch, waiter): (UInt64?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.connected, !state.draining else { return (nil, nil) }
            state.inputs.append(input)
            let waiter = state.waiter
            state.waiter = nil
            return (state.epoch, waiter)
        }
        waiter?.resume()
        return epoch
    }

    func move(session: UInt64, seq: UInt32, x: Float, y: Float) {
        enqueue(Input(session: session, moveSeq: seq, x: x, y: y))
    }

    func say(session: UInt64, text: String) {
        enqueue(Input(session: session, say: text))
    }

    func leave(session: UInt64) {
        enqueue(Input(leaving: session))
    }

    /// Queues an input for the next batch. While the link is down inputs are dropped: the world
    /// has already forgotten this gateway's sessions, and joins are refused.
    private func enqueue(_ input: Input) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.connected else { return nil }
            state.inputs.append(input)
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    // MARK: - Lifecycle

    /// Keeps a stream to the world open until `beginDraining()` or cancellation, reconnecting
    /// with exponential backoff.
    func run() async {
        var delay = backoff.lowerBound
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            let started = ContinuousClock.now
            do {
                try await connectOnce()
                if state.withLock({ $0.draining }) {
                    logger.debug("world link closed after draining")
                    return
                }
                logger.warning("world stream ended; reconnecting")
            } catch {
                if Task.isCancelled || state.withLock({ $0.draining }) {
                    linkLost()
                    return
                }
                logger.warning("world stream failed; reconnecting", metadata: ["error": "\(error)"])
            }
            metrics.worldLinkFailures.increment()
            linkLost()
            if ContinuousClock.now - started > .seconds(10) { delay = backoff.lowerBound }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, backoff.upperBound)
        }
    }

    /// Sends what is queued (the leaves of disconnected players), ends the request stream and
    /// lets `run()` return once the world closes its side.
    func beginDraining() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.draining = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func linkEstablished() {
        let epoch: UInt64 = state.withLock { state in
            state.epoch += 1
            state.inputs.removeAll()
            state.connected = true
            return state.epoch
        }
        logger.info("world link established", metadata: ["epoch": "\(epoch)"])
    }

    /// Everyone the world had from this stream is gone: tell each connection (they ignore it
    /// unless they joined on this epoch).
    private func linkLost() {
        let (wasConnected, epoch): (Bool, UInt64) = state.withLock { state in
            let was = state.connected
            state.connected = false
            state.inputs.removeAll()
            return (was, state.epoch)
        }
        guard wasConnected else { return }
        forEachLoop(registry.allConnections()) { handles in
            for handle in handles { handle.handler.value.worldLinkLost(epoch: epoch) }
        }
    }

    // MARK: - Upstream

    /// Waits until there is something to send (or draining / cancellation), then takes it all.
    func nextInputs() async -> ([Input], Bool) {
        while true {
            let taken: ([Input], Bool)? = state.withLock { state in
                guard !state.inputs.isEmpty || state.draining else { return nil }
                let inputs = state.inputs
                state.inputs = []
                state.inputs.reserveCapacity(inputs.count)
                return (inputs, state.draining)
            }
            if let taken { return taken }
            if Task.isCancelled { return ([], true) }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state in
                        if !state.inputs.isEmpty || state.draining || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    let waiter = state.waiter
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume()
            }
        }
    }

    // MARK: - Downstream

    private func forEachLoop(_ handles: [ConnectionHandle], _ body: @escaping @Sendable ([ConnectionHandle]) -> Void) {
        var perLoop: [ObjectIdentifier: (any EventLoop, [ConnectionHandle])] = [:]
        for handle in handles {
            perLoop[ObjectIdentifier(handle.eventLoop), default: (handle.eventLoop, [])].1.append(handle)
        }
        for (loop, handles) in perLoop.values {
            loop.execute { body(handles) }
        }
    }
}
