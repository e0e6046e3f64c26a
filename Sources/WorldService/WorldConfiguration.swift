import MMOProtocol

/// Everything that tunes one world process. Defaults are the production values; every field is
/// documented in docs/world-service.md.
public struct WorldConfiguration: Sendable {
    /// Simulation steps per second; also sent to clients in JoinAccepted.
    public var tickRateHz: Int = 20
    /// The zones this process simulates. The first one is where characters with zone id 0 start.
    public var zones: [Zone] = [.greenvale]

    /// A player sees entities within this distance. Also the interest grid's cell size.
    public var interestRadius: Float = 50
    /// An entity leaves view only beyond `interestRadius * interestHysteresis`, so an entity
    /// pacing along the edge does not flicker in and out.
    public var interestHysteresis: Float = 1.2
    /// The most entities one player is shown at a time. A crowd of N players would otherwise cost
    /// N^2 events per tick; past the cap, newcomers are shown as others leave view.
    public var maxVisibleEntities: Int = 128

    /// Largest WORLD_UPDATE body; a player with more events in one tick gets several updates.
    /// At most the protocol's frame limit; lower it to cap per-client bursts.
    public var maxUpdateBodyBytes: Int = ProtocolLimits.maxServerFrame - 2

    /// Fastest legal walking speed, units per second: each player's distance budget accrues at
    /// this rate (`MovementRules`), so no sequence of moves sustains more.
    public var maxSpeed: Float = 7
    /// With `maxCreditedMoveTime` and `moveSlack`, sizes the budget's cap:
    /// `maxSpeed * maxCreditedMoveTime * speedTolerance + moveSlack` units (22 by default), the
    /// most a player can bank by standing still, i.e. the tolerance for jitter (moves bunching
    /// up) and the farthest a player can ever be ahead of the speed limit.
    public var speedTolerance: Float = 1.5
    /// The budget a player starts with on entering the world, and part of the cap (float
    /// rounding). Entering gives no more: leaving and entering again cannot refill a teleport.
    public var moveSlack: Float = 1
    /// Idle time the budget's cap is sized from (see `speedTolerance`). Without a cap a player
    /// who stood still for a minute could teleport 7 * 60 units in one step.
    public var maxCreditedMoveTime: Duration = .seconds(2)

    /// Say-chat reaches players within this distance of the speaker (the speaker included).
    /// Flood control and the length limit are the gateway's (it answers its client with
    /// CHAT_RATE_LIMITED / CHAT_TOO_LONG); the world has no chat limits of its own.
    public var chatRadius: Float = 50

    /// A position that changed is written to the database at most this long after the change
    /// (plus a tick): the most a SIGKILL of the world process can lose. Players are autosaved in
    /// slices spread over the interval (`AutosaveSchedule`), not all at once.
    public var autosaveInterval: Duration = .seconds(10)
    /// States per SaveCharacterStates call; bigger autosaves are split.
    public var maxStatesPerSave: Int = 1000
    /// Pause before a failed save is retried (the states stay queued meanwhile); doubles after
    /// each further failure up to `maxSaveRetryDelay`.
    public var saveRetryDelay: Duration = .seconds(1)
    /// The longest pause between two retries of a failed save.
    public var maxSaveRetryDelay: Duration = .seconds(10)
    /// How long the final save on shutdown keeps retrying before the world gives up, logs how
    /// many characters' progress is lost and `run()` reports it (the process exits non-zero).
    /// `.zero`: never give up (until the process is killed).
    public var finalSaveTimeout: Duration = .seconds(300)
    /// How long the world keeps a departed character's live state after its save landed, so an
    /// entry whose record was read before the save landed still starts from it
    /// (`RecentDepartures`). Covers the gateway's read of the record, not the database's speed.
    public var departureRetention: Duration = .seconds(30)
    /// The most departed characters' states kept; the oldest are forgotten first.
    public var maxRetainedDepartures: Int = 100_000

    /// Joins past this many players in one zone are rejected with WORLD_FULL.
    public var maxPlayersPerZone: Int = 5000
    /// Inputs a gateway may have queued between two ticks; moves and chat beyond it are dropped
    /// (and counted) instead of blocking the gateway's stream.
    public var maxQueuedInputsPerGateway: Int = 65536
    /// Per-tick batches a gateway may have unread. A gateway that falls this far behind is
    /// disconnected (its players leave) rather than buffered without bound.
    public var maxPendingBatchesPerGateway: Int = 200
    /// Bytes of output a gateway may have unread (`GatewayLink.maxPendingBytes`); past it the
    /// gateway is disconnected like past `maxPendingBatchesPerGateway`.
    public var maxPendingBytesPerGateway: Int = GatewayLink.defaultMaxPendingBytes

    public init() {}

    /// The length of one tick.
    public var tickInterval: Duration { .seconds(1) / tickRateHz }

    /// Checks the invariants the simulation relies on; the runtime calls it at start.
    public func validate() throws(WorldConfigurationError) {
        func check(_ ok: Bool, _ reason: String) throws(WorldConfigurationError) {
            if !ok { throw WorldConfigurationError(reason: reason) }
        }
        try check(tickRateHz > 0 && tickRateHz <= 1000, "tickRateHz must be in 1...1000")
        try check(!zones.isEmpty, "at least one zone is required")
        try check(Set(zones.map(\.id)).count == zones.count, "zone ids must be unique")
        try check(interestRadius > 0 && interestRadius.isFinite, "interestRadius must be positive")
        try check(interestHysteresis >= 1 && interestHysteresis.isFinite, "interestHysteresis must be >= 1")
        try check(maxVisibleEntities > 0, "maxVisibleEntities must be positive")
        try check(
            maxUpdateBodyBytes >= 512 && maxUpdateBodyBytes <= ProtocolLimits.maxServerFrame - 2,
            "maxUpdateBodyBytes must be in 512...\(ProtocolLimits.maxServerFrame - 2)")
        try check(maxSpeed > 0 && speedTolerance > 0 && moveSlack >= 0, "movement limits must be positive")
        try check(maxCreditedMoveTime > .zero, "maxCreditedMoveTime must be positive")
        try check(chatRadius >= 0 && chatRadius.isFinite, "chatRadius must be >= 0")
        try check(autosaveInterval > .zero, "autosaveInterval must be positive")
        try check(maxStatesPerSave > 0, "maxStatesPerSave must be positive")
        try check(saveRetryDelay > .zero && maxSaveRetryDelay >= saveRetryDelay, "save retry delays must be positive and ordered")
        try check(finalSaveTimeout >= .zero, "finalSaveTimeout must be >= 0 (0: never give up)")
        try check(departureRetention >= .zero && maxRetainedDepartures > 0, "departure retention must be >= 0 and its capacity positive")
        try check(maxPlayersPerZone > 0, "maxPlayersPerZone must be positive")
        try check(maxQueuedInputsPerGateway > 0, "maxQueuedInputsPerGateway must be positive")
        try check(maxPendingBatchesPerGateway > 0, "maxPendingBatchesPerGateway must be positive")
        try check(maxPendingBytesPerGateway > 0, "maxPendingBytesPerGateway must be positive")
    }
}

/// A configuration the world cannot run with.
public struct WorldConfigurationError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid world configuration: \(reason)" }
}
