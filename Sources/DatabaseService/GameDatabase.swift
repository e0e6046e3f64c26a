import Foundation
import Logging
import MMORedis
import PostgresNIO
import Synchronization

/// The game's database: PostgreSQL (shared with the better-auth web app) or an embedded SQLite
/// file, plus a cache (Redis or in-memory). The only code that opens either.
///
/// Lifecycle:
/// 1. `init(configuration:logger:)` — opens nothing.
/// 2. ``run()`` in a long-running task (e.g. a ServiceGroup service): drives the PostgreSQL
///    pool, or holds the SQLite file open, until the task is cancelled.
/// 3. ``prepare()`` once, while `run()` runs: migrates (or verifies) the schema and detects
///    better-auth's optional plugin columns. Domain methods throw ``DatabaseError/notPrepared``
///    until it has succeeded.
///
/// All methods may be called concurrently.
public final class GameDatabase: Sendable {
    let configuration: DatabaseConfiguration
    let logger: Logger
    package let backend: any SQLBackend
    package let names: AuthNames
    let cache: ResilientCache
    let metrics: DatabaseMetrics
    /// Set by `prepare()`: which optional better-auth columns exist.
    let detectedSchema = Mutex<DetectedSchema?>(nil)
    /// Bumped after every committed character write; a list read from the database is only
    /// cached if no write happened meanwhile (see `cacheCharacterList`).
    let characterWriteEpoch = Atomic<UInt64>(0)

    /// Creates the database handle; opens no connection.
    public convenience init(configuration: DatabaseConfiguration, logger: Logger) {
        self.init(configuration: configuration, logger: logger, cache: nil)
    }

    /// - Parameter cache: Overrides the cache chosen by `configuration.redis` (tests).
    init(configuration: DatabaseConfiguration, logger: Logger, cache: (any GameCache)?) {
        self.configuration = configuration
        self.logger = logger
        self.names = AuthNames(configuration.authNaming)
        switch configuration.backend {
        case .sqlite(let path):
            self.backend = SQLiteBackend(path: path, logger: logger)
        case .postgres(let settings):
            self.backend = PostgresBackend(settings: settings, logger: logger)
        }
        let metrics = DatabaseMetrics(backend: backend.dialect)
        self.metrics = metrics
        let backingCache: any GameCache
        if let cache {
            backingCache = cache
        } else if let redis = configuration.redis {
            backingCache = RedisCache(client: RedisClient(configuration: redis, logger: logger))
        } else {
            backingCache = InMemoryCache(capacity: configuration.inMemoryCacheCapacity)
        }
        self.cache = ResilientCache(backing: backingCache, metrics: metrics, logger: logger)
    }

    /// Runs the connection pool (PostgreSQL) or holds the database file open (SQLite) until the
    /// calling task is cancelled; on PostgreSQL a ServiceLifecycle graceful shutdown also ends it.
    /// Then closes the cache client. Call exactly once.
    ///
    /// - Throws: If the SQLite file cannot be opened.
    public func run() async throws {
        do {
            try await backend.run()
        } catch {
            await cache.backing.shutdown()
            throw error
        }
        await cache.backing.shutdown()
    }

    /// Brings the schema up to date (when ``DatabaseConfiguration/runMigrations``) and verifies
    /// that every table and column this service needs exists. Call while ``run()`` is running.
    ///
    /// - Throws: ``DatabaseError/schemaIncomplete(missing:)`` naming each missing table or
    ///   column, e.g. `column session.expiresAt`.
    public func prepare() async throws {
        try Migrations.validate(Migrations.all)
        if configuration.runMigrations {
            let applied = try await migrate()
            if !applied.isEmpty {
                logger.info("applied database migrations", metadata: ["versions": "\(applied)"])
            }
        }
        let schema = try await timed(.inspectSchema) { try await inspectSchema() }
        detectedSchema.withLock { $0 = schema }
        logger.info(
            "database ready",
            metadata: [
                "backend": "\(backend.dialect)",
                "auth.naming": "\(configuration.authNaming.rawValue)",
                "auth.optionalColumns": "\(schema.optionalColumns.map(\.rawValue).sorted())",
            ])
    }

    /// Applies pending migrations in version order, each in its own transaction, and returns the
    /// versions applied now (empty when up to date). Safe to run concurrently from several
    /// processes: PostgreSQL serializes them with an advisory lock, SQLite with its write lock.
    public func migrate() async throws -> [Int] {
        try await timed(.migrate) {
            try Migrations.validate(Migrations.all)
            let dialect = backend.dialect
            try await backend.transaction { db in
                try await self.lockMigrations(db)
                _ = try await db.query(SQLStatement(Migrations.schemaMigrationsTable(dialect)))
            }
            var applied: [Int] = []
            for migration in Migrations.all {
                let didApply = try await backend.transaction { db -> Bool in
                    try await self.lockMigrations(db)
                    let existing = try await db.query(
                        SQLStatement("SELECT version FROM schema_migrations WHERE version = $1", [.int(Int64(migration.version))]))
                    guard existing.isEmpty else { return false }
                    for statement in migration.statements(dialect, self.names) {
                        _ = try await db.query(SQLStatement(statement))
                    }
                    _ = try await db.query(
                        SQLStatement(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                            [.int(Int64(migration.version)), .text(migration.name), .timestampMs(Self.nowMs())]))
                    return true
                }
                if didApply {
                    logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                    applied.append(migration.version)
                }
            }
            let known = Migrations.all.last?.version ?? 0
            let newest = try await backend.query(SQLStatement("SELECT max(version) AS v FROM schema_migrations"))
            if let v = newest.first?.int("v"), v > known {
                logger.warning(
                    "the database has migrations newer than this build knows",
                    metadata: ["database.version": "\(v)", "known.version": "\(known)"])
            }
            return applied
        }
    }

    private func lockMigrations(_ db: any SQLExecutor) async throws {
        guard backend.dialect == .postgres else { return }  // SQLite: BEGIN IMMEDIATE already serializes
        // Transaction-scoped, so it is released by COMMIT/ROLLBACK even if we crash mid-way.
        // (Selected FROM the function: its `void` result is not a decodable column.)
        _ = try await db.query(SQLStatement("SELECT 1 AS locked FROM pg_advisory_xact_lock(7236828440130529651)"))
    }

    /// True when ``prepare()`` has succeeded, the database answers `SELECT 1` and the cache
    /// answers, each within two seconds.
    public func isReady() async -> Bool {
        guard detectedSchema.withLock({ $0 != nil }) else { return false }
        let database = await withTimeout(.seconds(2)) { [backend] in
            try await backend.ping()
        }
        guard database else { return false }
        let cache = self.cache
        return await withTimeout(.seconds(2)) {
            guard await cache.ping() else { throw DatabaseError.unavailable("cache") }
        }
    }

    /// Runs `body` with a database that is running and prepared, then stops it: for CLI
    /// commands (`mmo migrate`, `mmo dev create-user`) and tests.
    public static func withRunning<Result: Sendable>(
        configuration: DatabaseConfiguration,
        logger: Logger,
        prepare: Bool = true,
        _ body: (GameDatabase) async throws -> Result
    ) async throws -> Result {
        try await withRunning(configuration: configuration, logger: logger, cache: nil, prepare: prepare, body)
    }

    /// ``withRunning(configuration:logger:prepare:_:)`` with the cache overridden (tests).
    static func withRunning<Result: Sendable>(
        configuration: DatabaseConfiguration,
        logger: Logger,
        cache: (any GameCache)?,
        prepare: Bool,
        _ body: (GameDatabase) async throws -> Result
    ) async throws -> Result {
        let database = GameDatabase(configuration: configuration, logger: logger, cache: cache)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            do {
                if prepare { try await database.prepare() }
                let result = try await body(database)
                group.cancelAll()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    // MARK: helpers

    /// Measures `body`, maps connection failures to ``DatabaseError/unavailable(_:)``.
    package func timed<T>(_ operation: DatabaseOperation, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            metrics.record(operation, duration: .now - start, failed: false)
            return result
        } catch {
            metrics.record(operation, duration: .now - start, failed: true)
            if backend.classify(error) == .unavailable, !(error is DatabaseError) {
                throw DatabaseError.unavailable(describe(error))
            }
            throw error
        }
    }

    package func requireSchema() throws -> DetectedSchema {
        guard let schema = detectedSchema.withLock({ $0 }) else { throw DatabaseError.notPrepared }
        return schema
    }

    package static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

/// Runs `body`, giving up after `timeout`. True if it finished without throwing in time.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            do {
                try await body()
                return true
            } catch {
                return false
            }
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}

/// A loggable description of a database error without bound values or SQL text.
func describe(_ error: any Error) -> String {
    switch error {
    case let error as DatabaseError:
        return error.description
    case let error as PSQLError:
        // Not `String(reflecting:)`: it includes the query and its binds (tokens, hashes).
        // Not the server's `detail` either: it quotes key values.
        var parts = ["PSQLError \(error.code)"]
        if let state = error.serverInfo?[.sqlState] { parts.append("sqlState=\(state)") }
        if let message = error.serverInfo?[.message] { parts.append(message) }
        if let underlying = error.underlying { parts.append("underlying: \(underlying)") }
        return parts.joined(separator: " ")
    default:
        return "\(error)"
    }
}
