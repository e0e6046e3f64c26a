import Crypto
import Foundation

extension GameDatabase {
    /// The better-auth session with this raw token, joined with its user, or nil.
    ///
    /// Returns facts, not verdicts: expired sessions and banned users are returned as they are
    /// and judged by the auth service.
    ///
    /// Where from (``DatabaseConfiguration/betterAuthSessionStorage``):
    /// - `.database`: the `session` table. Hits are cached for
    ///   min(``DatabaseConfiguration/sessionCacheTTL``, time until the session expires) under
    ///   the SHA-256 of the token, so a ban or sign-out refuses a new login within that TTL
    ///   (default 2 s); misses are not cached, so a session created by the web app a moment ago
    ///   is found at once.
    /// - `.redis`: better-auth's secondary storage, uncached (a deleted key refuses at once);
    ///   a missing key falls back to the table only with `storeSessionInDatabase`, as
    ///   better-auth's `findSession` does.
    ///
    /// - Throws: ``DatabaseError/unavailable(_:)`` when the store does not answer;
    ///   ``DatabaseError/invalidConfiguration(_:)`` for Redis session storage without Redis.
    public func session(forToken token: String) async throws -> SessionRecord? {
        try await timed(.getSession) {
            let schema = try requireSchema()
            switch configuration.betterAuthSessionStorage {
            case .database:
                return try await tableSession(forToken: token, schema: schema)
            case .redis(let keyPrefix, let storeSessionInDatabase):
                if let value = try await betterAuthSessionStorage(keyPrefix: keyPrefix).value(forToken: token) {
                    // Present but unreadable is "no session", without falling back: what
                    // better-auth's own `findSession` answers for it.
                    return BetterAuthSessionStorage.decode(value)
                }
                return storeSessionInDatabase ? try await tableSession(forToken: token, schema: schema) : nil
            }
        }
    }

    /// The `session` table's row, through the short session cache.
    private func tableSession(forToken token: String, schema: DetectedSchema) async throws -> SessionRecord? {
        let cacheTTL = configuration.sessionCacheTTL
        let key = sessionCacheKey(token)
        if cacheTTL > .zero, let bytes = await cache.get(key, kind: .session),
            let record = try? JSONDecoder().decode(SessionRecord.self, from: Data(bytes))
        {
            return record
        }
        let rows = try await backend.query(sessionQuery(schema: schema, token: token))
        guard let row = rows.first else { return nil }
        let record = try sessionRecord(from: row, schema: schema)
        let untilExpiry = Duration.milliseconds(record.expiresAtMs - Self.nowMs())
        let ttl = min(cacheTTL, untilExpiry)
        if ttl > .zero, let data = try? JSONEncoder().encode(record) {
            await cache.set(key, value: Array(data), ttl: ttl, kind: .session)
        }
        return record
    }

    /// better-auth's storage shares the client of our Redis cache (``DatabaseConfiguration/redis``):
    /// one pool, shut down with the database.
    private func betterAuthSessionStorage(keyPrefix: String) throws -> BetterAuthSessionStorage {
        guard let redis = cache.backing as? RedisCache else {
            throw DatabaseError.invalidConfiguration("better-auth Redis session storage needs redis to be configured")
        }
        return BetterAuthSessionStorage(client: redis.client, keyPrefix: keyPrefix)
    }

    /// `<prefix>session:v2:<sha256 hex of the token>`: the raw token never becomes a key, so a
    /// Redis `KEYS` or `MONITOR` does not reveal usable tokens. v2: the value is the JSON of a
    /// ``SessionRecord`` (v1 held protobuf bytes; see `characterListCacheKey(_:)` for why the
    /// version is in the key).
    func sessionCacheKey(_ token: String) -> String {
        configuration.cacheKeyPrefix + "session:v2:" + hexEncode(SHA256.hash(data: Array(token.utf8)))
    }

    /// `SELECT ... FROM session s JOIN "user" u ON u.id = s."userId" WHERE s.token = $1`,
    /// with the optional plugin columns that exist.
    func sessionQuery(schema: DetectedSchema, token: String) -> SQLStatement {
        let n = names
        var columns = [
            "s.\(n.q(.sessionID)) AS session_id",
            "s.\(n.q(.sessionUserID)) AS user_id",
            "s.\(n.q(.sessionExpiresAt)) AS expires_at",
            "u.\(n.q(.userName)) AS user_name",
            "u.\(n.q(.userEmail)) AS email",
        ]
        let optional: [(AuthNames.Column, String, String)] = [
            (.sessionImpersonatedBy, "s", "impersonated_by"),
            (.userRole, "u", "role"),
            (.userBanned, "u", "banned"),
            (.userBanReason, "u", "ban_reason"),
            (.userBanExpires, "u", "ban_expires"),
            (.userDisplayUsername, "u", "display_username"),
        ]
        for (column, alias, label) in optional where schema.has(column) {
            columns.append("\(alias).\(n.q(column)) AS \(label)")
        }
        let sql = """
            SELECT \(columns.joined(separator: ", "))
            FROM \(quoteIdentifier(AuthNames.sessionTable)) AS s
            JOIN \(quoteIdentifier(AuthNames.userTable)) AS u ON u.\(n.q(.userID)) = s.\(n.q(.sessionUserID))
            WHERE s.\(n.q(.sessionToken)) = $1
            """
        return SQLStatement(sql, [.text(token)])
    }

    func sessionRecord(from row: SQLRow, schema: DetectedSchema) throws -> SessionRecord {
        guard let sessionID = row.string("session_id"), let userID = row.string("user_id"),
            let expiresAt = row.timestampMs("expires_at")
        else { throw DatabaseError.corruptRow("session row without id, user id or expiry") }
        return SessionRecord(
            sessionID: sessionID, userID: userID, userName: row.string("user_name") ?? "",
            email: row.string("email") ?? "", expiresAtMs: expiresAt, banned: row.bool("banned") ?? false,
            banExpiresAtMs: row.timestampMs("ban_expires") ?? 0, banReason: row.string("ban_reason") ?? "",
            roles: row.string("role") ?? "", impersonatedBy: row.string("impersonated_by") ?? "",
            displayUsername: row.string("display_username") ?? "")
    }
}
