import Foundation
import MMORedis

/// better-auth's optional Redis `secondaryStorage`, read as better-auth 1.7's `findSession`
/// reads it (`internal-adapter.ts`): the value under `<keyPrefix><raw token>` is
/// `JSON.stringify({session, user})` of better-auth's own objects — logical field names
/// (`userId`, `expiresAt`, `banExpires`) whatever the SQL column naming, dates as ISO-8601
/// strings — written with `SETEX` (seconds until expiry). Sign-out, revoke and ban delete the
/// key. Not a cache of ours: it is the web app's source of truth, so nothing is cached in front
/// of it.
struct BetterAuthSessionStorage: Sendable {
    let client: RedisClient
    /// `better-auth:` for `@better-auth/redis-storage`. Redis's own `keyPrefix` (ours) is not
    /// applied: these are the web app's keys.
    let keyPrefix: String

    /// The stored value, or nil when the key does not exist.
    ///
    /// - Throws: ``DatabaseError/unavailable(_:)`` when Redis does not answer: a lookup that
    ///   cannot be made must not read as "no session" (that would sign everyone out).
    func value(forToken token: String) async throws -> [UInt8]? {
        do {
            guard let buffer = try await client.get(keyPrefix + token) else { return nil }
            return Array(buffer.readableBytesView)
        } catch let error as RedisError {
            // The error carries no key or value (RedisError never does).
            throw DatabaseError.unavailable("better-auth session storage (Redis): \(error.code)")
        }
    }

    /// Facts from a stored value, or nil for a value better-auth's own `findSession` would not
    /// turn into a session (not JSON, no session or user, no user id or expiry).
    static func decode(_ bytes: [UInt8]) -> SessionRecord? {
        guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(bytes)),
            let session = stored.session, let user = stored.user,
            let userID = session.userId ?? user.id, !userID.isEmpty,
            let expiresAtMs = session.expiresAt?.milliseconds
        else { return nil }
        return SessionRecord(
            sessionID: session.id ?? "", userID: userID, userName: user.name ?? "", email: user.email ?? "",
            expiresAtMs: expiresAtMs, banned: user.banned ?? false, banExpiresAtMs: user.banExpires?.milliseconds ?? 0,
            banReason: user.banReason ?? "", roles: user.role ?? "", impersonatedBy: session.impersonatedBy ?? "",
            displayUsername: user.displayUsername ?? "")
    }

    /// `{"session": {...}, "user": {...}}`. Every field optional: plugins add fields, and a
    /// missing one reads as absent (as it does from the table) instead of failing the decode.
    private struct Stored: Decodable {
        struct Session: Decodable {
            var id: String?
            var userId: String?
            var expiresAt: Timestamp?
            var impersonatedBy: String?
        }

        struct User: Decodable {
            var id: String?
            var name: String?
            var email: String?
            var role: String?
            var banned: Bool?
            var banReason: String?
            var banExpires: Timestamp?
            var displayUsername: String?
        }

        var session: Session?
        var user: User?
    }

    /// A JSON date as better-auth may leave it: an ISO-8601 string (`Date` through
    /// `JSON.stringify`) or epoch milliseconds. Unparseable text decodes as absent.
    private struct Timestamp: Decodable {
        var milliseconds: Int64?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                milliseconds = parseTimestampMs(text)
            } else if let number = try? container.decode(Double.self), number.isFinite, abs(number) < 1e15 {
                milliseconds = Int64(number)
            } else {
                milliseconds = nil
            }
        }
    }
}
