import Metrics
import MMOProtocol

/// The packet service's metrics, created once per server (after the metrics system is
/// bootstrapped) so the hot path only increments existing objects.
final class PacketMetrics: Sendable {
    let connections: Gauge
    let connectionsRejected: Counter
    private let framesIn: [Counter]
    private let framesOut: [Counter]
    let loginDuration: Timer
    let worldBatchesSent: Counter
    let worldInputsSent: Counter
    let worldBatchesReceived: Counter
    let worldLinkFailures: Counter
    /// Inputs the bounded world queue dropped (`WorldInputQueue`), and moves it replaced by a
    /// newer one of the same session.
    let worldMovesDropped: Counter
    let worldChatDropped: Counter
    let worldMovesCoalesced: Counter
    let takeovers: Counter
    /// Characters left in the world link-dead by a dropped connection, awaiting RESUME.
    let linkDeadSessions: Gauge
    /// RESUMEs answered OK.
    let resumes: Counter

    init() {
        connections = Gauge(label: "mmo_packet_connections")
        connectionsRejected = Counter(label: "mmo_packet_connections_rejected_total")
        framesIn = OpcodeFamily.allCases.map { Counter(label: "mmo_packet_frames_in_total", dimensions: [("family", $0.label)]) }
        framesOut = OpcodeFamily.allCases.map { Counter(label: "mmo_packet_frames_out_total", dimensions: [("family", $0.label)]) }
        loginDuration = Timer(label: "mmo_packet_login_duration_seconds", preferredDisplayUnit: .seconds)
        worldBatchesSent = Counter(label: "mmo_packet_world_batches_sent_total")
        worldInputsSent = Counter(label: "mmo_packet_world_inputs_sent_total")
        worldBatchesReceived = Counter(label: "mmo_packet_world_batches_received_total")
        worldLinkFailures = Counter(label: "mmo_packet_world_link_failures_total")
        worldMovesDropped = Counter(label: "mmo_packet_world_inputs_dropped_total", dimensions: [("kind", "move")])
        worldChatDropped = Counter(label: "mmo_packet_world_inputs_dropped_total", dimensions: [("kind", "chat")])
        worldMovesCoalesced = Counter(label: "mmo_packet_world_moves_coalesced_total")
        takeovers = Counter(label: "mmo_packet_takeovers_total")
        linkDeadSessions = Gauge(label: "mmo_packet_link_dead_sessions")
        resumes = Counter(label: "mmo_packet_resumes_total")
    }

    func frameIn(_ opcode: UInt16) {
        framesIn[Self.family(opcode).rawValue].increment()
    }

    func frameOut(_ opcode: Opcode) {
        framesOut[OpcodeTable.family(opcode).rawValue].increment()
    }

    func disconnect(_ code: ResultCode) {
        // Rare next to frames: a lookup per disconnect is fine.
        Counter(label: "mmo_packet_disconnects_total", dimensions: [("code", code.name)]).increment()
    }

    private static func family(_ opcode: UInt16) -> OpcodeFamily {
        Opcode(rawValue: opcode).map(OpcodeTable.family) ?? .unknown
    }
}
