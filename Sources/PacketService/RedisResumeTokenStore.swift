import Foundation
import MMORedis
import NIOCore

/// Resume tokens in Redis, shared by every gateway of a deployment (the packet service's
/// `redis.url`), so a client may resume on any gateway.
///
/// Keys (after the client's `keyPrefix`): `mmo:resume:token:<sha256 hex>` holds the ticket as
/// JSON, `mmo:resume:account:<account id>` the hash of the account's live token; both carry the
/// token's time to live. Single use is `GETDEL` (Redis 6.2 or newer): of two gateways claiming
/// the same token at once, exactly one gets the ticket. The token itself is never stored.
public final class RedisResumeTokenStore: ResumeTokenStore {
    private let redis: RedisClient
    private let tokenPrefix: String
    private let accountPrefix: String

    public init(redis: RedisClient) {
        self.redis = redis
        tokenPrefix = redis.configuration.keyPrefix + "mmo:resume:token:"
        accountPrefix = redis.configuration.keyPrefix + "mmo:resume:account:"
    }

    private static func milliseconds(_ ttl: Duration) -> String {
        let (seconds, atto) = ttl.components
        return String(max(1, seconds * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000))
    }

    public func issue(_ ticket: ResumeTicket, ttl: Duration) async throws -> String {
        let token = ResumeToken.generate()
        let hash = ResumeToken.storageKey(token)
        let value = ByteBuffer(bytes: try JSONEncoder().encode(ticket))
        let ms = Self.milliseconds(ttl)
        try await redis.send([
            ByteBuffer(string: "SET"), ByteBuffer(string: tokenPrefix + hash), value, ByteBuffer(string: "PX"), ByteBuffer(string: ms),
        ])
        // One live token per account: the account key moves to the new token, and the token it
        // named before dies. Two gateways issuing for one account at once may both stay valid
        // until used or expired; each is still single-use.
        let previous = try await redis.send(["SET", accountPrefix + ticket.accountId, hash, "PX", ms, "GET"]).stringValue
        if let previous, previous != hash {
            try await redis.delete([tokenPrefix + previous])
        }
        return token
    }

    public func claim(_ token: String) async throws -> ResumeTicket? {
        guard ResumeToken.isWellFormed(token) else { return nil }
        let reply = try await redis.send(["GETDEL", tokenPrefix + ResumeToken.storageKey(token)])
        guard case .bulkString(let value?) = reply else { return nil }
        return try JSONDecoder().decode(ResumeTicket.self, from: Data(value.readableBytesView))
    }

    public func expire(_ token: String, accountId: String, after ttl: Duration) async throws {
        let ms = Self.milliseconds(ttl)
        _ = try await redis.send(["PEXPIRE", tokenPrefix + ResumeToken.storageKey(token), ms])
        _ = try await redis.send(["PEXPIRE", accountPrefix + accountId, ms])
    }

    public func discard(_ token: String) async throws {
        try await redis.delete([tokenPrefix + ResumeToken.storageKey(token)])
    }

    public func revoke(accountId: String) async throws {
        guard let hash = try await redis.send(["GETDEL", accountPrefix + accountId]).stringValue else { return }
        try await redis.delete([tokenPrefix + hash])
    }
}
