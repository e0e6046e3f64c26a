import DevTools
import Foundation
import Testing

@testable import DatabaseService

/// PostgreSQL-only behaviour, against the exact better-auth DDL in all four shapes.
@Suite("PostgreSQL", .enabled(if: TestEnvironment.postgresEnabled, "set MMO_TEST_POSTGRES_URL"))
struct PostgresTests {
    @Test("session lookup on every better-auth schema shape", arguments: AuthSchemaVariant.allCases)
    func sessionOnEveryShape(variant: AuthSchemaVariant) async throws {
        try await TestBackend.postgres.withPreparedDatabase(variant: variant) { db in
            #expect(db.detectedSchema.withLock { $0?.has(.userBanned) } == variant.hasPlugins)
            #expect(db.detectedSchema.withLock { $0?.has(.accountIssuer) } == variant.hasPlugins)
            let role: String? = variant.hasPlugins ? "admin" : nil
            let userID = try await db.createAuthUser(name: "Eve", email: "eve@example.com", password: "password123", role: role)
            let before = GameDatabase.nowMs()
            let token = try await db.createAuthSession(userId: userID, lifetime: .seconds(600))
            let after = GameDatabase.nowMs()
            let session = try #require(try await db.session(forToken: token))
            #expect(session.userID == userID && session.email == "eve@example.com" && session.userName == "Eve")
            #expect((before + 600_000 - 1)...(after + 600_000 + 1) ~= session.expiresAtMs)
            #expect(session.roles == (role ?? ""))
            #expect(!session.banned && session.banReason.isEmpty && session.impersonatedBy.isEmpty)
            // Another token of the same shape (first character changed, never to itself).
            let other = (token.first == "x" ? "y" : "x") + token.dropFirst()
            #expect(try await db.session(forToken: other) == nil)

            // The credential row has better-auth's shape.
            let n = db.names
            let rows = try await db.backend.query(
                SQLStatement(
                    "SELECT \(n.q(.accountProviderID)) AS provider, \(n.q(.accountAccountID)) AS account_id, \(n.q(.accountPassword)) AS password FROM account WHERE \(n.q(.accountUserID)) = $1",
                    [.text(userID)]))
            let row = try #require(rows.first)
            #expect(row.string("provider") == "credential" && row.string("account_id") == userID)
            let stored = try #require(row.string("password"))
            #expect(try await offloaded { try BetterAuthPassword.verify("password123", against: stored) })
        }
    }

    @Test("ban facts on plugin shapes", arguments: [AuthSchemaVariant.camelCasePlugins, .snakeCasePlugins])
    func banFactsOnPluginShapes(variant: AuthSchemaVariant) async throws {
        try await TestBackend.postgres.withPreparedDatabase(variant: variant) { db in
            let userID = try await db.createAuthUser(name: "Trent", email: "trent@example.com", password: "password123")
            let n = db.names
            _ = try await db.backend.query(
                SQLStatement(
                    "UPDATE \"user\" SET \(n.q(.userBanned)) = true, \(n.q(.userBanReason)) = 'spam', \(n.q(.userBanExpires)) = NULL WHERE id = $1",
                    [.text(userID)]))
            let token = try await db.createAuthSession(userId: userID)
            let session = try #require(try await db.session(forToken: token))
            #expect(session.banned && session.banReason == "spam" && session.banExpiresAtMs == 0)
        }
    }

    /// Drizzle/Prisma installs keep UTC in `timestamp without time zone`; the server's default
    /// time zone must not shift what we read or write.
    @Test("timestamps are UTC regardless of the server time zone", arguments: [AuthSchemaVariant.snakeCase, .camelCase])
    func timeZones(variant: AuthSchemaVariant) async throws {
        try await PostgresTestDatabase.with(variant: variant, databaseTimeZone: "Asia/Tokyo") { settings in
            let literal = variant.naming == .snakeCase ? "'2030-01-02 03:04:05'" : "'2030-01-02 03:04:05+00'"
            let n = AuthNames(variant.naming)
            try await PostgresTestDatabase.execute(settings, [
                "INSERT INTO \"user\" (id, name, email, \(n.q(.userEmailVerified)), \(n.q(.userCreatedAt)), \(n.q(.userUpdatedAt))) VALUES ('u1', 'Tz', 'tz@example.com', false, now(), now())",
                "INSERT INTO session (id, token, \(n.q(.sessionExpiresAt)), \(n.q(.sessionCreatedAt)), \(n.q(.sessionUpdatedAt)), \(n.q(.sessionUserID))) VALUES ('s1', 'tz-token', \(literal), now(), now(), 'u1')",
            ])
            let configuration = DatabaseConfiguration(backend: .postgres(settings), authNaming: variant.naming)
            try await withDatabase(configuration) { db in
                let session = try #require(try await db.session(forToken: "tz-token"))
                #expect(session.expiresAtMs == 1_893_553_445_000)

                // And what we write is UTC too (checked by the server, in UTC).
                let before = GameDatabase.nowMs()
                let token = try await db.createAuthSession(userId: "u1", lifetime: .seconds(3600))
                let after = GameDatabase.nowMs()
                let written = try #require(try await db.session(forToken: token))
                let column = n.q(.sessionExpiresAt)
                let epochSQL =
                    variant.naming == .snakeCase
                    ? "SELECT extract(epoch FROM \(column) AT TIME ZONE 'UTC')::bigint::text FROM session WHERE token = '\(token)'"
                    : "SELECT extract(epoch FROM \(column))::bigint::text FROM session WHERE token = '\(token)'"
                let epoch = try #require(try await PostgresTestDatabase.rows(settings, epochSQL).first?.first ?? nil)
                #expect(abs((Int64(epoch) ?? 0) * 1000 - written.expiresAtMs) < 1_000)
                #expect((before + 3_600_000 - 1)...(after + 3_600_000 + 1) ~= written.expiresAtMs)
            }
        }
    }

    @Test("migrations create only our tables and leave better-auth's alone")
    func betterAuthUntouched() async throws {
        try await PostgresTestDatabase.with(variant: .camelCasePlugins) { settings in
            let catalogSQL = """
                SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, '')
                FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name IN ('user', 'session', 'account', 'verification')
                ORDER BY 1
                """
            let indexSQL = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('user', 'session', 'account', 'verification') ORDER BY 1"
            let before = try await PostgresTestDatabase.rows(settings, catalogSQL)
            let indexesBefore = try await PostgresTestDatabase.rows(settings, indexSQL)
            let configuration = DatabaseConfiguration(backend: .postgres(settings))
            let applied = try await withDatabase(configuration, prepare: false) { db in try await db.migrate() }
            #expect(applied == Migrations.all.map(\.version))
            #expect(try await PostgresTestDatabase.rows(settings, catalogSQL) == before)
            #expect(try await PostgresTestDatabase.rows(settings, indexSQL) == indexesBefore)
            let tables = try await PostgresTestDatabase.rows(
                settings, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
            #expect(tables.compactMap { $0.first ?? nil } == ["account", "characters", "game_accounts", "schema_migrations", "session", "user", "verification"])
        }
    }

    @Test("concurrent migrate() from several processes applies each version once")
    func concurrentMigrations() async throws {
        try await PostgresTestDatabase.with(variant: .camelCase) { settings in
            let configuration = DatabaseConfiguration(backend: .postgres(settings))
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await withDatabase(configuration, prepare: false) { db in try await db.migrate() }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.flatMap { $0 }.sorted() == Migrations.all.map(\.version))
        }
    }

    @Test("schema check with migrations off names what is missing")
    func schemaCheckWithoutMigrations() async throws {
        try await PostgresTestDatabase.with(variant: .camelCase) { settings in
            var configuration = DatabaseConfiguration(backend: .postgres(settings))
            configuration.runMigrations = false
            // Our tables do not exist yet.
            try await withDatabase(configuration, prepare: false) { db in
                await #expect(throws: DatabaseError.schemaIncomplete(missing: [
                    "table schema_migrations", "table game_accounts", "table characters",
                ])) { try await db.prepare() }
            }
            // Migrated, then a better-auth column disappears: exactly that is reported.
            _ = try await withDatabase(DatabaseConfiguration(backend: .postgres(settings)), prepare: false) { db in
                try await db.migrate()
            }
            try await PostgresTestDatabase.execute(settings, ["ALTER TABLE session DROP COLUMN \"expiresAt\""])
            try await withDatabase(configuration, prepare: false) { db in
                await #expect(throws: DatabaseError.schemaIncomplete(missing: ["column session.expiresAt"])) {
                    try await db.prepare()
                }
                #expect(await !db.isReady())
            }
            // The wrong naming is reported column by column.
            configuration.authNaming = .snakeCase
            try await withDatabase(configuration, prepare: false) { db in
                do {
                    try await db.prepare()
                    Issue.record("prepare() should fail")
                } catch let DatabaseError.schemaIncomplete(missing) {
                    #expect(missing.contains("column user.email_verified"))
                    #expect(missing.contains("column session.expires_at"))
                }
            }
        }
    }

    @Test("missing better-auth tables are reported even with migrations on")
    func missingBetterAuth() async throws {
        try await PostgresTestDatabase.with(variant: nil) { settings in
            try await withDatabase(DatabaseConfiguration(backend: .postgres(settings)), prepare: false) { db in
                await #expect(throws: DatabaseError.schemaIncomplete(missing: ["table user", "table session", "table account"])) {
                    try await db.prepare()
                }
            }
        }
    }
}

/// Needs no server: nothing listens on port 1.
@Suite("PostgreSQL unreachable")
struct PostgresUnreachableTests {
    @Test("requests fail as unavailable instead of hanging")
    func unreachable() async throws {
        var settings = try DatabaseConfiguration.PostgresSettings(url: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable", poolSize: 2)
        settings.connectTimeout = .seconds(1)
        let start = ContinuousClock.now
        try await withDatabase(DatabaseConfiguration(backend: .postgres(settings)), prepare: false) { db in
            do {
                try await db.prepare()
                Issue.record("prepare() should fail")
            } catch let error as DatabaseError {
                guard case .unavailable = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
            }
            #expect(await !db.isReady())
        }
        #expect(ContinuousClock.now - start < .seconds(30))  // the pool alone would wait 60 s
    }
}
