import Foundation
import Logging
import MMOContracts
import MMOProtocol
import Metrics
import Synchronization

/// The world's I/O shell around `WorldSimulation`: gateway links in, per-tick batches out, a
/// fixed-rate tick loop, autosave and the final save on shutdown.
///
/// Production: create it, hand it to `WorldGRPCService`, and `run()` it (in a ServiceGroup or a
/// task); `stop()` or cancellation ends the loop, after which every player is saved.
/// Tests: skip `run()` and drive `tick(now:)` by hand, then `shutdown(now:)`.
///
/// Threads of control: any number of gateway streams call `submit`; one tick at a time runs
/// the simulation under its own lock, which gateways never take; one saver task writes to the
/// store. The database is never awaited inside a tick.
public final class WorldRuntime: Sendable {
    public let configuration: WorldConfiguration

    private let clock: any Clock<Duration>
    private let logger: Logger
    private let metrics: WorldMetrics
    private let saves: SaveQueue
    private let core: Mutex<Core>
    private let registry = Mutex(Registry())

    /// What only the tick touches.
    private struct Core: ~Copyable {
        var simulation: WorldSimulation
        var nextAutosave: Duration?
        var lastCounters = SimulationCounters()
        /// Inputs dropped since the last overflow warning, and when it was logged.
        var droppedSinceWarning = 0
        var lastDropWarning: Duration?
        var batches: [UInt32: Mmo_WorldBatch] = [:]
        var drained: [[Mmo_GatewayInput]] = []
        var finished = false
    }

    private struct Registry {
        var links: [UInt32: GatewayLink] = [:]
        var closed: [UInt32] = []
        var nextLinkID: UInt32 = 1
        var lifecycle = Lifecycle.idle
        var saver: Task<Void, Never>?
    }

    private enum Lifecycle {
        case idle, running, stopping, stopped
    }

    /// - Parameters:
    ///   - configuration: validated here; an invalid one throws `WorldConfigurationError`.
    ///   - store: where positions are saved (`DatabaseCharacterStateStore` in production).
    ///   - clock: paces `run()`; any clock measuring `Duration` (ContinuousClock by default).
    ///   - logger: for link, overload and save events (never per input).
    ///   - metricsFactory: nil uses the global `MetricsSystem`.
    public init(
        configuration: WorldConfiguration = WorldConfiguration(),
        store: any CharacterStateStore,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "mmo.world"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(WorldConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        let metrics = WorldMetrics(factory: metricsFactory)
        self.metrics = metrics
        self.saves = SaveQueue(
            store: store, chunkSize: configuration.maxStatesPerSave, logger: logger,
            saved: metrics.statesSaved, failures: metrics.saveFailures)
        self.core = Mutex(Core(simulation: WorldSimulation(configuration: configuration)))
    }

    // MARK: gateway links

    /// Registers a gateway stream. Throws `RPCError(.unavailable)` once the world is stopping.
    public func openLink(peer: String) throws -> GatewayLink {
        let link = try registry.withLock { r throws -> GatewayLink in
            guard r.lifecycle == .idle || r.lifecycle == .running else {
                throw RPCError(code: .unavailable, message: "the world is shutting down")
            }
            let link = GatewayLink(
                id: r.nextLinkID, peer: peer, maxQueuedInputs: configuration.maxQueuedInputsPerGateway,
                maxPendingBatches: configuration.maxPendingBatchesPerGateway)
            r.nextLinkID &+= 1
            r.links[link.id] = link
            metrics.gateways.record(r.links.count)
            return link
        }
        logger.info("gateway link opened", metadata: ["link": "\(link.id)", "peer": "\(peer)"])
        return link
    }

    /// Unregisters a link: its players leave (and are saved) at the next tick.
    public func closeLink(_ link: GatewayLink, reason: GatewayLink.CloseReason = .gatewayDisconnected) {
        link.close(reason)
        let removed = registry.withLock { r -> Bool in
            guard r.links.removeValue(forKey: link.id) != nil else { return false }
            r.closed.append(link.id)
            metrics.gateways.record(r.links.count)
            return true
        }
        if removed {
            logger.info(
                "gateway link closed",
                metadata: ["link": "\(link.id)", "gateway": "\(link.gatewayID)", "reason": "\(reason)"])
        }
    }

    /// Queues a gateway batch's inputs for the next tick. Never blocks; inputs past the link's
    /// limit are dropped and counted.
    public func submit(_ batch: Mmo_GatewayBatch, from link: GatewayLink) {
        if !batch.gatewayID.isEmpty { link.setGatewayID(batch.gatewayID) }
        let dropped = link.enqueue(batch.inputs)
        if dropped > 0 { metrics.inputsDropped.increment(by: dropped) }
    }

    // MARK: tick

    /// Runs one tick at `now` (time since the world started): drains every link's inputs, steps
    /// the simulation, hands each link its batch, and queues saves. `run()` calls it at
    /// `tickRateHz`; tests call it directly.
    public func tick(now: Duration) {
        let started = ContinuousClock.now
        let (links, closed) = registry.withLock { r -> ([UInt32: GatewayLink], [UInt32]) in
            let closed = r.closed
            r.closed.removeAll()
            return (r.links, closed)
        }
        let tooSlow = core.withLock { core -> [GatewayLink] in
            guard !core.finished else { return [] }
            return runTick(&core, now: now, links: links, closed: closed)
        }
        for link in tooSlow {
            logger.warning(
                "gateway fell too far behind; disconnecting it",
                metadata: ["link": "\(link.id)", "gateway": "\(link.gatewayID)"])
            closeLink(link, reason: .tooSlow)
        }
        metrics.tickDuration.recordNanoseconds(started.duration(to: .now).nanoseconds)
    }

    private func runTick(
        _ core: inout Core, now: Duration, links: [UInt32: GatewayLink], closed: [UInt32]
    ) -> [GatewayLink] {
        for id in closed { core.simulation.closeLink(id) }

        var dropped = 0
        for link in links.values {
            let (refusedJoins, droppedHere) = link.drain(into: &core.drained)
            dropped += droppedHere
            for inputs in core.drained {
                for input in inputs { submit(input, link: link.id, to: &core.simulation) }
            }
            core.drained.removeAll(keepingCapacity: true)
            for session in refusedJoins {
                var rejected = Mmo_JoinRejected()
                rejected.resultCode = UInt32(ResultCode.busy.rawValue)
                var output = Mmo_SessionOutput()
                output.sessionID = session
                output.kind = .rejected(rejected)
                core.batches[link.id, default: Mmo_WorldBatch()].outputs.append(output)
            }
        }
        if dropped > 0 {
            // At most one warning per 10 s: an overloaded world must not also flood its log.
            core.droppedSinceWarning += dropped
            if core.lastDropWarning.map({ now - $0 >= .seconds(10) }) ?? true {
                logger.warning(
                    "gateway input queues overflowed; inputs dropped",
                    metadata: ["dropped": "\(core.droppedSinceWarning)"])
                core.droppedSinceWarning = 0
                core.lastDropWarning = now
            }
        }

        core.simulation.step(now: now)

        var bytes = 0
        for output in core.simulation.outputs {
            var out = Mmo_SessionOutput()
            out.sessionID = output.key.session
            switch output.outcome {
            case .joined(let entityID, let zoneID, let position):
                var joined = Mmo_JoinAccepted()
                joined.entityID = entityID
                joined.zoneID = zoneID
                joined.x = position.x
                joined.y = position.y
                joined.tickRateHz = UInt32(configuration.tickRateHz)
                out.kind = .joined(joined)
            case .rejected(let code):
                var rejected = Mmo_JoinRejected()
                rejected.resultCode = UInt32(code.rawValue)
                out.kind = .rejected(rejected)
            case .update(let buffer):
                bytes += buffer.readableBytes
                out.kind = .update(buffer.withUnsafeReadableBytes { Data($0) })
            case .left(let code):
                var left = Mmo_LeftWorld()
                left.resultCode = UInt32(code.rawValue)
                out.kind = .left(left)
            }
            core.batches[output.key.link, default: Mmo_WorldBatch()].outputs.append(out)
        }

        var tooSlow: [GatewayLink] = []
        for (id, var batch) in core.batches {
            // Sessions of links closed since the snapshot: nobody to deliver to.
            guard let link = links[id] else { continue }
            batch.tick = core.simulation.tick
            if !link.deliver(batch), link.closeReason == nil { tooSlow.append(link) }
        }
        core.batches.removeAll(keepingCapacity: true)

        saves.enqueue(core.simulation.departed)
        if let due = core.nextAutosave {
            if now >= due {
                saves.enqueue(core.simulation.takeChangedPositions())
                core.nextAutosave = now + configuration.autosaveInterval
            }
        } else {
            core.nextAutosave = now + configuration.autosaveInterval
        }

        metrics.players.record(core.simulation.playerCount)
        if bytes > 0 { metrics.bytesOut.increment(by: bytes) }
        if core.simulation.counters != core.lastCounters {
            metrics.record(core.simulation.counters, since: core.lastCounters)
            core.lastCounters = core.simulation.counters
        }
        return tooSlow
    }

    private func submit(_ input: Mmo_GatewayInput, link: UInt32, to sim: inout WorldSimulation) {
        let key = SessionKey(link: link, session: input.sessionID)
        switch input.kind {
        case .move(let move)?:
            sim.submit(.move(seq: move.seq, to: Position(x: move.x, y: move.y)), from: key)
        case .say(let say)?:
            sim.submit(.say(say.text), from: key)
        case .join(let join)?:
            let profile = PlayerProfile(
                characterID: join.characterID, accountID: join.accountID, name: join.name,
                classID: UInt8(clamping: join.classID), appearance: join.appearance,
                level: UInt16(clamping: join.level))
            sim.submit(.join(profile, zoneID: join.zoneID, position: Position(x: join.x, y: join.y)), from: key)
        case .leave?:
            sim.submit(.leave, from: key)
        case nil:
            break
        }
    }

    // MARK: lifecycle

    /// Runs the tick loop at `tickRateHz` until `stop()` is called or the surrounding task is
    /// cancelled, then evicts every player (LEFT_WORLD with SERVER_SHUTTING_DOWN), ends every
    /// gateway stream and saves every position before returning. The final save runs in an
    /// unstructured task, so it completes even when this task is being cancelled.
    ///
    /// Throws `RPCError(.failedPrecondition)` if called twice. If `stop()` came first, it only
    /// runs the shutdown (and returns).
    public func run() async throws {
        let stoppedBeforeStart = try registry.withLock { r throws -> Bool in
            switch r.lifecycle {
            case .idle:
                r.lifecycle = .running
                r.saver = Task { await self.saveLoop() }
                return false
            case .stopping where r.saver == nil:
                // stop() came first (a shutdown racing startup): nothing ran, so just finish.
                return true
            case .running, .stopping, .stopped:
                throw RPCError(code: .failedPrecondition, message: "the world runtime runs only once")
            }
        }
        if stoppedBeforeStart {
            await shutdown(now: .zero)
            return
        }
        logger.info("world running", metadata: ["tickRateHz": "\(configuration.tickRateHz)"])
        let clock = self.clock
        let now = await runTicks(clock: clock)
        await shutdown(now: now)
    }

    /// Asks `run()` to finish; it does so after at most one tick.
    public func stop() {
        registry.withLock { r in
            if r.lifecycle == .running || r.lifecycle == .idle { r.lifecycle = .stopping }
        }
    }

    private var stopRequested: Bool {
        registry.withLock { $0.lifecycle != .running }
    }

    /// The fixed-rate loop. Returns the time of its last tick when stopped or cancelled.
    private func runTicks(clock: some Clock<Duration>) async -> Duration {
        let interval = configuration.tickInterval
        let origin = clock.now
        var deadline = origin
        while !stopRequested {
            deadline = deadline.advanced(by: interval)
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                break  // cancelled
            }
            if stopRequested { break }
            let now = clock.now
            tick(now: origin.duration(to: now))
            // More than a tick behind: skip the missed ticks rather than burst to catch up;
            // a burst would only make the next ticks late too.
            if deadline.duration(to: clock.now) > interval {
                metrics.tickOverruns.increment()
                deadline = clock.now
            }
        }
        return origin.duration(to: clock.now)
    }

    /// Ends the world: every player leaves with SERVER_SHUTTING_DOWN (their gateways get that
    /// final batch), every link's stream ends, and all positions are saved, retrying up to
    /// `finalSaveAttempts` times. `run()` calls it; tests that tick by hand call it directly.
    /// Later calls only wait for the saves.
    public func shutdown(now: Duration) async {
        let (links, saver) = registry.withLock { r -> ([GatewayLink], Task<Void, Never>?) in
            r.lifecycle = .stopped
            return (Array(r.links.values), r.saver)
        }
        // The final tick: run even if stop raced with a tick, so no player is left unsaved.
        core.withLock { core in
            guard !core.finished else { return }
            core.simulation.evictAll(reason: .serverShuttingDown)
            var linksByID: [UInt32: GatewayLink] = [:]
            for link in links { linksByID[link.id] = link }
            // Everyone leaves in this tick, so `departed` (queued for saving) holds every player.
            _ = runTick(&core, now: now, links: linksByID, closed: [])
            core.finished = true
        }
        for link in links { closeLink(link, reason: .worldStopping) }

        saves.finishSignals()
        // Unstructured: neither waiting for the saver nor the final retries may be cut short
        // by the cancellation of the task that is shutting the world down.
        let final = Task { [saves, configuration, logger] in
            await saver?.value
            for attempt in 1...configuration.finalSaveAttempts {
                if await saves.flush() { return }
                if attempt < configuration.finalSaveAttempts { try? await Task.sleep(for: configuration.saveRetryDelay) }
            }
            logger.error(
                "final save failed; positions lost", metadata: ["characters": "\(saves.pendingCount)"])
        }
        await final.value
        logger.info("world stopped")
    }

    /// Writes queued positions whenever the tick queues some; retries failures after
    /// `saveRetryDelay`. Ends when `shutdown` finishes the signals.
    private func saveLoop() async {
        for await _ in saves.signals {
            if await !saves.flush() {
                try? await Task.sleep(for: configuration.saveRetryDelay)
                saves.wake()
            }
        }
    }

    /// Writes every queued position now. For tests and tools; `run()` saves on its own.
    @discardableResult
    public func flushSaves() async -> Bool {
        await saves.flush()
    }

    /// Players currently in the world.
    public var playerCount: Int { core.withLock { $0.simulation.playerCount } }

    /// Positions queued but not yet saved.
    public var pendingSaveCount: Int { saves.pendingCount }

    /// Reads the simulation under the tick lock, for tests and diagnostics.
    public func withSimulation<R: Sendable>(_ body: (borrowing WorldSimulation) -> R) -> R {
        core.withLock { body($0.simulation) }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let c = components
        let (s, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : s &+ c.attoseconds / 1_000_000_000
    }
}
