import DevTools
import Foundation
import Logging
import MMOTestSupport
import MMORedis
import PostgresNIO
import Testing

@testable import DatabaseService

/// Where the real servers are. Integration tests run when the variable is set; in CI (env `CI`
/// set) they run regardless and fail on a missing variable instead of skipping silently.
enum TestEnvironment {
    static let environment = ProcessInfo.processInfo.environment
    static let postgresURL = environment["MMO_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let redisURL = environment["MMO_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// CI, or scripts/test.sh (MMO_REQUIRE_SERVICES=1): a missing database is a failure, not a skip.
    static let isCI = TestServices.required(environment)

    static var postgresEnabled: Bool { postgresURL != nil || isCI }
    static var redisEnabled: Bool { redisURL != nil || isCI }

    static func requirePostgresURL() throws -> String {
        try #require(postgresURL, "MMO_TEST_POSTGRES_URL is not set (required when CI is set)")
    }

    static func requireRedisURL() throws -> String {
        try #require(redisURL, "MMO_TEST_REDIS_URL is not set (required when CI is set)")
    }

    /// better-auth's DDL: env `MMO_BETTER_AUTH_SCHEMA_DIR`, else `<repo>/../shared/better-auth-schema`
    /// found from this file's path (Tests/DatabaseServiceTests/TestSupport.swift).
    static func betterAuthSchemaDirectory(filePath: String = #filePath) -> URL {
        if let dir = environment["MMO_BETTER_AUTH_SCHEMA_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        let repoRoot = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/better-auth-schema", isDirectory: true)
    }

    static let logger: Logger = {
        if environment["MMO_TEST_LOG"] != nil {
            var logger = Logger(label: "db-test")
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "db-test", factory: { _ in SwiftLogNoOpLogHandler() })
    }()
}

/// The four shapes of better-auth's schema the game must work with.
enum AuthSchemaVariant: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case camelCase
    case camelCasePlugins
    case snakeCase
    case snakeCasePlugins

    var naming: DatabaseConfiguration.AuthNaming {
        switch self {
        case .camelCase, .camelCasePlugins: .camelCase
        case .snakeCase, .snakeCasePlugins: .snakeCase
        }
    }

    var hasPlugins: Bool { self == .camelCasePlugins || self == .snakeCasePlugins }

    var ddlFiles: [String] {
        let base = naming == .camelCase ? "camelCase" : "snake_case"
        return hasPlugins ? ["\(base).sql", "\(base)-plugins.sql"] : ["\(base).sql"]
    }

    var testDescription: String { rawValue }
}

/// A throwaway PostgreSQL database per test: created from the admin URL, loaded with the exact
/// better-auth DDL files, dropped afterwards.
enum PostgresTestDatabase {
    @discardableResult
    static func with<T: Sendable>(
        variant: AuthSchemaVariant?,
        databaseTimeZone: String? = nil,
        _ body: (DatabaseConfiguration.PostgresSettings) async throws -> T
    ) async throws -> T {
        let admin = try DatabaseConfiguration.PostgresSettings(url: try TestEnvironment.requirePostgresURL(), poolSize: 8)
        let name = "t_" + randomAlphanumeric(16).lowercased()
        try await execute(admin, ["CREATE DATABASE \(name)"])
        do {
            var settings = admin
            settings.database = name
            if let databaseTimeZone {
                // A non-UTC server default, to prove the service does not depend on it.
                try await execute(admin, ["ALTER DATABASE \(name) SET timezone TO '\(databaseTimeZone)'"])
            }
            if let variant {
                let dir = TestEnvironment.betterAuthSchemaDirectory()
                let scripts = try variant.ddlFiles.map {
                    try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)
                }
                try await execute(settings, scripts)
            }
            let result = try await body(settings)
            try await execute(admin, ["DROP DATABASE \(name) WITH (FORCE)"])
            return result
        } catch {
            try? await execute(admin, ["DROP DATABASE \(name) WITH (FORCE)"])
            throw error
        }
    }

    /// Runs each script, statement by statement, in one session.
    static func execute(_ settings: DatabaseConfiguration.PostgresSettings, _ scripts: [String]) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: settings.host, port: settings.port, username: settings.username,
                password: settings.password, database: settings.database, tls: .disable),
            id: 1, logger: TestEnvironment.logger)
        do {
            for statement in scripts.flatMap(splitSQLScript) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestEnvironment.logger)
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs one query in the test database; cast every column to text.
    static func rows(_ settings: DatabaseConfiguration.PostgresSettings, _ sql: String) async throws -> [[String?]] {
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: settings.host, port: settings.port, username: settings.username,
                password: settings.password, database: settings.database, tls: .disable),
            id: 1, logger: TestEnvironment.logger)
        defer { Task { try? await connection.close() } }
        var result: [[String?]] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger) {
            result.append(row.map { cell in
                guard cell.bytes != nil else { return nil }
                return try? cell.decode(String.self)
            })
        }
        return result
    }
}

/// Splits a script into statements at `;`, skipping `--` comments and respecting quotes.
/// (PostgresNIO always uses the extended protocol, which takes one statement at a time.)
func splitSQLScript(_ script: String) -> [String] {
    var statements: [String] = []
    var current = ""
    var quote: Character? = nil
    var inComment = false
    var previous: Character? = nil
    for c in script {
        defer { previous = c }
        if inComment {
            if c == "\n" { inComment = false; current.append(c) }
            continue
        }
        if let q = quote {
            current.append(c)
            if c == q { quote = nil }
            continue
        }
        switch c {
        case "'", "\"":
            quote = c
            current.append(c)
        case "-" where previous == "-":
            current.removeLast()
            inComment = true
        case ";":
            statements.append(current)
            current = ""
        default:
            current.append(c)
        }
    }
    statements.append(current)
    return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
}

/// A fresh SQLite file in the temp directory, removed afterwards.
enum SQLiteTestDatabase {
    static func with<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("mmo-db-test-\(randomAlphanumeric(12)).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        return try await body(path)
    }
}

/// Builds, runs and prepares a database for `body`.
@discardableResult
func withDatabase<T: Sendable>(
    _ configuration: DatabaseConfiguration, cache: (any GameCache)? = nil, prepare: Bool = true,
    _ body: (GameDatabase) async throws -> T
) async throws -> T {
    try await GameDatabase.withRunning(
        configuration: configuration, logger: TestEnvironment.logger, cache: cache, prepare: prepare, body)
}

/// Which backends a domain test runs on.
enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a prepared database of this backend (PostgreSQL: camelCase + plugins).
    func withPreparedDatabase<T: Sendable>(
        variant: AuthSchemaVariant = .camelCasePlugins,
        configure: (inout DatabaseConfiguration) -> Void = { _ in },
        cache: (any GameCache)? = nil,
        _ body: (GameDatabase) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite:
            return try await SQLiteTestDatabase.with { path in
                var configuration = DatabaseConfiguration(backend: .sqlite(path: path))
                configure(&configuration)
                return try await withDatabase(configuration, cache: cache, body)
            }
        case .postgres:
            return try await PostgresTestDatabase.with(variant: variant) { settings in
                var configuration = DatabaseConfiguration(backend: .postgres(settings), authNaming: variant.naming)
                configure(&configuration)
                return try await withDatabase(configuration, cache: cache, body)
            }
        }
    }

    /// SQLite always; PostgreSQL when configured (or in CI, where a missing URL fails).
    static var available: [TestBackend] {
        TestEnvironment.postgresEnabled ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// A cache whose every operation fails, like Redis being down.
struct FailingCache: GameCache {
    struct Down: Error {}
    func get(_ key: String) async throws -> [UInt8]? { throw Down() }
    func set(_ key: String, value: [UInt8], ttl: Duration) async throws { throw Down() }
    func delete(_ keys: [String]) async throws { throw Down() }
    func ping() async throws { throw Down() }
    func shutdown() async {}
}

/// Wraps a cache and records the keys it was asked about.
final class RecordingCache: GameCache, @unchecked Sendable {
    let inner: any GameCache
    private let lock = NSLock()
    private var _keys: [String] = []

    init(_ inner: any GameCache) { self.inner = inner }

    var keys: [String] { lock.withLock { _keys } }
    private func record(_ key: String) { lock.withLock { _keys.append(key) } }

    func get(_ key: String) async throws -> [UInt8]? {
        record(key)
        return try await inner.get(key)
    }
    func set(_ key: String, value: [UInt8], ttl: Duration) async throws {
        record(key)
        try await inner.set(key, value: value, ttl: ttl)
    }
    func delete(_ keys: [String]) async throws {
        keys.forEach(record)
        try await inner.delete(keys)
    }
    func ping() async throws { try await inner.ping() }
    func shutdown() async { await inner.shutdown() }
}

extension DatabaseConfiguration {
    /// Enough connections that concurrency tests wait on row locks, not on the pool.
    mutating func setPostgresPoolSize(_ size: Int) {
        if case .postgres(var settings) = backend {
            settings.poolSize = size
            backend = .postgres(settings)
        }
    }
}

/// A create outcome's kind, so tests can count and compare outcomes without their records.
enum CreateStatus: Sendable, Equatable {
    case created
    case nameTaken
    case slotLimit
}

extension CreateCharacterOutcome {
    var status: CreateStatus {
        switch self {
        case .created: .created
        case .nameTaken: .nameTaken
        case .slotLimit: .slotLimit
        }
    }

    var character: CharacterRecord? {
        if case .created(let record) = self { record } else { nil }
    }
}
