import Foundation
import MMORedis
import PostgresNIO

/// Everything ``GameDatabase`` needs, as plain values. The process assembly maps its
/// configuration keys onto this; nothing here reads files or the environment.
public struct DatabaseConfiguration: Sendable {
    /// Where the data lives.
    public enum Backend: Sendable, Equatable {
        /// An SQLite file (embedded mode). The migrations also create better-auth-shaped
        /// `"user"`, `session` and `account` tables, since no web app owns them.
        case sqlite(path: String)
        /// A PostgreSQL server shared with the better-auth web application.
        case postgres(PostgresSettings)

        /// PostgreSQL from a URL such as `postgres://user:pass@host:5432/db?sslmode=require`.
        public static func postgres(url: String, poolSize: Int = 10) throws -> Backend {
            .postgres(try PostgresSettings(url: url, poolSize: poolSize))
        }
    }

    /// How better-auth's columns are named in the shared database.
    public enum AuthNaming: String, Sendable, CaseIterable {
        /// `"userId"`, `"expiresAt"`: better-auth's own CLI migrations, Kysely, Prisma.
        case camelCase
        /// `user_id`, `expires_at`: Drizzle's generator default.
        case snakeCase
    }

    /// Where the web app's better-auth keeps its sessions.
    public enum SessionStorage: Sendable, Equatable {
        /// The `session` table (better-auth without `secondaryStorage`): the default.
        case database
        /// better-auth's `secondaryStorage` in Redis — the Redis of ``DatabaseConfiguration/redis``,
        /// which must then be the web app's. The value under `keyPrefix + token` is
        /// `{"session":{...},"user":{...}}`; `@better-auth/redis-storage` uses the prefix
        /// `better-auth:`, a hand-written storage often none. Read without caching, so a sign-out
        /// (the key deleted) bites at once.
        ///
        /// `storeSessionInDatabase` mirrors better-auth's `session.storeSessionInDatabase`: when
        /// true, a token missing from Redis is looked up in the `session` table, as better-auth's
        /// `findSession` does. Leave it false if the web app sets `preserveSessionInDatabase`
        /// (revoked sessions then stay in the table, and better-auth never falls back to it).
        case redis(keyPrefix: String, storeSessionInDatabase: Bool)
    }

    /// Connection settings for PostgreSQL.
    public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible {
        /// TLS policy, named after libpq's `sslmode`.
        public enum TLSMode: String, Sendable, Equatable {
            /// Plain TCP.
            case disable
            /// TLS if the server offers it, without certificate verification (libpq's default).
            case prefer
            /// TLS required, without certificate verification.
            case require
            /// TLS required; the certificate chain must verify, the host name is not checked.
            case verifyCA = "verify-ca"
            /// TLS required; chain and host name must verify.
            case verifyFull = "verify-full"
        }

        public var host: String
        public var port: Int
        public var username: String
        /// Never included in ``description``.
        public var password: String?
        public var database: String?
        public var tls: TLSMode
        /// Maximum number of pooled connections.
        public var poolSize: Int
        /// Bound on establishing one connection.
        public var connectTimeout: Duration
        /// Bound on waiting for a pooled connection; past it a request fails as unavailable
        /// (instead of waiting for the pool's 60-second circuit breaker when the server is down).
        public var acquireTimeout: Duration

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String? = nil,
            tls: TLSMode = .prefer, poolSize: Int = 10, connectTimeout: Duration = .seconds(10),
            acquireTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
            self.acquireTimeout = acquireTimeout
        }

        /// Parses `postgres://user:pass@host:port/db` (or `postgresql://`). User and password may
        /// be percent-encoded; the port defaults to 5432 and the database to the user name. The
        /// only query parameter read is `sslmode` (disable, prefer, require, verify-ca, verify-full).
        public init(url: String, poolSize: Int = 10) throws {
            // Errors name the problem but never echo the URL: it may contain the password.
            guard let components = URLComponents(string: url) else {
                throw DatabaseError.invalidConfiguration("PostgreSQL URL is malformed")
            }
            guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
                throw DatabaseError.invalidConfiguration("PostgreSQL URL must start with postgres:// or postgresql://")
            }
            guard let host = components.host, !host.isEmpty else {
                throw DatabaseError.invalidConfiguration("PostgreSQL URL has no host")
            }
            guard let user = components.user, !user.isEmpty else {
                throw DatabaseError.invalidConfiguration("PostgreSQL URL has no user name")
            }
            guard poolSize > 0 else {
                throw DatabaseError.invalidConfiguration("PostgreSQL pool size must be positive")
            }
            var tls = TLSMode.prefer
            if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value {
                guard let parsed = TLSMode(rawValue: mode) else {
                    throw DatabaseError.invalidConfiguration("unsupported sslmode '\(mode)'")
                }
                tls = parsed
            }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            self.init(
                // URLComponents keeps the brackets of IPv6 literals.
                host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
                port: components.port ?? 5432,
                username: user,
                password: components.password,
                database: path.isEmpty ? user : (path.removingPercentEncoding ?? path),
                tls: tls,
                poolSize: poolSize)
        }

        public var description: String {
            "postgres://\(username)@\(host):\(port)/\(database ?? username) (sslmode=\(tls.rawValue), pool \(poolSize))"
        }
    }

    /// Default: an SQLite file `mmo.sqlite` in the working directory.
    public var backend: Backend
    /// better-auth column naming in PostgreSQL; SQLite's embedded tables are created with this naming too.
    public var authNaming: AuthNaming
    /// When false, ``GameDatabase/prepare()`` only verifies the schema and names what is missing.
    public var runMigrations: Bool
    /// Redis for the cache; `nil` uses a bounded in-memory cache (one process only).
    public var redis: RedisClientConfiguration?
    /// Upper bound for caching a session lookup read from the `session` table: a ban or
    /// sign-out on the web app refuses a new login within this time. Zero caches nothing.
    public var sessionCacheTTL: Duration
    /// Where better-auth's sessions are read from.
    public var betterAuthSessionStorage: SessionStorage
    /// How long an account's character list may be served from the cache.
    public var characterCacheTTL: Duration
    /// Prepended to every cache key (after Redis's own `keyPrefix`, if any).
    public var cacheKeyPrefix: String
    /// Maximum entries of the in-memory cache.
    public var inMemoryCacheCapacity: Int

    public init(
        backend: Backend = .sqlite(path: "mmo.sqlite"),
        authNaming: AuthNaming = .camelCase,
        runMigrations: Bool = true,
        redis: RedisClientConfiguration? = nil,
        sessionCacheTTL: Duration = .seconds(2),
        characterCacheTTL: Duration = .seconds(300),
        cacheKeyPrefix: String = "mmo:",
        inMemoryCacheCapacity: Int = 10_000,
        betterAuthSessionStorage: SessionStorage = .database
    ) {
        self.backend = backend
        self.authNaming = authNaming
        self.runMigrations = runMigrations
        self.redis = redis
        self.sessionCacheTTL = sessionCacheTTL
        self.characterCacheTTL = characterCacheTTL
        self.cacheKeyPrefix = cacheKeyPrefix
        self.inMemoryCacheCapacity = inMemoryCacheCapacity
        self.betterAuthSessionStorage = betterAuthSessionStorage
    }
}

extension DatabaseConfiguration {
    /// Whether sessions are ever read from the `session` table (so it must exist at start).
    var readsSessionTable: Bool {
        switch betterAuthSessionStorage {
        case .database: true
        case .redis(_, let storeSessionInDatabase): storeSessionInDatabase
        }
    }
}

extension DatabaseConfiguration.PostgresSettings.TLSMode {
    var postgresTLS: PostgresClient.Configuration.TLS {
        switch self {
        case .disable:
            return .disable
        case .prefer, .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return self == .prefer ? .prefer(tls) : .require(tls)
        case .verifyCA:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .verifyFull:
            return .require(TLSConfiguration.makeClientConfiguration())
        }
    }
}
