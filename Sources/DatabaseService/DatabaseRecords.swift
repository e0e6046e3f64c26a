/// The domain values ``GameDatabase`` speaks. They are independent of the gRPC contract: the
/// mapping to and from `Mmo_*` lives in `DatabaseGRPCService+Contracts.swift`, so a `.proto`
/// change touches only that adapter.
///
/// `Codable` because the cache stores them (JSON, under versioned keys; see
/// `GameDatabase.characterListCacheKey(_:)` and `sessionCacheKey(_:)`).

/// A live character row.
public struct CharacterRecord: Sendable, Hashable, Codable {
    /// Starts at 1; assigned by the database.
    public var id: UInt64
    /// The better-auth user id that owns the character.
    public var accountID: String
    public var name: String
    public var classID: UInt32
    /// Four packed bytes (see `CharacterRules.isValidAppearance` in the character service).
    public var appearance: UInt32
    public var level: UInt32
    /// 0 means "never saved into a zone".
    public var zoneID: UInt32
    public var x: Float
    public var y: Float
    /// Unix epoch milliseconds.
    public var createdAtMs: Int64
    /// The version of the saved zone and position (``CharacterStateUpdate/version``); 0 when
    /// never saved by a world that sends versions.
    public var stateVersion: UInt64

    init(
        id: UInt64, accountID: String, name: String, classID: UInt32, appearance: UInt32, level: UInt32,
        zoneID: UInt32, x: Float, y: Float, createdAtMs: Int64, stateVersion: UInt64 = 0
    ) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.classID = classID
        self.appearance = appearance
        self.level = level
        self.zoneID = zoneID
        self.x = x
        self.y = y
        self.createdAtMs = createdAtMs
        self.stateVersion = stateVersion
    }
}

/// What ``GameDatabase/createCharacter(account:name:classID:appearance:zoneID:x:y:maxCharacters:)`` did.
public enum CreateCharacterOutcome: Sendable, Hashable {
    case created(CharacterRecord)
    /// A live character (of any account) has this name, compared case-insensitively.
    case nameTaken
    /// The account already has the maximum number of live characters.
    case slotLimit
}

/// A character's saved place in the world, as the world service persists it.
public struct CharacterStateUpdate: Sendable, Hashable {
    public var characterID: UInt64
    public var zoneID: UInt32
    public var x: Float
    public var y: Float
    /// Orders saves of one character: a save is applied only if its version is greater than the
    /// stored one, so an older state arriving late (a retried batch, a second world process)
    /// never overwrites a newer one. The world uses wall-clock microseconds, made strictly
    /// increasing per process (docs/world-service.md, "Saving"). 0 means "unversioned" (a
    /// world that sends none) and lands only on a character never saved with a version.
    public var version: UInt64

    /// Creates an update for one character.
    public init(characterID: UInt64, zoneID: UInt32, x: Float, y: Float, version: UInt64 = 0) {
        self.characterID = characterID
        self.zoneID = zoneID
        self.x = x
        self.y = y
        self.version = version
    }
}

/// A better-auth session joined with its user: facts, not a verdict. Expired sessions and
/// banned users are returned as stored; the auth service judges them.
///
/// Optional better-auth plugin columns that are absent read as `false` / `0` / `""`.
public struct SessionRecord: Sendable, Hashable, Codable {
    public var sessionID: String
    public var userID: String
    public var userName: String
    public var email: String
    /// Unix epoch milliseconds.
    public var expiresAtMs: Int64
    public var banned: Bool
    /// Unix epoch milliseconds; 0 when the ban (if any) does not expire.
    public var banExpiresAtMs: Int64
    public var banReason: String
    /// The admin plugin's comma-separated `role` column, as stored.
    public var roles: String
    /// The admin's user id when the session is an impersonation, else empty.
    public var impersonatedBy: String
    public var displayUsername: String

    init(
        sessionID: String, userID: String, userName: String, email: String, expiresAtMs: Int64,
        banned: Bool = false, banExpiresAtMs: Int64 = 0, banReason: String = "", roles: String = "",
        impersonatedBy: String = "", displayUsername: String = ""
    ) {
        self.sessionID = sessionID
        self.userID = userID
        self.userName = userName
        self.email = email
        self.expiresAtMs = expiresAtMs
        self.banned = banned
        self.banExpiresAtMs = banExpiresAtMs
        self.banReason = banReason
        self.roles = roles
        self.impersonatedBy = impersonatedBy
        self.displayUsername = displayUsername
    }
}
