import DevTools
import Foundation
import MMORedis
import MMOTestSupport
import Testing

@testable import DatabaseService

/// A sign-out (better-auth deletes the session row) or a ban (admin plugin: `banned`) on the web
/// app must refuse a new login within a few seconds: the session cache is the only thing that
/// can delay it, so its TTL is the bound.
@Suite("Session revocation within the cache bound", .timeLimit(.minutes(5)))
struct SessionRevocationTests {
    /// The documented bound on how long a ban or sign-out may go unnoticed by a new login.
    static let bound = Duration.seconds(5)

    @Test("the default session cache TTL is a few seconds, not 30")
    func defaultTTLIsShort() {
        #expect(DatabaseConfiguration().sessionCacheTTL <= Self.bound)
        #expect(DatabaseConfiguration().sessionCacheTTL > .zero, "some caching still absorbs reconnect bursts")
    }

    @Test("a sign-out is refused once the (short) TTL has passed, not before", arguments: TestBackend.available)
    func signOutBitesWithinTTL(backend: TestBackend) async throws {
        let ttl = Duration.seconds(1)
        try await backend.withPreparedDatabase(configure: { $0.sessionCacheTTL = ttl }) { db in
            let userID = try await db.createAuthUser(name: "Heidi", email: "heidi@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            let cachedAt = ContinuousClock.now  // the entry lives at least until cachedAt + ttl
            #expect(try await db.session(forToken: token)?.userID == userID)

            try await Self.signOut(db, token: token)
            // Within the TTL the cached facts are still served (this is what the TTL bounds; on
            // a machine so loaded that the TTL has already passed, there is nothing to check) ...
            let lookupAt = ContinuousClock.now
            let stillCached = try await db.session(forToken: token)
            if lookupAt - cachedAt < ttl { #expect(stillCached?.userID == userID) }
            // ... and after it the lookup reads the database again.
            try await eventually("sign-out seen", timeout: Self.bound) { try await db.session(forToken: token) == nil }
        }
    }

    @Test("a ban is seen once the (short) TTL has passed", arguments: TestBackend.available)
    func banBitesWithinTTL(backend: TestBackend) async throws {
        try await backend.withPreparedDatabase(configure: { $0.sessionCacheTTL = .milliseconds(500) }) { db in
            let userID = try await db.createAuthUser(name: "Ivan", email: "ivan@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            #expect(try await db.session(forToken: token)?.banned == false)

            let n = db.names
            _ = try await db.backend.query(SQLStatement(
                "UPDATE \"user\" SET \(n.q(.userBanned)) = $1, \(n.q(.userBanReason)) = $2 WHERE \(n.q(.userID)) = $3",
                [.bool(true), .text("botting"), .text(userID)]))
            try await eventually("ban seen", timeout: Self.bound) { try await db.session(forToken: token)?.banned == true }
            #expect(try await db.session(forToken: token)?.banReason == "botting")
        }
    }

    @Test("a TTL of zero caches nothing: a sign-out bites at once", arguments: TestBackend.available)
    func zeroTTLCachesNothing(backend: TestBackend) async throws {
        let cache = RecordingCache(InMemoryCache())
        try await backend.withPreparedDatabase(configure: { $0.sessionCacheTTL = .zero }, cache: cache) { db in
            let userID = try await db.createAuthUser(name: "Judy", email: "judy@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            #expect(try await db.session(forToken: token)?.userID == userID)
            try await Self.signOut(db, token: token)
            #expect(try await db.session(forToken: token) == nil)
            #expect(!cache.keys.contains(db.sessionCacheKey(token)), "no cache round trip when caching is off")
        }
    }

    @Test(
        "with Redis and the default configuration, a cached session lives at most the bound",
        .enabled(if: TestEnvironment.redisEnabled, "set MMO_TEST_REDIS_URL"), arguments: TestBackend.available)
    func defaultTTLInRedis(backend: TestBackend) async throws {
        let prefix = "mmo-test-\(randomAlphanumeric(10)):"
        let redis = try RedisClientConfiguration(url: try TestEnvironment.requireRedisURL())
        try await backend.withPreparedDatabase(configure: {
            $0.redis = redis
            $0.cacheKeyPrefix = prefix
        }) { db in
            try await RedisCacheTests.withInspector { inspector in
                let userID = try await db.createAuthUser(name: "Karl", email: "karl@example.com", password: "password123")
                // better-auth's default lifetime (7 days): the TTL is the cache's own, not the expiry.
                let token = try await db.createAuthSession(userId: userID)
                #expect(try await db.session(forToken: token)?.userID == userID)
                let key = db.sessionCacheKey(token)
                let ttl = try await inspector.send(["PTTL", key]).int64Value ?? -1
                #expect(ttl > 0 && ttl <= Self.bound.components.seconds * 1000, "PTTL \(ttl) ms")
                try await inspector.delete([key])
            }
        }
    }

    /// What better-auth's sign-out does to the `session` table.
    static func signOut(_ db: GameDatabase, token: String) async throws {
        _ = try await db.backend.query(SQLStatement(
            "DELETE FROM \(quoteIdentifier(AuthNames.sessionTable)) WHERE \(db.names.q(.sessionToken)) = $1", [.text(token)]))
    }
}
