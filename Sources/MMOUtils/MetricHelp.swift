import Synchronization

/// The `# HELP` text of every metric the services export, in one place.
///
/// Metrics are created through swift-metrics (`Counter(label:)`), which has no help text, so
/// swift-prometheus 2.4.1 writes none and `promtool check metrics` rejects the output. The
/// exposition is completed when rendered (``MetricsSetup/render()``) from this table. A metric
/// missing here is caught by `MetricsExpositionTests` (it scans Sources/ for metric labels, and
/// runs promtool on a whole process's `/metrics`).
public enum MetricHelp {
    public static let texts: [String: String] = [
        // auth
        "mmo_auth_validations_total": "Session validations by verdict (status).",
        // character
        "mmo_character_creates_total": "Character creation attempts by outcome (status).",
        // database
        "mmo_database_operation_duration": "Time taken by database operations, in seconds, by operation and backend.",
        "mmo_database_operation_failures_total": "Database operations that failed, by operation and backend.",
        "mmo_database_cache_hits_total": "Lookups answered from the cache, by cache.",
        "mmo_database_cache_misses_total": "Lookups the cache could not answer, by cache.",
        "mmo_database_cache_errors_total": "Cache commands that failed (the database answered instead).",
        // packet
        "mmo_packet_connections": "Open client connections.",
        "mmo_packet_connections_rejected_total": "Client connections refused at accept (limits).",
        "mmo_packet_disconnects_total": "Client connections closed by the server, by result code.",
        "mmo_packet_frames_in_total": "Client frames received, by opcode family.",
        "mmo_packet_frames_out_total": "Frames sent to clients, by opcode family.",
        "mmo_packet_login_duration_seconds": "Time from LOGIN to its answer, in seconds.",
        "mmo_packet_takeovers_total": "Logins that replaced an older connection of the same account.",
        "mmo_packet_link_dead_sessions": "Characters left in the world link-dead by a dropped connection, awaiting RESUME.",
        "mmo_packet_resumes_total": "RESUMEs that took a character back (RESUME_RESULT OK).",
        "mmo_packet_world_batches_received_total": "Update batches received from the world service.",
        "mmo_packet_world_batches_sent_total": "Input batches sent to the world service.",
        "mmo_packet_world_inputs_sent_total": "Player inputs sent to the world service.",
        "mmo_packet_world_inputs_dropped_total": "Player moves and chat lines the gateway dropped because its queue to the world was full, by kind.",
        "mmo_packet_world_moves_coalesced_total": "Moves replaced by a newer move of the same player before they were sent to the world.",
        "mmo_packet_world_link_failures_total": "Times the gateway's world stream failed and was re-established.",
        // world
        "mmo_world_character_states_saved_total": "Character positions saved to the database service.",
        "mmo_world_chat_dropped_total": "Chat lines dropped (rate limit or full queue).",
        "mmo_world_gateways": "Connected gateway streams.",
        "mmo_world_inputs_dropped_total": "Player inputs dropped because a queue was full.",
        "mmo_world_joins_rejected_total": "World joins refused (zone full, unknown character, ...).",
        "mmo_world_resumes_total": "RESUME joins that moved a character in the world to a new session.",
        "mmo_world_moves_rejected_total": "Moves corrected by the server, by reason.",
        "mmo_world_players": "Players in the world.",
        "mmo_world_save_failures_total": "Character state saves that failed (retried).",
        "mmo_world_tick_duration_seconds": "Time taken by one simulation tick, in seconds.",
        "mmo_world_tick_overruns_total": "Ticks that took longer than the tick interval.",
        "mmo_world_update_bytes_out_total": "Bytes of world updates sent to gateways.",
    ]

    private static let extra = Mutex<[String: String]>([:])

    /// Adds help for a metric defined outside the services (a test's, a tool's).
    public static func register(_ name: String, help: String) {
        extra.withLock { $0[name] = help }
    }

    static func help(for name: String) -> String? {
        texts[name] ?? extra.withLock { $0[name] }
    }

    /// `exposition` (Prometheus text format) with a `# HELP` line before each `# TYPE` line of a
    /// metric that has none and is in ``texts``. Other lines pass unchanged.
    public static func addingHelp(to exposition: [UInt8]) -> [UInt8] {
        let typePrefix = Array("# TYPE ".utf8)
        let helpPrefix = Array("# HELP ".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + texts.count * 80)
        var previousLineWasHelp = false
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: typePrefix), !previousLineWasHelp {
                let name = line.dropFirst(typePrefix.count).prefix { $0 != UInt8(ascii: " ") }
                if let help = help(for: String(decoding: name, as: UTF8.self)) {
                    output += helpPrefix
                    output += name
                    output.append(UInt8(ascii: " "))
                    output += help.utf8
                    output.append(UInt8(ascii: "\n"))
                }
            }
            previousLineWasHelp = line.starts(with: helpPrefix)
            output += line
            output.append(UInt8(ascii: "\n"))
        }
        // split kept the text's final empty line: drop the newline added after it.
        if exposition.last == UInt8(ascii: "\n") || exposition.isEmpty { output.removeLast() }
        return output
    }
}
