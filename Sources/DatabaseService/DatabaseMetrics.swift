import MMOTime
import Metrics

/// The operations whose latency is measured; also the `operation` dimension of the metrics.
package enum DatabaseOperation: String, CaseIterable, Sendable {
    case getSession = "get_session"
    case listCharacters = "list_characters"
    case createCharacter = "create_character"
    case deleteCharacter = "delete_character"
    case saveCharacterStates = "save_character_states"
    case migrate
    case inspectSchema = "inspect_schema"
    case createAuthUser = "create_auth_user"
    case createAuthSession = "create_auth_session"
}

/// What a cached value is; the `cache` dimension of the metrics.
enum CacheKind: String, CaseIterable, Sendable {
    case session
    case characters
}

/// Metric objects, created once per ``GameDatabase`` (after the process bootstrapped its
/// metrics backend, which must happen before services are created).
struct DatabaseMetrics: Sendable {
    private let timers: [DatabaseOperation: Timer]
    private let failures: [DatabaseOperation: Counter]
    private let hits: [CacheKind: Counter]
    private let misses: [CacheKind: Counter]
    let cacheErrors: Counter

    init(backend: SQLDialect) {
        let backendName = backend == .postgres ? "postgres" : "sqlite"
        var timers: [DatabaseOperation: Timer] = [:]
        var failures: [DatabaseOperation: Counter] = [:]
        for operation in DatabaseOperation.allCases {
            let dimensions = [("operation", operation.rawValue), ("backend", backendName)]
            timers[operation] = Timer(label: "mmo_database_operation_duration", dimensions: dimensions)
            failures[operation] = Counter(label: "mmo_database_operation_failures_total", dimensions: dimensions)
        }
        var hits: [CacheKind: Counter] = [:]
        var misses: [CacheKind: Counter] = [:]
        for kind in CacheKind.allCases {
            hits[kind] = Counter(label: "mmo_database_cache_hits_total", dimensions: [("cache", kind.rawValue)])
            misses[kind] = Counter(label: "mmo_database_cache_misses_total", dimensions: [("cache", kind.rawValue)])
        }
        self.timers = timers
        self.failures = failures
        self.hits = hits
        self.misses = misses
        self.cacheErrors = Counter(label: "mmo_database_cache_errors_total")
    }

    func record(_ operation: DatabaseOperation, duration: Duration, failed: Bool) {
        timers[operation]?.recordNanoseconds(duration.wholeNanoseconds)
        if failed { failures[operation]?.increment() }
    }

    func cacheHit(_ kind: CacheKind) { hits[kind]?.increment() }
    func cacheMiss(_ kind: CacheKind) { misses[kind]?.increment() }
}
