import Foundation
import Testing

@testable import DatabaseService

@Suite("Naming and SQL building")
struct NamingTests {
    @Test func snakeCaseTranslation() {
        let snake = AuthNames(.snakeCase)
        #expect(snake.name(.sessionExpiresAt) == "expires_at")
        #expect(snake.name(.sessionUserID) == "user_id")
        #expect(snake.name(.userEmailVerified) == "email_verified")
        #expect(snake.name(.userBanReason) == "ban_reason")
        #expect(snake.name(.userDisplayUsername) == "display_username")
        #expect(snake.name(.sessionImpersonatedBy) == "impersonated_by")
        #expect(snake.name(.accountAccountID) == "account_id")
        #expect(snake.name(.accountProviderID) == "provider_id")
        #expect(snake.name(.sessionIPAddress) == "ip_address")
        #expect(snake.name(.userID) == "id")
        let camel = AuthNames(.camelCase)
        #expect(camel.name(.sessionExpiresAt) == "expiresAt")
        #expect(camel.q(.sessionUserID) == "\"userId\"")
    }

    /// Every physical column name must exist verbatim in the matching better-auth DDL file.
    @Test("names match the shared DDL files", arguments: DatabaseConfiguration.AuthNaming.allCases)
    func namesMatchDDL(naming: DatabaseConfiguration.AuthNaming) throws {
        let dir = TestEnvironment.betterAuthSchemaDirectory()
        let base = naming == .camelCase ? "camelCase" : "snake_case"
        let ddl = try String(contentsOf: dir.appendingPathComponent("\(base).sql"), encoding: .utf8)
            + String(contentsOf: dir.appendingPathComponent("\(base)-plugins.sql"), encoding: .utf8)
        let names = AuthNames(naming)
        for column in AuthNames.Column.allCases {
            #expect(ddl.contains("\"\(names.name(column))\""), "\(column.rawValue) -> \(names.name(column))")
        }
    }

    @Test func sessionQueryQuotesUserAndUsesOnlyDetectedColumns() throws {
        let db = GameDatabase(
            configuration: DatabaseConfiguration(backend: .sqlite(path: "/nonexistent/x.sqlite"), authNaming: .snakeCase),
            logger: TestEnvironment.logger)
        let bare = db.sessionQuery(schema: DetectedSchema(optionalColumns: []), token: "t")
        #expect(bare.sql.contains("JOIN \"user\" AS u ON u.\"id\" = s.\"user_id\""))
        #expect(bare.sql.contains("WHERE s.\"token\" = $1"))
        #expect(!bare.sql.contains("banned"))
        #expect(bare.binds == [.text("t")])
        let full = db.sessionQuery(schema: DetectedSchema(optionalColumns: Set(AuthNames.Column.optional)), token: "t")
        for column in ["\"banned\"", "\"ban_reason\"", "\"ban_expires\"", "\"role\"", "\"impersonated_by\"", "\"display_username\""] {
            #expect(full.sql.contains(column))
        }
        #expect(!full.sql.contains("t'"))  // the token is bound, never inlined
    }

    /// The version segment keeps v1 entries (protobuf bytes) from being decoded as v2 (JSON).
    @Test func cacheKeysArePrefixedAndVersioned() {
        let db = GameDatabase(
            configuration: DatabaseConfiguration(backend: .sqlite(path: "/nonexistent/x.sqlite"), cacheKeyPrefix: "p:"),
            logger: TestEnvironment.logger)
        #expect(db.sessionCacheKey("abc") == "p:session:v2:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(db.characterListCacheKey("acct") == "p:characters:v2:acct")
    }

    @Test func placeholdersForSQLite() {
        #expect(sqlitePlaceholders("SELECT $1, $2 WHERE a = $10") == "SELECT ?1, ?2 WHERE a = ?10")
        #expect(sqlitePlaceholders("SELECT '$1', \"$2\", $3") == "SELECT '$1', \"$2\", ?3")
        #expect(sqlitePlaceholders("SELECT 'it''s $1', $2") == "SELECT 'it''s $1', ?2")
        #expect(sqlitePlaceholders("SELECT a$1 FROM t") == "SELECT a$1 FROM t")
    }

    @Test func identifierQuoting() {
        #expect(quoteIdentifier("user") == "\"user\"")
        #expect(quoteIdentifier("expires_at") == "\"expires_at\"")
    }

    @Test func timestampParsing() {
        #expect(parseTimestampMs("2030-01-02 03:04:05") == 1_893_553_445_000)
        #expect(parseTimestampMs("2030-01-02T03:04:05Z") == 1_893_553_445_000)
        #expect(parseTimestampMs("2030-01-02T03:04:05.250Z") == 1_893_553_445_250)
        #expect(parseTimestampMs("2030-01-02T05:04:05+02:00") == 1_893_553_445_000)
        #expect(parseTimestampMs("2030-01-02T05:04:05+0200") == 1_893_553_445_000)
        #expect(parseTimestampMs("1970-01-01") == 0)
        #expect(parseTimestampMs("nonsense") == nil)
        #expect(parseTimestampMs("2030-13-02 03:04:05") == nil)
        let row = SQLRow(
            columns: ["ms", "s", "text"], values: [.int(1_893_553_445_000), .int(1_893_553_445), .text("2030-01-02 03:04:05")])
        #expect(row.timestampMs("ms") == 1_893_553_445_000)
        #expect(row.timestampMs("s") == 1_893_553_445_000)
        #expect(row.timestampMs("text") == 1_893_553_445_000)
        #expect(row.timestampMs("missing") == nil)
    }
}

@Suite("Schema check")
struct SchemaCheckTests {
    static func fullCatalog(_ naming: DatabaseConfiguration.AuthNaming) -> [String: Set<String>] {
        let names = AuthNames(naming)
        var catalog: [String: Set<String>] = [:]
        for (table, columns) in GameTables.required { catalog[table] = Set(columns) }
        for column in AuthNames.Column.required { catalog[column.table, default: []].insert(names.name(column)) }
        return catalog
    }

    @Test func completeSchemaPassesAndDetectsPlugins() {
        var catalog = Self.fullCatalog(.camelCase)
        var (missing, detected) = GameDatabase.compare(catalog: catalog, names: AuthNames(.camelCase))
        #expect(missing.isEmpty)
        #expect(detected.optionalColumns.isEmpty)
        catalog["user"]!.formUnion(["banned", "role"])
        catalog["account"]!.insert("issuer")
        (missing, detected) = GameDatabase.compare(catalog: catalog, names: AuthNames(.camelCase))
        #expect(missing.isEmpty)
        #expect(detected.optionalColumns == [.userBanned, .userRole, .accountIssuer])
    }

    @Test func namesExactlyWhatIsMissing() {
        var catalog = Self.fullCatalog(.camelCase)
        catalog["session"]!.remove("expiresAt")
        catalog["characters"] = nil
        catalog["game_accounts"]!.remove("last_login_at")
        let (missing, _) = GameDatabase.compare(catalog: catalog, names: AuthNames(.camelCase))
        #expect(missing == ["column game_accounts.last_login_at", "table characters", "column session.expiresAt"])
        #expect(
            DatabaseError.schemaIncomplete(missing: missing).description
                == "database schema is incomplete: missing column game_accounts.last_login_at, missing table characters, missing column session.expiresAt"
        )
    }

    /// better-auth with Redis secondary storage (and no `storeSessionInDatabase`) creates no
    /// `session` table; start-up must not demand it then, and must otherwise.
    @Test func sessionTableIsOptionalOnlyWhenSessionsLiveInRedis() {
        var catalog = Self.fullCatalog(.camelCase)
        catalog["session"] = nil
        let (required, _) = GameDatabase.compare(catalog: catalog, names: AuthNames(.camelCase))
        #expect(required == ["table session"])
        let (optional, _) = GameDatabase.compare(catalog: catalog, names: AuthNames(.camelCase), sessionTableRequired: false)
        #expect(optional.isEmpty)
        var redisOnly = DatabaseConfiguration()
        redisOnly.betterAuthSessionStorage = .redis(keyPrefix: "better-auth:", storeSessionInDatabase: false)
        #expect(!redisOnly.readsSessionTable)
        redisOnly.betterAuthSessionStorage = .redis(keyPrefix: "better-auth:", storeSessionInDatabase: true)
        #expect(redisOnly.readsSessionTable)
        #expect(DatabaseConfiguration().readsSessionTable)
    }

    @Test func wrongNamingIsReported() {
        let (missing, _) = GameDatabase.compare(catalog: Self.fullCatalog(.camelCase), names: AuthNames(.snakeCase))
        #expect(missing.contains("column session.expires_at"))
        #expect(missing.contains("column session.user_id"))
        #expect(!missing.contains { $0.hasPrefix("table") })
    }
}

@Suite("Migrations")
struct MigrationTests {
    @Test func versionsAreStrictlyIncreasingWithUniqueNames() throws {
        try Migrations.validate(Migrations.all)
        let versions = Migrations.all.map(\.version)
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
        #expect(versions.first == 1)
    }

    @Test func validationRejectsDisorder() {
        let m = { (v: Int, n: String) in Migration(version: v, name: n) { _, _ in [] } }
        #expect(throws: DatabaseError.self) { try Migrations.validate([m(2, "b"), m(1, "a")]) }
        #expect(throws: DatabaseError.self) { try Migrations.validate([m(1, "a"), m(1, "b")]) }
        #expect(throws: DatabaseError.self) { try Migrations.validate([m(1, "a"), m(2, "a")]) }
        #expect(throws: DatabaseError.self) { try Migrations.validate([m(0, "a")]) }
    }

    @Test func postgresMigrationsNeverTouchBetterAuthTables() {
        for naming in DatabaseConfiguration.AuthNaming.allCases {
            let statements = Migrations.all.flatMap { $0.statements(.postgres, AuthNames(naming)) }
            for statement in statements {
                for table in ["\"user\"", "session", "account", "verification"] {
                    #expect(!statement.contains("TABLE \(table)"), "\(statement)")
                    #expect(!statement.contains("ON \(table)"), "\(statement)")
                }
            }
        }
    }

    @Test func sqliteCreatesEmbeddedAuthTablesFirst() {
        let first = Migrations.all[0].statements(.sqlite, AuthNames(.camelCase))
        #expect(first.contains { $0.contains("CREATE TABLE \"user\"") && $0.contains("\"banExpires\"") })
        #expect(first.contains { $0.contains("CREATE TABLE \"session\"") && $0.contains("\"impersonatedBy\"") })
        #expect(first.contains { $0.contains("CREATE TABLE \"account\"") && $0.contains("\"issuer\"") })
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaults() {
        let c = DatabaseConfiguration()
        #expect(c.backend == .sqlite(path: "mmo.sqlite"))
        #expect(c.authNaming == .camelCase)
        #expect(c.runMigrations)
        #expect(c.redis == nil)
        #expect(c.sessionCacheTTL == .seconds(2))
        #expect(c.characterCacheTTL == .seconds(300))
        #expect(c.cacheKeyPrefix == "mmo:")
    }

    @Test func postgresURL() throws {
        let s = try DatabaseConfiguration.PostgresSettings(url: "postgres://game:p%40ss@db.example:6543/mmo?sslmode=require", poolSize: 7)
        #expect(s.host == "db.example" && s.port == 6543 && s.username == "game" && s.password == "p@ss")
        #expect(s.database == "mmo" && s.tls == .require && s.poolSize == 7)
        #expect(!s.description.contains("p@ss") && !s.description.contains("p%40ss"))

        let d = try DatabaseConfiguration.PostgresSettings(url: "postgresql://postgres@127.0.0.1/")
        #expect(d.port == 5432 && d.database == "postgres" && d.password == nil && d.tls == .prefer)

        for bad in ["mysql://u@h/db", "postgres://h/db", "postgres://u@/db", "postgres://u:secret@h/db?sslmode=bogus", "::"] {
            #expect(throws: DatabaseError.self) { try DatabaseConfiguration.PostgresSettings(url: bad) }
            do {
                _ = try DatabaseConfiguration.PostgresSettings(url: bad)
            } catch {
                #expect(!"\(error)".contains("secret"))
            }
        }
    }
}

@Suite("In-memory cache")
struct InMemoryCacheTests {
    @Test func ttlExpires() async throws {
        let cache = InMemoryCache(capacity: 10)
        try await cache.set("a", value: [1, 2], ttl: .milliseconds(100))
        #expect(try await cache.get("a") == [1, 2])
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await cache.get("a") == nil)
        try await cache.set("z", value: [1], ttl: .zero)
        #expect(try await cache.get("z") == nil)
    }

    @Test func boundedSize() async throws {
        let cache = InMemoryCache(capacity: 100)
        for i in 0..<1_000 {
            try await cache.set("k\(i)", value: [UInt8(i % 256)], ttl: .seconds(60))
            #expect(cache.count <= 100)
        }
        #expect(try await cache.get("k999") == [UInt8(999 % 256)])  // the newest entry survives eviction
    }

    @Test func deleteRemoves() async throws {
        let cache = InMemoryCache()
        try await cache.set("a", value: [1], ttl: .seconds(60))
        try await cache.set("b", value: [2], ttl: .seconds(60))
        try await cache.delete(["a", "missing"])
        #expect(try await cache.get("a") == nil)
        #expect(try await cache.get("b") == [2])
    }

    @Test func rateLimiterSuppressesAndCounts() {
        let limiter = LogRateLimiter(interval: .seconds(60))
        #expect(limiter.shouldLog() == 0)
        #expect(limiter.shouldLog() == nil)
        #expect(limiter.shouldLog() == nil)
    }
}

@Suite("Async lock")
struct AsyncLockTests {
    @Test func mutualExclusion() async throws {
        let lock = AsyncSerialLock()
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await lock.withLock {
                        let inside = counter.enter()
                        #expect(inside == 1)
                        await Task.yield()
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func waitingIsCancellable() async throws {
        let lock = AsyncSerialLock()
        let (held, release) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await lock.withLock {
                for await _ in held { break }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await lock.withLock {} }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        release.yield()
        try await holder.value
        try await lock.withLock {}  // still usable
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func enter() -> Int { lock.withLock { value += 1; return value } }
        func leave() { lock.withLock { value -= 1 } }
    }
}
