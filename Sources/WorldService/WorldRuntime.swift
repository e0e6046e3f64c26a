#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
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
    private let wallClock: @Sendable () -> UInt64
    let logger: Logger
    let metrics: WorldMetrics
    let saves: SaveQueue
    let core: Mutex<Core>
    let registry = Mutex(Registry())

    /// What only the tick touches.
    struct Core: ~Copyable {
        var simulation: WorldSimulation
        var autosave: AutosaveSchedule
        var lastCounters = SimulationCounters()
        /// Reused per tick: saves that landed, and this tick's autosave slice.
        var landed: [(characterID: UInt64, version: UInt64)] = []
        var autosaveBatch: [CharacterPosition] = []
        /// Inputs dropped since the last overflow warning, and when it was logged.
        var droppedSinceWarning = 0
        var lastDropWarning: Duration?
        /// This tick's batch per gateway link, filled as outputs come; emptied after delivery.
        var batches: [UInt32: TickBatch] = [:]
        var drained: [[GatewayInput]] = []
        var finished = false
    }

    struct Registry {
        var links: [UInt32: GatewayLink] = [:]
        var closed: [UInt32] = []
        var nextLinkID: UInt32 = 1
        var lifecycle = Lifecycle.idle
        var saver: Task<Void, Never>?
        /// Characters whose final save was given up; nil until the shutdown's save ended.
        var lostAtShutdown: Int?
    }

    enum Lifecycle {
        case idle, running, stopping, stopped
    }

    /// - Parameters:
    ///   - configuration: validated here; an invalid one throws `WorldConfigurationError`.
    ///   - store: where positions are saved (`DatabaseCharacterStateStore` in production).
    ///   - clock: paces `run()`; any clock measuring `Duration` (ContinuousClock by default).
    ///   - wallClock: microseconds since 1970, read once per tick for the versions of saved
    ///     states (`StateVersionClock`).
    ///   - logger: for link, overload and save events (never per input).
    ///   - metricsFactory: nil uses the global `MetricsSystem`.
    public init(
        configuration: WorldConfiguration = WorldConfiguration(),
        store: any CharacterStateStore,
        clock: any Clock<Duration> = ContinuousClock(),
        wallClock: @escaping @Sendable () -> UInt64 = { WorldRuntime.systemWallClockMicros() },
        logger: Logger = Logger(label: "mmo.world"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(WorldConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        let metrics = WorldMetrics(factory: metricsFactory)
        self.metrics = metrics
        self.saves = SaveQueue(
            store: store, chunkSize: configuration.maxStatesPerSave, logger: logger,
            saved: metrics.statesSaved, failures: metrics.saveFailures)
        self.core = Mutex(
            Core(
                simulation: WorldSimulation(configuration: configuration),
                autosave: AutosaveSchedule(interval: configuration.autosaveInterval, tickInterval: configuration.tickInterval)))
    }

    /// The system's wall clock in microseconds since 1970.
    public static func systemWallClockMicros() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec / 1000)
    }

    /// The wall clock, for the tick.
    func wallClockMicros() -> UInt64 { wallClock() }

    // MARK: gateway links

    /// Registers a gateway stream. Throws `WorldRuntimeError.shuttingDown` once the world is
    /// stopping.
    public func openLink(peer: String) throws(WorldRuntimeError) -> GatewayLink {
        let link = try registry.withLock { r throws(WorldRuntimeError) -> GatewayLink in
            guard r.lifecycle == .idle || r.lifecycle == .running else { throw .shuttingDown }
            let link = GatewayLink(
                id: r.nextLinkID, peer: peer, maxQueuedInputs: configuration.maxQueuedInputsPerGateway,
                maxPendingBatches: configuration.maxPendingBatchesPerGateway,
                maxPendingBytes: configuration.maxPendingBytesPerGateway)
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

    /// Queues a gateway's inputs for the next tick. Never blocks; inputs past the link's limit
    /// are dropped and counted.
    ///
    /// - Parameter gatewayID: the gateway's name for itself, for logs; the first non-empty one
    ///   a link sends is kept.
    public func submit(_ inputs: [GatewayInput], gatewayID: String = "", from link: GatewayLink) {
        if !gatewayID.isEmpty { link.setGatewayID(gatewayID) }
        let dropped = link.enqueue(inputs)
        if dropped > 0 { metrics.inputsDropped.increment(by: dropped) }
    }

    // MARK: lifecycle

    /// Runs the tick loop at `tickRateHz` until `stop()` is called or the surrounding task is
    /// cancelled, then takes every player out (saved, not told), ends every gateway stream and
    /// saves every position before returning (see `shutdown`). The final save runs in an
    /// unstructured task, so it completes even when this task is being cancelled.
    ///
    /// Throws `WorldRuntimeError.alreadyRunning` if called twice. If `stop()` came first, it
    /// only runs the shutdown (and returns). After it returns, `lostAtShutdown` says whether
    /// the final save was given up.
    public func run() async throws(WorldRuntimeError) {
        let stoppedBeforeStart = try registry.withLock { r throws(WorldRuntimeError) -> Bool in
            switch r.lifecycle {
            case .idle:
                r.lifecycle = .running
                r.saver = Task { await self.saveLoop() }
                return false
            case .stopping where r.saver == nil:
                // stop() came first (a shutdown racing startup): nothing ran, so just finish.
                return true
            case .running, .stopping, .stopped:
                throw .alreadyRunning
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

    /// Ends the world: every player leaves without being told, every link's stream ends, and
    /// all positions are saved, retrying with
    /// backoff until the save lands or `finalSaveTimeout` has passed. `run()` calls it; tests
    /// that tick by hand call it directly. Later calls only wait for the saves.
    ///
    /// - Returns: how many characters' progress was lost (0 when everything was saved); also
    ///   in `lostAtShutdown`.
    @discardableResult
    public func shutdown(now: Duration) async -> Int {
        let (links, saver) = registry.withLock { r -> ([GatewayLink], Task<Void, Never>?) in
            r.lifecycle = .stopped
            return (Array(r.links.values), r.saver)
        }
        // The final tick: run even if stop raced with a tick, so no player is left unsaved.
        core.withLock { core in
            guard !core.finished else { return }
            // Players are not told: a world stopping is, to its gateways, a world link that
            // broke. They keep their players in the world and re-admit them (from this final
            // save) to the world that replaces this one, or tell them SERVICE_UNAVAILABLE if
            // none comes back in time. A rolling restart of the world takes nobody out.
            core.simulation.evictAll(telling: nil)
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
        let final = Task { [saves, configuration, logger] () -> Int in
            await saver?.value
            let clock = ContinuousClock()
            let started = clock.now
            var delay = configuration.saveRetryDelay
            var attempts = 0
            while true {
                attempts += 1
                if await saves.flush() {
                    if attempts > 1 { logger.info("final save landed", metadata: ["attempts": "\(attempts)"]) }
                    return 0
                }
                let timeout = configuration.finalSaveTimeout
                if timeout > .zero && started.duration(to: clock.now) + delay > timeout { break }
                logger.warning(
                    "final save failed; retrying",
                    metadata: [
                        "characters": "\(saves.pendingCount)", "attempt": "\(attempts)",
                        "retryInSeconds": "\(delay.inSeconds)",
                    ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, configuration.maxSaveRetryDelay)
            }
            let lost = saves.pendingCount
            logger.error(
                "final save given up; these characters' progress since their last save is lost",
                metadata: ["characters": "\(lost)", "attempts": "\(attempts)"])
            return lost
        }
        let lost = await final.value
        registry.withLock { $0.lostAtShutdown = lost }
        logger.info("world stopped")
        return lost
    }

    /// Characters whose final save was given up (see `WorldConfiguration.finalSaveTimeout`);
    /// nil before the shutdown's save ended. Non-zero means the process should exit non-zero.
    public var lostAtShutdown: Int? { registry.withLock { $0.lostAtShutdown } }

    /// Writes queued positions whenever the tick queues some; retries failures after
    /// `saveRetryDelay`, doubling up to `maxSaveRetryDelay` while they keep failing. Ends when
    /// `shutdown` finishes the signals.
    private func saveLoop() async {
        var delay = configuration.saveRetryDelay
        for await _ in saves.signals {
            if await saves.flush() {
                delay = configuration.saveRetryDelay
            } else {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, configuration.maxSaveRetryDelay)
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

    /// Departed characters whose live state the world still keeps (`RecentDepartures`).
    public var retainedDepartureCount: Int { core.withLock { $0.simulation.retainedDepartureCount } }
}
