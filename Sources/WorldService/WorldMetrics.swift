import CoreMetrics
import Metrics

/// The world's swift-metrics instruments. Names follow Prometheus conventions; see
/// docs/world-service.md for what each one means.
struct WorldMetrics: Sendable {
    let tickDuration: CoreMetrics.Timer
    let tickOverruns: Counter
    let players: Gauge
    let gateways: Gauge
    let inputsDropped: Counter
    let bytesOut: Counter
    let movesTooFast: Counter
    let movesOutOfBounds: Counter
    let chatDropped: Counter
    let joinsRejected: Counter
    let resumes: Counter
    let statesSaved: Counter
    let saveFailures: Counter

    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        tickDuration = Timer(label: "mmo_world_tick_duration_seconds", factory: factory)
        tickOverruns = Counter(label: "mmo_world_tick_overruns_total", factory: factory)
        players = Gauge(label: "mmo_world_players", factory: factory)
        gateways = Gauge(label: "mmo_world_gateways", factory: factory)
        inputsDropped = Counter(label: "mmo_world_inputs_dropped_total", factory: factory)
        bytesOut = Counter(label: "mmo_world_update_bytes_out_total", factory: factory)
        movesTooFast = Counter(label: "mmo_world_moves_rejected_total", dimensions: [("reason", "too_fast")], factory: factory)
        movesOutOfBounds = Counter(
            label: "mmo_world_moves_rejected_total", dimensions: [("reason", "out_of_bounds")], factory: factory)
        chatDropped = Counter(label: "mmo_world_chat_dropped_total", factory: factory)
        joinsRejected = Counter(label: "mmo_world_joins_rejected_total", factory: factory)
        resumes = Counter(label: "mmo_world_resumes_total", factory: factory)
        statesSaved = Counter(label: "mmo_world_character_states_saved_total", factory: factory)
        saveFailures = Counter(label: "mmo_world_save_failures_total", factory: factory)
    }

    /// Exports the growth of the simulation's counters since `previous`.
    func record(_ counters: SimulationCounters, since previous: SimulationCounters) {
        func add(_ counter: Counter, _ now: Int, _ before: Int) {
            if now > before { counter.increment(by: now - before) }
        }
        add(movesTooFast, counters.movesTooFast, previous.movesTooFast)
        add(movesOutOfBounds, counters.movesOutOfBounds, previous.movesOutOfBounds)
        add(chatDropped, counters.chatInvalid, previous.chatInvalid)
        add(joinsRejected, counters.joinsRejected, previous.joinsRejected)
        add(resumes, counters.resumes, previous.resumes)
    }
}
