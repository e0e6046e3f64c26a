import Logging
import NIOCore
import Synchronization

/// The gateway's one long-lived `Connect` stream to the world service, carrying every player
/// of this gateway (session id = connection id).
///
/// Upstream: inputs from all connections are appended to one `Mutex`-protected buffer and sent as
/// one `GatewayBatch` per flush; the writer sleeps `flushInterval` between batches so a busy
/// gateway sends a few hundred batches a second, not one message per input, and an idle one
/// sends nothing. The buffer is bounded (`WorldInputQueue`: per session a cap on
/// moves, past which the newest replaces the last, and on chat; joins and leaves always kept), since the writer goes only as fast as
/// the world reads and a stalled or hung stream would otherwise let it grow with every input. Downstream: each `WorldBatch` is split by event loop, and every connection
/// gets its outputs in one hop with one flush.
///
/// If the stream fails, nobody is sent out of the world: the link reconnects with backoff and
/// replays the join of every session the world had (or was asking for) as the first inputs of
/// the new stream. The world re-admits them (a re-admitted player gets a fresh view of its
/// surroundings: an `appear` for everyone in view); the gateway turns the acceptance into
/// VIEW_RESET (new entity id and position), since its client never left but knows only stale ids. A session the world now refuses gets LEFT_WORLD with the world's code.
/// Only when the link stays down for `rejoinTimeout` is everyone told (LEFT_WORLD or
/// ENTER_WORLD_RESULT with SERVICE_UNAVAILABLE). Inputs while the link is down are dropped
/// (the world corrects a client whose next move is too far from where it knows it).
///
/// The stream and its protobuf messages are in WorldLink+Contracts.swift; this file is the
/// batching, the re-admission and the lifecycle.
final class WorldLink: WorldSessionLink, Sendable {
    private struct State {
        /// The next batch (bounded: `WorldInputQueue`).
        var inputs: WorldInputQueue
        var waiter: CheckedContinuation<Void, Never>?
        var connected = false
        /// Increments per established stream.
        var epoch: UInt64 = 0
        var draining = false
        /// Every session the world has or is being asked to take: replayed on a new stream.
        var admissions: [UInt64: Admission] = [:]
        /// When the link went down with admissions to replay; nil while it is up.
        var downSince: ContinuousClock.Instant?
        /// The joins to replay are being re-read (see `refresh`): inputs wait in `held` so they
        /// reach the world after the joins they belong to, not before (and get dropped).
        var refreshing = false
        var held: WorldInputQueue

        init(limits: WorldInputQueue.Limits) {
            inputs = WorldInputQueue(limits: limits)
            held = WorldInputQueue(limits: limits)
        }
    }

    /// A session's place in the world as the link tracks it.
    private struct Admission {
        var join: WorldJoin
        /// The epoch the connection's own join went out on: the one its `worldLinkLost` expects.
        let epoch: UInt64
        /// The world accepted it at least once: its connection is IN_WORLD.
        var admitted = false
        /// Its join was replayed on a new stream and not answered yet: the answer is the link's.
        var replaying = false
    }

    private let state: Mutex<State>
    let client: any Client
    let gatewayId: String
    let registry: SessionRegistry
    let metrics: PacketMetrics
    let flushInterval: Duration
    private let backoff: ClosedRange<Duration>
    /// How long the link may stay down before its players are told they are out of the world.
    let rejoinTimeout: Duration
    /// Bounds on the inputs waiting for the stream (`WorldInputQueue`).
    let queueLimits: WorldInputQueue.Limits
    /// Re-reads a session's character before its join is replayed (nil: keep the join as it was).
    /// A world that crashed and came back holds nothing of the player, and the remembered join
    /// carries the record read at ENTER_WORLD: replaying it would put the player back where it
    /// entered, losing everything since, although autosave has a newer state in the database.
    let refresh: JoinRefresher?
    private let logger: Logger

    typealias JoinRefresher = @Sendable (WorldJoin) async -> WorldJoin?
    /// Re-reads at most this many characters at once after a reconnect.
    static let refreshConcurrency = 32

    /// Default `rejoinTimeout`: long enough for a world process to restart.
    static let defaultRejoinTimeout: Duration = .seconds(30)

    init(
        client: any Client,
        gatewayId: String,
        registry: SessionRegistry,
        metrics: PacketMetrics,
        flushInterval: Duration,
        backoff: ClosedRange<Duration>,
        rejoinTimeout: Duration = WorldLink.defaultRejoinTimeout,
        queueLimits: WorldInputQueue.Limits = .init(),
        refresh: JoinRefresher? = nil,
        logger: Logger
    ) {
        self.refresh = refresh
        self.client = client
        self.gatewayId = gatewayId
        self.registry = registry
        self.metrics = metrics
        self.flushInterval = flushInterval
        self.backoff = backoff
        self.rejoinTimeout = rejoinTimeout
        self.queueLimits = queueLimits
        self.state = Mutex(State(limits: queueLimits))
        self.logger = logger
    }

    /// True while a stream to the world is established.
    var isConnected: Bool { state.withLock { $0.connected } }

    // MARK: - Inputs (any thread)

    func join(session: UInt64, _ join: WorldJoin) -> UInt64? {
        let input = Input(session: session, join: join)
        // A replay re-admits a character the world lost with the link: an ordinary join.
        var replay = join
        replay.resume = false
        let (epoch, waiter): (UInt64?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.connected, !state.draining else { return (nil, nil) }
            state.admissions[session] = Admission(join: replay, epoch: state.epoch)
            // A join is never dropped (`WorldInputQueue`).
            if state.refreshing {
                _ = state.held.append(input)
                return (state.epoch, nil)
            }
            _ = state.inputs.append(input)
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
        _ = state.withLock { $0.admissions.removeValue(forKey: session) }
        enqueue(Input(leaving: session))
    }

    /// Inputs waiting for the stream, held ones included (tests, logs).
    var queuedInputCount: Int { state.withLock { $0.inputs.count + $0.held.count } }

    /// Sessions whose join the link would replay on a new stream (tests, logs).
    var admittedSessionCount: Int { state.withLock { $0.admissions.count } }

    /// Queues an input for the next batch, within the queue's bounds (`WorldInputQueue`: past
    /// its cap a session's newest move replaces its last waiting one; moves and chat beyond the
    /// caps are dropped and counted). While the link is down inputs are dropped: the world has already
    /// forgotten this gateway's sessions, and joins are refused.
    private func enqueue(_ input: Input) {
        let (outcome, waiter): (WorldInputQueue.Outcome, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.connected else { return (.queued, nil) }
            if state.refreshing { return (state.held.append(input), nil) }
            let outcome = state.inputs.append(input)
            let waiter = state.waiter
            state.waiter = nil
            return (outcome, waiter)
        }
        waiter?.resume()
        switch outcome {
        case .queued: break
        case .coalesced: metrics.worldMovesCoalesced.increment()
        case .droppedMove: metrics.worldMovesDropped.increment()
        case .droppedChat: metrics.worldChatDropped.increment()
        }
    }

    // MARK: - Lifecycle

    /// Keeps a stream to the world open until `beginDraining()` or cancellation, reconnecting
    /// with exponential backoff; meanwhile gives up on re-admitting players once the link has
    /// been down for `rejoinTimeout`.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.keepConnected() }
            group.addTask { await self.watchRejoinDeadline() }
            await group.next()
            group.cancelAll()
        }
    }

    private func keepConnected() async {
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

    /// A new stream is up: its first inputs are the joins of every session the world had (or
    /// was asked for) on the last one, so the world re-admits them before anything else.
    func linkEstablished() {
        if let refresh {
            linkEstablished(refreshingWith: refresh)
            return
        }
        let (epoch, replayed, waiter): (UInt64, Int, CheckedContinuation<Void, Never>?) = state.withLock { state in
            state.epoch += 1
            state.inputs.removeAll()
            for session in state.admissions.keys {
                state.admissions[session]!.replaying = true
                _ = state.inputs.append(Input(session: session, join: state.admissions[session]!.join))
            }
            state.connected = true
            state.downSince = nil
            let waiter = state.inputs.isEmpty ? nil : state.waiter
            if waiter != nil { state.waiter = nil }
            return (state.epoch, state.inputs.count, waiter)
        }
        waiter?.resume()
        if replayed > 0 {
            logger.info("world link established; re-admitting players", metadata: ["epoch": "\(epoch)", "players": "\(replayed)"])
        } else {
            logger.info("world link established", metadata: ["epoch": "\(epoch)"])
        }
    }

    /// As `linkEstablished()`, but each join is re-read first (see `refresh`), at most
    /// `refreshConcurrency` at a time, then replayed; a session that left meanwhile is skipped,
    /// and a stream that broke meanwhile replays on the next one. A join whose character cannot
    /// be re-read is replayed as it was: if the world kept the player (a link blip, not a
    /// crash) its live state wins anyway.
    private func linkEstablished(refreshingWith refresh: @escaping JoinRefresher) {
        let (epoch, joins): (UInt64, [(UInt64, WorldJoin)]) = state.withLock { state in
            state.epoch += 1
            state.inputs.removeAll()
            for session in state.admissions.keys { state.admissions[session]!.replaying = true }
            state.connected = true
            state.downSince = nil
            state.refreshing = !state.admissions.isEmpty
            state.held.removeAll()
            return (state.epoch, state.admissions.map { ($0.key, $0.value.join) })
        }
        guard !joins.isEmpty else {
            logger.info("world link established", metadata: ["epoch": "\(epoch)"])
            return
        }
        let logger = self.logger
        Task {
            let refreshed = await withTaskGroup(of: (UInt64, WorldJoin?).self) { group -> [(UInt64, WorldJoin?)] in
                var results: [(UInt64, WorldJoin?)] = []
                var next = joins.makeIterator()
                for _ in 0..<Self.refreshConcurrency {
                    guard let (session, join) = next.next() else { break }
                    group.addTask { (session, await refresh(join)) }
                }
                while let result = await group.next() {
                    results.append(result)
                    if let (session, join) = next.next() { group.addTask { (session, await refresh(join)) } }
                }
                return results
            }
            let (replayed, stale, waiter) = state.withLock { state -> (Int, Int, CheckedContinuation<Void, Never>?) in
                guard state.epoch == epoch, state.connected else { return (0, 0, nil) }
                var replays: [Input] = []
                var stale = 0
                for (session, fresh) in refreshed {
                    guard var admission = state.admissions[session], admission.replaying else { continue }
                    if let fresh { admission.join = fresh } else { stale += 1 }
                    state.admissions[session] = admission
                    replays.append(Input(session: session, join: admission.join))
                }
                // Joins first, then what was held meanwhile (`inputs` was empty while
                // refreshing, and `held` has the same bounds: nothing is dropped here).
                state.inputs.appendUnbounded(contentsOf: replays)
                _ = state.inputs.append(contentsOf: state.held)
                state.held.removeAll()
                state.refreshing = false
                let waiter = state.inputs.isEmpty ? nil : state.waiter
                if waiter != nil { state.waiter = nil }
                return (replays.count, stale, waiter)
            }
            waiter?.resume()
            logger.info("world link established; re-admitting players", metadata: [
                "epoch": "\(epoch)", "players": "\(replayed)", "notReread": "\(stale)",
            ])
        }
    }

    /// The stream is gone and the world has dropped this gateway's sessions; they stay in the
    /// world as far as their clients know, to be re-admitted on the next stream.
    func linkLost() {
        state.withLock { state in
            if state.connected, !state.admissions.isEmpty, state.downSince == nil { state.downSince = .now }
            state.connected = false
            state.inputs.removeAll()
            state.refreshing = false
            state.held.removeAll()
        }
    }

    /// What a connection gets for a join result or a leave from the world (updates go straight
    /// through): the output itself, `readmitted` (the acceptance of a replayed join: the client
    /// never left, but its entity id and everything it saw are stale: it gets VIEW_RESET), or
    /// LEFT_WORLD with the world's code (a replayed join the world refused).
    /// Called for each such output while the registry routes a batch; they are rare.
    func route(_ output: WorldOutput, for session: UInt64) -> WorldOutput? {
        state.withLock { state in
            guard var admission = state.admissions[session] else { return output }
            switch output {
            case .joined(let entry):
                let readmitted = admission.replaying && admission.admitted
                admission.admitted = true
                admission.replaying = false
                state.admissions[session] = admission
                return readmitted ? .readmitted(entry) : output
            case .rejected(let code):
                state.admissions[session] = nil
                return admission.replaying && admission.admitted ? .left(code) : output
            case .left:
                // For a session not admitted yet this acknowledges an earlier leave (the world
                // answers in order); the pending join is still wanted.
                if admission.admitted { state.admissions[session] = nil }
                return output
            case .update, .readmitted:
                return output
            }
        }
    }

    /// Every `rejoinTimeout / 4` (at least 50 ms): if the link has been down for `rejoinTimeout`,
    /// the players it would re-admit are told they are out (LEFT_WORLD or ENTER_WORLD_RESULT
    /// with SERVICE_UNAVAILABLE) and forgotten. A separate loop, because a reconnect attempt may
    /// wait for the world's address for longer than that.
    private func watchRejoinDeadline() async {
        let interval = max(rejoinTimeout / 4, .milliseconds(50))
        // Ends only when cancelled (run() does that once the stream loop is done, draining
        // included), so it never cuts a drain short.
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            abandonAdmissionsIfDownTooLong()
        }
    }

    func abandonAdmissionsIfDownTooLong(now: ContinuousClock.Instant = .now) {
        let abandoned: [UInt64: UInt64] = state.withLock { state in
            guard let since = state.downSince, now - since >= rejoinTimeout else { return [:] }
            state.downSince = nil
            defer { state.admissions.removeAll() }
            return state.admissions.mapValues(\.epoch)
        }
        guard !abandoned.isEmpty else { return }
        logger.warning(
            "world link down too long; players sent out of the world",
            metadata: ["players": "\(abandoned.count)", "rejoinTimeout": "\(rejoinTimeout)"])
        forEachLoop(registry.allConnections().filter { abandoned[$0.id] != nil }) { handles in
            for handle in handles { handle.handler.value.worldLinkLost(epoch: abandoned[handle.id]!) }
        }
    }

    // MARK: - Upstream

    /// Waits until there is something to send (or draining / cancellation), then takes it all.
    func nextInputs() async -> ([Input], Bool) {
        while true {
            let taken: ([Input], Bool)? = state.withLock { state in
                guard !state.inputs.isEmpty || state.draining else { return nil }
                return (state.inputs.takeAll(), state.draining)
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
