import DevTools
import Foundation
import Testing

@testable import DatabaseService

/// The same domain behaviour on SQLite (always) and PostgreSQL (when MMO_TEST_POSTGRES_URL is set).
@Suite("Domain")
struct DomainTests {
    @Test("session lookup: valid and unknown tokens", arguments: TestBackend.available)
    func sessionLookup(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let userID = try await db.createAuthUser(name: "Alice", email: "Alice@Example.com", password: "password123")
            let before = GameDatabase.nowMs()
            let token = try await db.createAuthSession(userId: userID, lifetime: .seconds(3600))
            let after = GameDatabase.nowMs()
            #expect(token.count == 32 && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })

            let session = try #require(try await db.session(forToken: token))
            #expect(session.userID == userID)
            #expect(session.userName == "Alice")
            #expect(session.email == "alice@example.com")
            #expect(!session.sessionID.isEmpty)
            #expect((before + 3_600_000 - 1)...(after + 3_600_000 + 1) ~= session.expiresAtMs)
            #expect(!session.banned)
            #expect(session.banExpiresAtMs == 0)

            #expect(try await db.session(forToken: "unknown-token-0123456789abcdefgh") == nil)
            #expect(try await db.session(forToken: String(token.dropLast())) == nil)
        }
    }

    @Test("ban, role and impersonation facts are returned", arguments: TestBackend.available)
    func banFacts(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let userID = try await db.createAuthUser(
                name: "Mallory", email: "mallory@example.com", password: "password123", role: "user,admin")
            let n = db.names
            let banExpires = GameDatabase.nowMs() + 86_400_000
            _ = try await db.backend.query(
                SQLStatement(
                    "UPDATE \"user\" SET \(n.q(.userBanned)) = $1, \(n.q(.userBanReason)) = $2, \(n.q(.userBanExpires)) = $3, \(n.q(.userDisplayUsername)) = $4 WHERE id = $5",
                    [.bool(true), .text("griefing"), .timestampMs(banExpires), .text("MalloryTheGreat"), .text(userID)]))
            let token = try await db.createAuthSession(userId: userID)
            _ = try await db.backend.query(
                SQLStatement(
                    "UPDATE session SET \(n.q(.sessionImpersonatedBy)) = $1 WHERE token = $2", [.text("admin-1"), .text(token)]))

            let session = try #require(try await db.session(forToken: token))
            #expect(session.banned)
            #expect(session.banReason == "griefing")
            #expect(abs(session.banExpiresAtMs - banExpires) < 1_000)
            #expect(session.roles == "user,admin")
            #expect(session.impersonatedBy == "admin-1")
            #expect(session.displayUsername == "MalloryTheGreat")
        }
    }

    @Test("create, list, get and delete characters", arguments: TestBackend.available)
    func characterLifecycle(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let account = "acct-\(randomAlphanumeric(8))"
            #expect(try await db.characters(account: account).isEmpty)

            let before = GameDatabase.nowMs()
            let first = try await db.createCharacter(
                account: account, name: "Aragorn", classID: 3, appearance: 0xFFFF_FFFF, zoneID: 7, x: 1.5, y: -2.25,
                maxCharacters: 3)
            #expect(first.status == .created)
            let aragorn = try #require(first.character)
            #expect(aragorn.id > 0)
            #expect(aragorn.accountID == account)
            #expect(aragorn.name == "Aragorn")
            #expect(aragorn.classID == 3)
            #expect(aragorn.appearance == 0xFFFF_FFFF)
            #expect(aragorn.level == 1)
            #expect(aragorn.zoneID == 7)
            #expect(aragorn.x == 1.5 && aragorn.y == -2.25)
            #expect((before - 1)...(GameDatabase.nowMs() + 1) ~= aragorn.createdAtMs)

            let second = try await db.createCharacter(
                account: account, name: "Legolas", classID: 1, appearance: 2, zoneID: 1, x: 0, y: 0, maxCharacters: 3)
            #expect(second.status == .created)

            // Names are unique case-insensitively, across accounts.
            let clash = try await db.createCharacter(
                account: "other-\(randomAlphanumeric(8))", name: "aRaGoRn", classID: 1, appearance: 0, zoneID: 1, x: 0,
                y: 0, maxCharacters: 3)
            #expect(clash.status == .nameTaken)
            #expect(clash.character == nil)

            let list = try await db.characters(account: account)
            #expect(list.map(\.name) == ["Aragorn", "Legolas"])  // oldest first
            #expect(try await db.character(account: account, id: aragorn.id) == aragorn)
            #expect(try await db.character(account: "someone-else", id: aragorn.id) == nil)

            // Deleting needs the owner; afterwards the name is free again.
            #expect(try await !db.deleteCharacter(account: "someone-else", id: aragorn.id))
            #expect(try await db.deleteCharacter(account: account, id: aragorn.id))
            #expect(try await !db.deleteCharacter(account: account, id: aragorn.id))
            #expect(try await db.character(account: account, id: aragorn.id) == nil)
            #expect(try await db.characters(account: account).map(\.name) == ["Legolas"])
            let reused = try await db.createCharacter(
                account: "other-\(randomAlphanumeric(8))", name: "ARAGORN", classID: 1, appearance: 0, zoneID: 1, x: 0,
                y: 0, maxCharacters: 3)
            #expect(reused.status == .created)
        }
    }

    @Test("slot limit", arguments: TestBackend.available)
    func slotLimit(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let account = "acct-\(randomAlphanumeric(8))"
            for i in 0..<2 {
                let r = try await db.createCharacter(
                    account: account, name: "Slot\(i)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 2)
                #expect(r.status == .created)
            }
            let full = try await db.createCharacter(
                account: account, name: "Slot2", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 2)
            #expect(full.status == .slotLimit)
            // A deleted character frees its slot.
            let id = try #require(try await db.characters(account: account).first?.id)
            #expect(try await db.deleteCharacter(account: account, id: id))
            let again = try await db.createCharacter(
                account: account, name: "Slot2", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 2)
            #expect(again.status == .created)
        }
    }

    @Test("concurrent creates of one name: exactly one wins", arguments: TestBackend.available)
    func concurrentSameName(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase(configure: { $0.setPostgresPoolSize(20) }) { db in
            let name = "Highlander\(randomAlphanumeric(4))"
            let statuses = try await withThrowingTaskGroup(of: CreateStatus.self) { group in
                for i in 0..<16 {
                    // Different accounts and letter cases: only the name key collides.
                    let variant = i % 2 == 0 ? name : name.uppercased()
                    group.addTask {
                        try await db.createCharacter(
                            account: "acct-\(i)", name: variant, classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0,
                            maxCharacters: 5
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .nameTaken }.count == 15)
        }
    }

    @Test("slot limit holds under concurrent creates on one account", arguments: TestBackend.available)
    func concurrentSlotLimit(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase(configure: { $0.setPostgresPoolSize(20) }) { db in
            let account = "acct-\(randomAlphanumeric(8))"
            let statuses = try await withThrowingTaskGroup(of: CreateStatus.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        try await db.createCharacter(
                            account: account, name: "Racer\(i)-\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0,
                            y: 0, maxCharacters: 3
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 3)
            #expect(statuses.filter { $0 == .slotLimit }.count == 13)
            #expect(try await db.characters(account: account).count == 3)
        }
    }

    @Test("SQL metacharacters are stored and read back literally", arguments: TestBackend.available)
    func metacharacters(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let names = [
                "Robert'); DROP TABLE characters;--", "\"quoted\" \\ back", "100% _under_", "$1 ?1 :name @p",
                "Zoë 名前 🐉",
            ]
            let account = "acct'; --\"\\"
            for name in names {
                let r = try await db.createCharacter(
                    account: account, name: name, classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 10)
                #expect(r.status == .created, "\(name)")
                #expect(r.character?.name == name)
            }
            // LIKE-style wildcards must not match anything else.
            #expect(try await db.createCharacter(
                account: "x", name: "100% _UNDER_", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 10
            ).status == .nameTaken)
            #expect(try await db.characters(account: account).map(\.name) == names)
            #expect(try await db.characters(account: "acct'; --").isEmpty)

            // Tokens: an injection attempt finds nothing; a stored token with metacharacters is found.
            let userID = try await db.createAuthUser(name: "O'Brien \"x\"", email: "o'brien@example.com", password: "password123")
            #expect(try await db.session(forToken: "' OR '1'='1") == nil)
            #expect(try await db.session(forToken: "%") == nil)
            let weird = "tok'en\"; DROP TABLE session;-- %_\\"
            let n = db.names
            _ = try await db.backend.query(
                SQLStatement(
                    "INSERT INTO session (\(n.q(.sessionID)), \(n.q(.sessionToken)), \(n.q(.sessionExpiresAt)), \(n.q(.sessionCreatedAt)), \(n.q(.sessionUpdatedAt)), \(n.q(.sessionUserID))) VALUES ($1, $2, $3, $4, $4, $5)",
                    [.text("s-weird"), .text(weird), .timestampMs(GameDatabase.nowMs() + 60_000), .timestampMs(GameDatabase.nowMs()), .text(userID)]))
            let session = try #require(try await db.session(forToken: weird))
            #expect(session.sessionID == "s-weird")
            #expect(session.userName == "O'Brien \"x\"")
        }
    }

    @Test("save character states", arguments: TestBackend.available)
    func saveStates(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let account = "acct-\(randomAlphanumeric(8))"
            let a = try #require(try await db.createCharacter(
                account: account, name: "Saver\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 5
            ).character)
            let b = try #require(try await db.createCharacter(
                account: account, name: "Deleted\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0,
                maxCharacters: 5
            ).character)
            #expect(try await db.deleteCharacter(account: account, id: b.id))
            _ = try await db.characters(account: account)  // populate the cache

            func state(_ id: UInt64, _ zone: UInt32, _ x: Float, _ y: Float) -> CharacterStateUpdate {
                CharacterStateUpdate(characterID: id, zoneID: zone, x: x, y: y)
            }
            // Unknown and deleted characters are skipped; for duplicates the last state wins.
            let saved = try await db.saveCharacterStates([
                state(a.id, 2, 10, 20), state(b.id, 9, 9, 9), state(999_999, 1, 1, 1), state(a.id, 3, 30.5, -40.25),
            ])
            #expect(saved == 1)
            let reloaded = try #require(try await db.character(account: account, id: a.id))
            #expect(reloaded.zoneID == 3 && reloaded.x == 30.5 && reloaded.y == -40.25)
            #expect(try await db.saveCharacterStates([]) == 0)
        }
    }

    @Test("a save older than the stored one is ignored; a newer one lands", arguments: TestBackend.available)
    func saveStatesOrdered(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            let account = "acct-\(randomAlphanumeric(8))"
            let c = try #require(try await db.createCharacter(
                account: account, name: "Order\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0, maxCharacters: 5
            ).character)
            func state(_ x: Float, version: UInt64) -> CharacterStateUpdate {
                CharacterStateUpdate(characterID: c.id, zoneID: 1, x: x, y: 5, version: version)
            }
            let v = UInt64(1_800_000_000_000_000)  // wall-clock microseconds, as the world sends
            #expect(try await db.saveCharacterStates([state(30, version: v + 2)]) == 1)
            // An older save arriving late (another world process, a retried batch) changes nothing.
            #expect(try await db.saveCharacterStates([state(10, version: v + 1)]) == 0)
            #expect(try await db.saveCharacterStates([state(11, version: v + 2)]) == 0)  // same version: not newer
            var reloaded = try #require(try await db.character(account: account, id: c.id))
            #expect(reloaded.x == 30 && reloaded.stateVersion == v + 2)

            #expect(try await db.saveCharacterStates([state(40, version: v + 3)]) == 1)
            reloaded = try #require(try await db.character(account: account, id: c.id))
            #expect(reloaded.x == 40 && reloaded.stateVersion == v + 3)
            // In one batch, the newest version of a character wins whatever the order.
            #expect(try await db.saveCharacterStates([state(60, version: v + 6), state(50, version: v + 5)]) == 1)
            reloaded = try #require(try await db.character(account: account, id: c.id))
            #expect(reloaded.x == 60)
            // Version 0 (a world that sends none) never overwrites a versioned state.
            #expect(try await db.saveCharacterStates([state(70, version: 0)]) == 0)
        }
    }

    @Test("a failing cache (Redis down) degrades to the database", arguments: TestBackend.available)
    func failingCache(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase(cache: FailingCache()) { db in
            let userID = try await db.createAuthUser(name: "Bob", email: "bob@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            #expect(try await db.session(forToken: token)?.userID == userID)
            let account = "acct-\(randomAlphanumeric(8))"
            let created = try await db.createCharacter(
                account: account, name: "NoCache\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0,
                maxCharacters: 5)
            #expect(created.status == .created)
            #expect(try await db.characters(account: account).count == 1)
            #expect(await !db.isReady())  // the cache does not answer
        }
    }

    @Test("character lists come back from the cache as they went in", arguments: TestBackend.available)
    func characterListCacheRoundTrip(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase(cache: InMemoryCache()) { db in
            let account = "acct-\(randomAlphanumeric(8))"
            for name in ["Roundtrip\(account)", "Second\(account)"] {
                #expect(try await db.createCharacter(
                    account: account, name: name, classID: 2, appearance: 0x0F0E_0D07, zoneID: 3, x: 12.75, y: -0.5,
                    maxCharacters: 5
                ).status == .created)
            }
            let fromDatabase = try await db.characters(account: account)
            // Changed behind the cache's back: the next read must be the cached copy, field for field.
            _ = try await db.backend.query(
                SQLStatement("UPDATE characters SET name = name || 'X', level = 9 WHERE account_id = $1", [.text(account)]))
            let fromCache = try await db.characters(account: account)
            #expect(fromCache == fromDatabase)
            #expect(fromCache.count == 2 && fromCache[0].x == 12.75 && fromCache[0].appearance == 0x0F0E_0D07)
        }
    }

    @Test("undecodable cache entries are misses", arguments: TestBackend.available)
    func undecodableCacheEntries(backend: TestBackend) async throws {
        let cache = InMemoryCache()
        try await backend.withPreparedDatabase(cache: cache) { db in
            let account = "acct-\(randomAlphanumeric(8))"
            #expect(try await db.createCharacter(
                account: account, name: "Garbled\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0,
                maxCharacters: 5
            ).status == .created)
            let userID = try await db.createAuthUser(name: "Ivan", email: "ivan@example.com", password: nil)
            let token = try await db.createAuthSession(userId: userID)
            // E.g. bytes of another format under the same key: served from the database instead.
            try await cache.set(db.characterListCacheKey(account), value: [0x0a, 0x03, 0xff], ttl: .seconds(60))
            try await cache.set(db.sessionCacheKey(token), value: Array("{\"userID\":1}".utf8), ttl: .seconds(60))
            #expect(try await db.characters(account: account).map(\.name) == ["Garbled\(account)"])
            #expect(try await db.session(forToken: token)?.userID == userID)
        }
    }

    @Test("session cache: hashed keys, TTL bounds staleness", arguments: TestBackend.available)
    func sessionCache(backend: TestBackend) async throws {
        let cache = RecordingCache(InMemoryCache())
        try await backend.withPreparedDatabase(configure: { $0.sessionCacheTTL = .seconds(2) }, cache: cache) { db in
            let userID = try await db.createAuthUser(name: "Carol", email: "carol@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            #expect(try await db.session(forToken: token) != nil)
            #expect(!cache.keys.isEmpty)
            #expect(cache.keys.allSatisfy { !$0.contains(token) })
            #expect(cache.keys.contains(db.sessionCacheKey(token)))

            // Revocation by the web app deletes the row; the cache serves it at most one TTL longer.
            _ = try await db.backend.query(SQLStatement("DELETE FROM session WHERE token = $1", [.text(token)]))
            #expect(try await db.session(forToken: token) != nil)
            try await Task.sleep(for: .milliseconds(2_300))
            #expect(try await db.session(forToken: token) == nil)
            #expect(await db.isReady())
        }
    }

    @Test("migrations are idempotent and recorded", arguments: TestBackend.available)
    func migrationsIdempotent(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase { db in
            #expect(try await db.migrate() == [])
            let rows = try await db.backend.query(SQLStatement("SELECT version, name FROM schema_migrations ORDER BY version"))
            #expect(rows.compactMap { $0.int("version") } == Migrations.all.map { Int64($0.version) })
            #expect(rows.compactMap { $0.string("name") } == Migrations.all.map(\.name))
            try await db.prepare()  // again: fine
        }
    }

    @Test("domain methods require prepare()")
    func notPrepared() async throws {
        try await SQLiteTestDatabase.with { path in
            try await withDatabase(DatabaseConfiguration(backend: .sqlite(path: path)), prepare: false) { db in
                await #expect(throws: DatabaseError.notPrepared) { try await db.characters(account: "a") }
                #expect(await !db.isReady())
                try await db.prepare()
                #expect(await db.isReady())
            }
        }
    }

    @Test("SQLite with migrations off names the missing tables")
    func sqliteSchemaCheck() async throws {
        try await SQLiteTestDatabase.with { path in
            let configuration = DatabaseConfiguration(backend: .sqlite(path: path), runMigrations: false)
            try await withDatabase(configuration, prepare: false) { db in
                await #expect(throws: DatabaseError.schemaIncomplete(missing: [
                    "table schema_migrations", "table game_accounts", "table characters", "table user", "table session",
                    "table account",
                ])) { try await db.prepare() }
                // Migrated, then a column disappears: exactly that is reported.
                _ = try await db.migrate()
                _ = try await db.backend.query(SQLStatement("ALTER TABLE characters DROP COLUMN zone_id"))
                await #expect(throws: DatabaseError.schemaIncomplete(missing: ["column characters.zone_id"])) {
                    try await db.prepare()
                }
            }
        }
    }

    @Test("password hashes written by createAuthUser verify")
    func storedPasswordVerifies() async throws {
        try await SQLiteTestDatabase.with { path in
            try await withDatabase(DatabaseConfiguration(backend: .sqlite(path: path))) { db in
                let userID = try await db.createAuthUser(name: "Dave", email: "dave@example.com", password: "s3cret-pass")
                let rows = try await db.backend.query(
                    SQLStatement(
                        "SELECT password, \"providerId\" AS provider, \"accountId\" AS account_id, issuer FROM account WHERE \"userId\" = $1",
                        [.text(userID)]))
                let row = try #require(rows.first)
                #expect(row.string("provider") == "credential")
                #expect(row.string("account_id") == userID)
                #expect(row.string("issuer") == "local:credential")
                let stored = try #require(row.string("password"))
                #expect(try await offloaded { try BetterAuthPassword.verify("s3cret-pass", against: stored) })
                await #expect(throws: DatabaseError.self) {
                    _ = try await db.createAuthUser(name: "Dave2", email: "DAVE@example.com", password: "password123")
                }
                await #expect(throws: DatabaseError.self) {
                    _ = try await db.createAuthUser(name: "Short", email: "short@example.com", password: "short")
                }
            }
        }
    }
}
