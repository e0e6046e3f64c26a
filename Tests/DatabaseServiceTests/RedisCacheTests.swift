import DevTools
import Foundation
import MMORedis
import Testing

@testable import DatabaseService

/// The cache against a real Redis (MMO_TEST_REDIS_URL), on SQLite and, when configured, PostgreSQL.
@Suite("Redis cache", .enabled(if: TestEnvironment.redisEnabled, "set MMO_TEST_REDIS_URL"))
struct RedisCacheTests {
    static func redisConfiguration() throws -> RedisClientConfiguration {
        try RedisClientConfiguration(url: try TestEnvironment.requireRedisURL())
    }

    /// A direct client to inspect what the service stored.
    static func withInspector<T: Sendable>(_ body: (RedisClient) async throws -> T) async throws -> T {
        let client = RedisClient(configuration: try redisConfiguration(), logger: TestEnvironment.logger)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    @Test("character lists are cached in Redis and invalidated by writes", arguments: TestBackend.available)
    func characterListInvalidation(backend: TestBackend) async throws {
        let prefix = "mmo-test-\(randomAlphanumeric(10)):"
        let redis = try Self.redisConfiguration()
        try await backend.withPreparedDatabase(configure: {
            $0.redis = redis
            $0.cacheKeyPrefix = prefix
        }) { db in
            try await Self.withInspector { inspector in
                let account = "acct-\(randomAlphanumeric(8))"
                let key = prefix + "characters:v2:" + account
                #expect(try await db.characters(account: account).isEmpty)
                #expect(try await inspector.get(key) != nil)  // the (empty) list is cached

                let created = try #require(try await db.createCharacter(
                    account: account, name: "Cached\(account)", classID: 2, appearance: 0, zoneID: 1, x: 0, y: 0,
                    maxCharacters: 5
                ).character)
                #expect(try await inspector.get(key) == nil)  // invalidated
                #expect(try await db.characters(account: account).map(\.id) == [created.id])
                #expect(try await inspector.get(key) != nil)

                let state = CharacterStateUpdate(characterID: created.id, zoneID: 42, x: 7, y: 8)
                #expect(try await db.saveCharacterStates([state]) == 1)
                #expect(try await db.character(account: account, id: created.id)?.zoneID == 42)

                #expect(try await db.deleteCharacter(account: account, id: created.id))
                #expect(try await db.characters(account: account).isEmpty)
                #expect(await db.isReady())
                try await inspector.delete([key])
            }
        }
    }

    @Test("sessions are cached under the token's SHA-256, with a bounded TTL", arguments: TestBackend.available)
    func sessionKeys(backend: TestBackend) async throws {
        let prefix = "mmo-test-\(randomAlphanumeric(10)):"
        let redis = try Self.redisConfiguration()
        try await backend.withPreparedDatabase(configure: {
            $0.redis = redis
            $0.cacheKeyPrefix = prefix
            // Longer than the session's 10 s, to see the TTL capped at the expiry.
            $0.sessionCacheTTL = .seconds(30)
        }) { db in
            try await Self.withInspector { inspector in
                let userID = try await db.createAuthUser(name: "Frank", email: "frank@example.com", password: "password123")
                let token = try await db.createAuthSession(userId: userID, lifetime: .seconds(10))
                #expect(try await db.session(forToken: token)?.userID == userID)

                let key = db.sessionCacheKey(token)
                #expect(key.hasPrefix(prefix + "session:v2:") && key.count == prefix.count + "session:v2:".count + 64)
                #expect(try await inspector.get(key) != nil)
                let keys = try await inspector.send(["KEYS", prefix + "*"]).arrayValue?.compactMap(\.stringValue) ?? []
                #expect(keys.contains(key))
                #expect(keys.allSatisfy { !$0.contains(token) })
                // min(sessionCacheTTL = 30 s, 10 s until expiry)
                let ttl = try await inspector.send(["PTTL", key]).int64Value ?? -1
                #expect(ttl > 0 && ttl <= 10_000)
                // Served from the cache now.
                _ = try await db.backend.query(SQLStatement("DELETE FROM session WHERE token = $1", [.text(token)]))
                #expect(try await db.session(forToken: token)?.userID == userID)
                try await inspector.delete(keys)
            }
        }
    }

}

/// Needs no Redis: a real `RedisClient` pointed at a port where nothing listens.
@Suite("Redis unreachable")
struct RedisDownTests {
    @Test("requests are served by the database", arguments: TestBackend.available)
    func redisDown(backend: TestBackend) async throws {
        // Nothing listens on port 1: connections are refused.
        let down = RedisClientConfiguration(
            host: "127.0.0.1", port: 1, connectTimeout: .milliseconds(300), commandTimeout: .milliseconds(300))
        try await backend.withPreparedDatabase(configure: { $0.redis = down }) { db in
            let userID = try await db.createAuthUser(name: "Grace", email: "grace@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)
            let start = ContinuousClock.now
            for _ in 0..<3 {
                #expect(try await db.session(forToken: token)?.userID == userID)
            }
            let account = "acct-\(randomAlphanumeric(8))"
            #expect(try await db.createCharacter(
                account: account, name: "Offline\(account)", classID: 1, appearance: 0, zoneID: 1, x: 0, y: 0,
                maxCharacters: 5
            ).status == .created)
            #expect(try await db.characters(account: account).count == 1)
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(await !db.isReady())
        }
    }
}
