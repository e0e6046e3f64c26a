/// One versioned schema change. Applied at most once per database, inside a transaction,
/// and recorded in `schema_migrations`.
struct Migration: Sendable {
    let version: Int
    let name: String
    /// The statements for a dialect and better-auth naming. An empty list means "nothing to do
    /// on this backend"; the version is still recorded so version numbers mean the same everywhere.
    let statements: @Sendable (SQLDialect, AuthNames) -> [String]
}

/// Our tables: `schema_migrations`, `game_accounts`, `characters` — and, in SQLite mode only,
/// better-auth-shaped tables. Nothing here ever creates or alters better-auth's tables on PostgreSQL.
enum Migrations {
    /// Append only: never edit or reorder a released migration.
    static let all: [Migration] = [
        Migration(version: 1, name: "embedded_auth_tables") { dialect, names in
            // PostgreSQL: the better-auth web app owns these tables.
            dialect == .sqlite ? sqliteAuthTables(names) : []
        },
        Migration(version: 2, name: "create_game_accounts") { dialect, _ in
            switch dialect {
            case .postgres:
                return [
                    """
                    CREATE TABLE game_accounts (
                        account_id text PRIMARY KEY,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        last_login_at timestamptz
                    )
                    """
                ]
            case .sqlite:
                return [
                    """
                    CREATE TABLE game_accounts (
                        account_id TEXT PRIMARY KEY NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_login_at INTEGER
                    )
                    """
                ]
            }
        },
        Migration(version: 3, name: "create_characters") { dialect, _ in
            let indexes = [
                // Names are unique among live characters only: a deleted character frees its name.
                "CREATE UNIQUE INDEX characters_name_key_live_uidx ON characters (name_key) WHERE deleted_at IS NULL",
                "CREATE INDEX characters_account_id_idx ON characters (account_id)",
            ]
            switch dialect {
            case .postgres:
                // uint32 protocol fields are bigint: PostgreSQL has no unsigned 32-bit type.
                return [
                    """
                    CREATE TABLE characters (
                        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        account_id text NOT NULL REFERENCES game_accounts (account_id),
                        name text NOT NULL,
                        name_key text NOT NULL,
                        class_id bigint NOT NULL,
                        appearance bigint NOT NULL,
                        level integer NOT NULL DEFAULT 1,
                        zone_id bigint NOT NULL,
                        x real NOT NULL,
                        y real NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now(),
                        deleted_at timestamptz
                    )
                    """
                ] + indexes
            case .sqlite:
                // AUTOINCREMENT: ids of deleted rows are never reused (soft deletes keep rows,
                // but a manual purge must not hand an old id to a new character).
                return [
                    """
                    CREATE TABLE characters (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account_id TEXT NOT NULL REFERENCES game_accounts (account_id),
                        name TEXT NOT NULL,
                        name_key TEXT NOT NULL,
                        class_id INTEGER NOT NULL,
                        appearance INTEGER NOT NULL,
                        level INTEGER NOT NULL DEFAULT 1,
                        zone_id INTEGER NOT NULL,
                        x REAL NOT NULL,
                        y REAL NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        deleted_at INTEGER
                    )
                    """
                ] + indexes
            }
        },
        Migration(version: 4, name: "add_characters_state_version") { dialect, _ in
            // Orders position saves: an UPDATE applies only with a greater version
            // (GameDatabase.saveCharacterStates). 0 = never saved with a version.
            switch dialect {
            case .postgres: return ["ALTER TABLE characters ADD COLUMN state_version bigint NOT NULL DEFAULT 0"]
            case .sqlite: return ["ALTER TABLE characters ADD COLUMN state_version INTEGER NOT NULL DEFAULT 0"]
            }
        },
    ]

    /// The bookkeeping table; created before any migration runs.
    static func schemaMigrationsTable(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .postgres:
            return """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
        case .sqlite:
            return """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """
        }
    }

    /// Versions must be positive and strictly increasing, names unique: checked by tests and at startup.
    static func validate(_ migrations: [Migration]) throws {
        var previous = 0
        var names = Set<String>()
        for migration in migrations {
            guard migration.version > previous else {
                throw DatabaseError.invalidConfiguration(
                    "migration \(migration.version) \(migration.name) is out of order")
            }
            guard names.insert(migration.name).inserted else {
                throw DatabaseError.invalidConfiguration("duplicate migration name \(migration.name)")
            }
            previous = migration.version
        }
    }

    /// better-auth's core tables plus the admin and username plugin columns and v1.7's `issuer`,
    /// shaped like its PostgreSQL DDL but with SQLite types: we write timestamps as INTEGER Unix
    /// milliseconds and booleans as 0/1 (readers also accept seconds and ISO-8601 text, in case
    /// another tool writes the file).
    static func sqliteAuthTables(_ names: AuthNames) -> [String] {
        let n = names
        let user = quoteIdentifier(AuthNames.userTable)
        let session = quoteIdentifier(AuthNames.sessionTable)
        let account = quoteIdentifier(AuthNames.accountTable)
        let verification = quoteIdentifier(AuthNames.verificationTable)
        func col(_ logical: String) -> String {
            quoteIdentifier(n.naming == .camelCase ? logical : AuthNames.snakeCase(logical))
        }
        return [
            """
            CREATE TABLE \(user) (
                \(n.q(.userID)) TEXT NOT NULL PRIMARY KEY,
                \(n.q(.userName)) TEXT NOT NULL,
                \(n.q(.userEmail)) TEXT NOT NULL UNIQUE,
                \(n.q(.userEmailVerified)) INTEGER NOT NULL,
                \(n.q(.userImage)) TEXT,
                \(n.q(.userCreatedAt)) INTEGER NOT NULL,
                \(n.q(.userUpdatedAt)) INTEGER NOT NULL,
                \(n.q(.userRole)) TEXT,
                \(n.q(.userBanned)) INTEGER,
                \(n.q(.userBanReason)) TEXT,
                \(n.q(.userBanExpires)) INTEGER,
                \(n.q(.userUsername)) TEXT UNIQUE,
                \(n.q(.userDisplayUsername)) TEXT
            )
            """,
            """
            CREATE TABLE \(session) (
                \(n.q(.sessionID)) TEXT NOT NULL PRIMARY KEY,
                \(n.q(.sessionExpiresAt)) INTEGER NOT NULL,
                \(n.q(.sessionToken)) TEXT NOT NULL UNIQUE,
                \(n.q(.sessionCreatedAt)) INTEGER NOT NULL,
                \(n.q(.sessionUpdatedAt)) INTEGER NOT NULL,
                \(n.q(.sessionIPAddress)) TEXT,
                \(n.q(.sessionUserAgent)) TEXT,
                \(n.q(.sessionUserID)) TEXT NOT NULL REFERENCES \(user) (\(n.q(.userID))) ON DELETE CASCADE,
                \(n.q(.sessionImpersonatedBy)) TEXT
            )
            """,
            """
            CREATE TABLE \(account) (
                \(n.q(.accountID)) TEXT NOT NULL PRIMARY KEY,
                \(n.q(.accountAccountID)) TEXT NOT NULL,
                \(n.q(.accountProviderID)) TEXT NOT NULL,
                \(n.q(.accountUserID)) TEXT NOT NULL REFERENCES \(user) (\(n.q(.userID))) ON DELETE CASCADE,
                \(col("accessToken")) TEXT,
                \(col("refreshToken")) TEXT,
                \(col("idToken")) TEXT,
                \(col("accessTokenExpiresAt")) INTEGER,
                \(col("refreshTokenExpiresAt")) INTEGER,
                \(col("scope")) TEXT,
                \(n.q(.accountPassword)) TEXT,
                \(n.q(.accountCreatedAt)) INTEGER NOT NULL,
                \(n.q(.accountUpdatedAt)) INTEGER NOT NULL,
                \(n.q(.accountIssuer)) TEXT NOT NULL DEFAULT 'local:credential'
            )
            """,
            """
            CREATE TABLE \(verification) (
                \(col("id")) TEXT NOT NULL PRIMARY KEY,
                \(col("identifier")) TEXT NOT NULL,
                \(col("value")) TEXT NOT NULL,
                \(col("expiresAt")) INTEGER NOT NULL,
                \(col("createdAt")) INTEGER,
                \(col("updatedAt")) INTEGER
            )
            """,
            "CREATE INDEX \(quoteIdentifier("session_userId_idx")) ON \(session) (\(n.q(.sessionUserID)))",
            "CREATE INDEX \(quoteIdentifier("account_userId_idx")) ON \(account) (\(n.q(.accountUserID)))",
            "CREATE UNIQUE INDEX \(quoteIdentifier("account_issuer_accountId_uidx")) ON \(account) (\(n.q(.accountIssuer)), \(n.q(.accountAccountID)))",
            "CREATE INDEX \(quoteIdentifier("verification_identifier_idx")) ON \(verification) (\(col("identifier")))",
        ]
    }
}

/// Tables and columns of our own schema, checked when migrations are off.
enum GameTables {
    static let required: [(table: String, columns: [String])] = [
        ("schema_migrations", ["version", "name", "applied_at"]),
        ("game_accounts", ["account_id", "created_at", "last_login_at"]),
        (
            "characters",
            [
                "id", "account_id", "name", "name_key", "class_id", "appearance", "level", "zone_id", "x", "y",
                "created_at", "updated_at", "deleted_at", "state_version",
            ]
        ),
    ]
}
