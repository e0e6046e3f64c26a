import Logging
import MMORedis
import NIOCore
import Synchronization

/// A byte-valued cache with per-entry TTL. One interface, two implementations:
/// ``InMemoryCache`` (one process) and ``RedisCache`` (shared).
///
/// Implementations may throw (Redis down); ``GameDatabase`` treats every failure as a miss and
/// carries on with the database.
protocol GameCache: Sendable {
    func get(_ key: String) async throws -> [UInt8]?
    func set(_ key: String, value: [UInt8], ttl: Duration) async throws
    func delete(_ keys: [String]) async throws
    /// Throws unless the cache answers; used by readiness checks.
    func ping() async throws
    func shutdown() async
}

/// A bounded in-memory cache. Expired entries are dropped on access and when the cache is full;
/// if it is still full, an arbitrary tenth of the entries is evicted (amortized O(1), and a cache
/// of sessions and character lists has no hot set worth the bookkeeping of LRU).
final class InMemoryCache: GameCache {
    private struct Entry {
        var value: [UInt8]
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int
    private let clock = ContinuousClock()

    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    func get(_ key: String) async throws -> [UInt8]? {
        let now = clock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func set(_ key: String, value: [UInt8], ttl: Duration) async throws {
        guard ttl > .zero else { return }
        let now = clock.now
        entries.withLock { entries in
            if entries[key] == nil, entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity {
                    let target = capacity - max(1, capacity / 10)
                    let victims = Array(entries.keys.prefix(entries.count - target))
                    for victim in victims { entries[victim] = nil }
                }
            }
            entries[key] = Entry(value: value, expires: now.advanced(by: ttl))
        }
    }

    func delete(_ keys: [String]) async throws {
        entries.withLock { entries in
            for key in keys { entries[key] = nil }
        }
    }

    func ping() async throws {}

    func shutdown() async {
        entries.withLock { $0.removeAll() }
    }

    /// Number of stored entries, expired ones included (for tests).
    var count: Int { entries.withLock { $0.count } }
}

/// The cache in Redis via ``MMORedis/RedisClient``. Keys get the client configuration's
/// `keyPrefix` (empty by default) in front, as that configuration asks of its callers.
final class RedisCache: GameCache {
    let client: RedisClient
    private let prefix: String

    init(client: RedisClient) {
        self.client = client
        self.prefix = client.configuration.keyPrefix
    }

    func get(_ key: String) async throws -> [UInt8]? {
        guard let buffer = try await client.get(prefix + key) else { return nil }
        return Array(buffer.readableBytesView)
    }

    func set(_ key: String, value: [UInt8], ttl: Duration) async throws {
        guard ttl > .zero else { return }
        try await client.set(prefix + key, value: ByteBuffer(bytes: value), expiresIn: ttl)
    }

    func delete(_ keys: [String]) async throws {
        try await client.delete(keys.map { prefix + $0 })
    }

    func ping() async throws {
        try await client.ping()
    }

    func shutdown() async {
        await client.shutdown()
    }
}
