import DevTools
import Foundation
import MMORedis
import NIOCore
import Testing

@testable import DatabaseService

/// better-auth's optional Redis secondary storage, as `@better-auth/redis-storage` writes it
/// (better-auth 1.7 `internal-adapter.ts` `createSession` / `findSession` / `deleteSession`):
/// key `better-auth:<token>`, value `JSON.stringify({session, user})` (dates as ISO strings),
/// `SETEX` with the seconds until expiry.
enum BetterAuthStorageVector {
    static let token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    static let userID = "Xk3mQ9pL2vR7sT1wY5zA8bC4dE6fG0hJ"

    /// A session of a user with the admin and username plugins, exactly as `JSON.stringify`
    /// prints better-auth's objects (`Date` -> `toISOString()`, absent plugin values -> null).
    static func json(
        token: String = token, userID: String = userID, expiresAt: String = "2026-12-10T14:00:00.000Z",
        banned: String = "false", banReason: String = "null", banExpires: String = "null"
    ) -> String {
        """
        {"session":{"expiresAt":"\(expiresAt)","token":"\(token)","createdAt":"2026-12-03T14:00:00.000Z",\
        "updatedAt":"2026-12-03T14:00:00.000Z","ipAddress":"203.0.113.7","userAgent":"Mozilla/5.0",\
        "userId":"\(userID)","impersonatedBy":null,"id":"s9F2kL7mN3pQ8rT1vW5xY0zA4bC6dE2g"},\
        "user":{"name":"Alice","email":"alice@example.com","emailVerified":true,"image":null,\
        "createdAt":"2026-11-01T09:30:00.000Z","updatedAt":"2026-12-03T14:00:00.000Z","role":"user,moderator",\
        "banned":\(banned),"banReason":\(banReason),"banExpires":\(banExpires),"username":"alice",\
        "displayUsername":"Alice_W","id":"\(userID)"}}
        """
    }

    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

@Suite("better-auth secondary storage: decoding")
struct BetterAuthSecondaryStorageDecodingTests {
    @Test("a session value written by better-auth decodes to the same facts as the session table gives")
    func decodesTheVector() throws {
        let record = try #require(BetterAuthSessionStorage.decode(Array(BetterAuthStorageVector.json().utf8)))
        #expect(record.sessionID == "s9F2kL7mN3pQ8rT1vW5xY0zA4bC6dE2g")
        #expect(record.userID == BetterAuthStorageVector.userID)
        #expect(record.userName == "Alice" && record.email == "alice@example.com")
        #expect(record.expiresAtMs == 1_796_911_200_000)  // 2026-12-10T14:00:00Z
        #expect(!record.banned && record.banReason == "" && record.banExpiresAtMs == 0)
        #expect(record.roles == "user,moderator" && record.displayUsername == "Alice_W" && record.impersonatedBy == "")
    }

    @Test("ban facts, an impersonation and numeric dates are read too")
    func banFacts() throws {
        let json = BetterAuthStorageVector.json(
            banned: "true", banReason: "\"cheating\"", banExpires: "\"2027-01-01T00:00:00.000Z\""
        ).replacingOccurrences(of: "\"impersonatedBy\":null", with: "\"impersonatedBy\":\"admin-1\"")
            .replacingOccurrences(of: "\"2026-12-10T14:00:00.000Z\"", with: "1796911200000")
        let record = try #require(BetterAuthSessionStorage.decode(Array(json.utf8)))
        #expect(record.banned && record.banReason == "cheating" && record.banExpiresAtMs == 1_798_761_600_000)
        #expect(record.impersonatedBy == "admin-1")
        #expect(record.expiresAtMs == 1_796_911_200_000)
    }

    @Test(
        "values better-auth's own findSession would not accept are no session",
        arguments: [
            "", "not json", "null", "{}", "{\"session\":{}}",
            "{\"session\":{\"userId\":\"u\",\"expiresAt\":\"2026-12-10T14:00:00.000Z\"}}",  // no user
            "{\"session\":{\"userId\":\"u\",\"expiresAt\":\"yesterday\"},\"user\":{\"id\":\"u\",\"name\":\"n\",\"email\":\"e\"}}",
        ])
    func garbageIsNoSession(value: String) {
        #expect(BetterAuthSessionStorage.decode(Array(value.utf8)) == nil)
    }

    @Test("the storage is read only when configured, and needs Redis")
    func configuration() async throws {
        #expect(DatabaseConfiguration().betterAuthSessionStorage == .database)
        try await SQLiteTestDatabase.with { path in
            var configuration = DatabaseConfiguration(backend: .sqlite(path: path))
            configuration.betterAuthSessionStorage = .redis(keyPrefix: "better-auth:", storeSessionInDatabase: false)
            // No `redis` configured: a lookup is a configuration error, never "no session".
            try await withDatabase(configuration) { db in
                await #expect {
                    _ = try await db.session(forToken: randomAlphanumeric(32))
                } throws: { error in
                    guard case DatabaseError.invalidConfiguration = error else { return false }
                    return true
                }
            }
        }
    }
}

/// Against a real Redis: keys written exactly as better-auth writes them.
@Suite(
    "better-auth secondary storage in Redis", .enabled(if: TestEnvironment.redisEnabled, "set MMO_TEST_REDIS_URL"),
    .timeLimit(.minutes(5)))
struct BetterAuthSecondaryStorageRedisTests {
    /// better-auth's `createSession` with `secondaryStorage`: the value under the token and the
    /// user's `active-sessions-<userId>` list, both with `SETEX` (whole seconds until expiry).
    static func writeSession(
        _ redis: RedisClient, prefix: String, token: String, userID: String, expiresIn seconds: Int = 3600,
        banned: Bool = false
    ) async throws {
        let expiresAt = Date().addingTimeInterval(TimeInterval(seconds))
        let value = BetterAuthStorageVector.json(
            token: token, userID: userID, expiresAt: BetterAuthStorageVector.iso(expiresAt), banned: banned ? "true" : "false",
            banReason: banned ? "\"spam\"" : "null")
        _ = try await redis.send(["SETEX", prefix + token, String(seconds), value])
        let list = "[{\"token\":\"\(token)\",\"expiresAt\":\(Int64(expiresAt.timeIntervalSince1970 * 1000))}]"
        _ = try await redis.send(["SETEX", prefix + "active-sessions-\(userID)", String(seconds), list])
    }

    static func withStorageDatabase<T: Sendable>(
        backend: TestBackend, keyPrefix: String, storeSessionInDatabase: Bool,
        _ body: (GameDatabase, RedisClient) async throws -> T
    ) async throws -> T {
        let redis = try RedisClientConfiguration(url: try TestEnvironment.requireRedisURL())
        return try await backend.withPreparedDatabase(configure: {
            $0.redis = redis
            $0.cacheKeyPrefix = "mmo-test-\(randomAlphanumeric(10)):"
            $0.betterAuthSessionStorage = .redis(keyPrefix: keyPrefix, storeSessionInDatabase: storeSessionInDatabase)
        }) { db in
            try await RedisCacheTests.withInspector { inspector in try await body(db, inspector) }
        }
    }

    @Test("sessions are read from better-auth's keys; a sign-out (key deleted) bites at once", arguments: TestBackend.available)
    func readsAndSignOut(backend: TestBackend) async throws {
        let prefix = "better-auth-test-\(randomAlphanumeric(8)):"
        try await Self.withStorageDatabase(backend: backend, keyPrefix: prefix, storeSessionInDatabase: false) { db, redis in
            let token = randomAlphanumeric(32)
            let userID = randomAlphanumeric(32)
            try await Self.writeSession(redis, prefix: prefix, token: token, userID: userID)
            let record = try #require(try await db.session(forToken: token))
            #expect(record.userID == userID && record.userName == "Alice" && record.displayUsername == "Alice_W")
            #expect(abs(record.expiresAtMs - (GameDatabase.nowMs() + 3_600_000)) < 2_000)
            #expect(try await db.session(forToken: token)?.userID == userID)

            // better-auth's deleteSession: DEL the token's key (and rewrite the list).
            _ = try await redis.send(["DEL", prefix + token])
            #expect(try await db.session(forToken: token) == nil, "no cache in front of better-auth's own storage")
            _ = try await redis.send(["DEL", prefix + "active-sessions-\(userID)"])
        }
    }

    @Test("a ban written into the stored user is seen at once", arguments: TestBackend.available)
    func banIsSeen(backend: TestBackend) async throws {
        let prefix = "better-auth:"
        try await Self.withStorageDatabase(backend: backend, keyPrefix: prefix, storeSessionInDatabase: false) { db, redis in
            let token = randomAlphanumeric(32)
            let userID = randomAlphanumeric(32)
            try await Self.writeSession(redis, prefix: prefix, token: token, userID: userID)
            #expect(try await db.session(forToken: token)?.banned == false)
            // The admin plugin's banUser: updateUser (refreshUserSessions rewrites each value) ...
            try await Self.writeSession(redis, prefix: prefix, token: token, userID: userID, banned: true)
            let banned = try #require(try await db.session(forToken: token))
            #expect(banned.banned && banned.banReason == "spam")
            // ... then deleteSessions(userId).
            _ = try await redis.send(["DEL", prefix + token, prefix + "active-sessions-\(userID)"])
            #expect(try await db.session(forToken: token) == nil)
        }
    }

    @Test(
        "a Redis miss falls back to the session table only with storeSessionInDatabase, as better-auth's findSession does",
        arguments: TestBackend.available)
    func databaseFallback(backend: TestBackend) async throws {
        for storeInDatabase in [false, true] {
            try await Self.withStorageDatabase(backend: backend, keyPrefix: "better-auth:", storeSessionInDatabase: storeInDatabase) { db, _ in
                let userID = try await db.createAuthUser(name: "Mallory", email: "mallory@example.com", password: "password123")
                let token = try await db.createAuthSession(userId: userID)  // in the table, not in Redis
                let found = try await db.session(forToken: token)
                #expect((found?.userID == userID) == storeInDatabase, "storeSessionInDatabase=\(storeInDatabase)")
            }
        }
    }

    @Test("with better-auth's Redis down, the lookup fails as unavailable instead of saying 'no session'")
    func redisDown() async throws {
        try await SQLiteTestDatabase.with { path in
            var configuration = DatabaseConfiguration(backend: .sqlite(path: path))
            configuration.redis = RedisClientConfiguration(
                host: "127.0.0.1", port: 1, connectTimeout: .milliseconds(300), commandTimeout: .milliseconds(300))
            configuration.betterAuthSessionStorage = .redis(keyPrefix: "better-auth:", storeSessionInDatabase: true)
            try await withDatabase(configuration) { db in
                await #expect {
                    _ = try await db.session(forToken: randomAlphanumeric(32))
                } throws: { error in
                    guard case DatabaseError.unavailable = error else { return false }
                    return true
                }
            }
        }
    }
}
