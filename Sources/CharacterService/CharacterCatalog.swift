import Metrics

/// Where a new character starts, and where a character that was never saved into a zone enters.
///
/// Deliberately without a default: the process assembly derives it from the world's first zone
/// (`WorldConfiguration.zones[0]`, the zone the world puts zone-id-0 characters in), so the
/// character and world services cannot disagree about it.
public struct SpawnPoint: Sendable, Hashable {
    public var zoneID: UInt32
    public var x: Float
    public var y: Float

    /// Creates a spawn point; `zoneID` must not be 0 ("no zone").
    public init(zoneID: UInt32, x: Float, y: Float) {
        precondition(zoneID != 0, "zone id 0 means 'no zone'")
        self.zoneID = zoneID
        self.x = x
        self.y = y
    }
}

/// Character service configuration: the rules. (The spawn point is not configured here; see
/// ``SpawnPoint``.)
public struct CharacterConfiguration: Sendable {
    public var rules: CharacterRules

    /// Creates a configuration with the given (default) rules.
    public init(rules: CharacterRules = CharacterRules()) {
        self.rules = rules
    }
}

/// A character as the character service sees it.
struct PlayerCharacter: Sendable, Hashable {
    var id: UInt64
    var accountID: String
    var name: String
    var classID: UInt32
    var appearance: UInt32
    var level: UInt32
    /// 0: never saved into a zone.
    var zoneID: UInt32
    var x: Float
    var y: Float
    var createdAtMs: Int64
    /// The version of the saved zone and position, as the world gave it; 0 when never
    /// versioned. Passed through untouched: the world compares it with its retained live state
    /// and keeps the newer (docs/world-service.md).
    var stateVersion: UInt64 = 0
}

/// What the store did with a create request.
enum StoredCreation: Sendable, Hashable {
    case created(PlayerCharacter)
    case nameTaken
    case slotLimit
}

/// The characters' storage: the database service in production, a dictionary in tests. It
/// enforces name uniqueness and the slot limit atomically; the catalog decides what to ask.
protocol CharacterStore: Sendable {
    /// The account's live characters, oldest first.
    func characters(account: String) async throws -> [PlayerCharacter]
    /// One live character of the account, or nil (also when another account owns it).
    func character(account: String, id: UInt64) async throws -> PlayerCharacter?
    /// Creates a character at `spawn` unless the name is taken or the account has `maxCharacters`.
    func create(
        account: String, name: String, classID: UInt32, appearance: UInt32, spawn: SpawnPoint, maxCharacters: Int
    ) async throws -> StoredCreation
    /// Soft-deletes a live character of the account; false when there was none.
    func delete(account: String, id: UInt64) async throws -> Bool
}

/// Why a create request was refused. ``detail`` is safe to show to the player.
enum CreateRefusal: Sendable, Equatable {
    case nameInvalid(CharacterRules.NameProblem)
    case classInvalid(UInt32)
    case appearanceInvalid
    case nameTaken
    case slotLimit(max: Int)

    /// The player-facing reason.
    var detail: String {
        switch self {
        case .nameInvalid(let problem): problem.description
        case .classInvalid(let classID): "unknown class \(classID)"
        case .appearanceInvalid: "appearance out of range"
        case .nameTaken: "that name is taken"
        case .slotLimit(let max): "no free character slot (max \(max))"
        }
    }
}

/// The outcome of ``CharacterCatalog/create(account:name:classID:appearance:)``.
enum CharacterCreation: Sendable, Equatable {
    case created(PlayerCharacter)
    case refused(CreateRefusal)

    /// The `status` dimension of `mmo_character_creates_total`.
    var metricLabel: String {
        switch self {
        case .created: "ok"
        case .refused(.nameInvalid): "nameInvalid"
        case .refused(.classInvalid): "classInvalid"
        case .refused(.appearanceInvalid): "appearanceInvalid"
        case .refused(.nameTaken): "nameTaken"
        case .refused(.slotLimit): "slotLimit"
        }
    }
}

/// Refusals of a request as a whole (the gRPC edge maps them to `invalidArgument`).
enum CharacterRequestError: Error, Equatable {
    /// Empty, or longer than ``CharacterCatalog/maxAccountIDBytes``.
    case invalidAccount
}

/// The character service's core: applies ``CharacterRules`` and the spawn point, then asks a
/// ``CharacterStore``. No protobuf, no I/O of its own.
struct CharacterCatalog: Sendable {
    /// Longer account ids are refused before reaching the store.
    static let maxAccountIDBytes = 255

    let store: any CharacterStore
    let rules: CharacterRules
    let spawn: SpawnPoint

    /// The account's characters and how many it may have.
    func list(account: String) async throws -> (characters: [PlayerCharacter], maxCharacters: Int) {
        try Self.requireAccount(account)
        return (try await store.characters(account: account), rules.maxCharactersPerAccount)
    }

    /// Validates name (normalizing it), class and appearance, in that order, then creates the
    /// character at the spawn point. Each outcome is counted.
    func create(account: String, name: String, classID: UInt32, appearance: UInt32) async throws -> CharacterCreation {
        try Self.requireAccount(account)
        let creation = try await decideCreate(account: account, name: name, classID: classID, appearance: appearance)
        Counter(label: "mmo_character_creates_total", dimensions: [("status", creation.metricLabel)]).increment()
        return creation
    }

    private func decideCreate(account: String, name: String, classID: UInt32, appearance: UInt32) async throws -> CharacterCreation {
        let normalized: String
        switch rules.normalizeName(name) {
        case .failure(let problem): return .refused(.nameInvalid(problem))
        case .success(let name): normalized = name
        }
        guard rules.isValidClass(classID) else { return .refused(.classInvalid(classID)) }
        guard rules.isValidAppearance(appearance) else { return .refused(.appearanceInvalid) }
        switch try await store.create(
            account: account, name: normalized, classID: classID, appearance: appearance, spawn: spawn,
            maxCharacters: rules.maxCharactersPerAccount)
        {
        case .created(let character): return .created(character)
        case .nameTaken: return .refused(.nameTaken)
        case .slotLimit: return .refused(.slotLimit(max: rules.maxCharactersPerAccount))
        }
    }

    /// Deletes one of the account's characters; false when it has no such character.
    func delete(account: String, id: UInt64) async throws -> Bool {
        try Self.requireAccount(account)
        return try await store.delete(account: account, id: id)
    }

    /// The account's character, placed at the spawn point if it was never saved into a zone;
    /// nil when the account has no such character.
    func select(account: String, id: UInt64) async throws -> PlayerCharacter? {
        try Self.requireAccount(account)
        guard var character = try await store.character(account: account, id: id) else { return nil }
        if character.zoneID == 0 {
            character.zoneID = spawn.zoneID
            character.x = spawn.x
            character.y = spawn.y
        }
        return character
    }

    static func requireAccount(_ account: String) throws {
        guard !account.isEmpty, account.utf8.count <= maxAccountIDBytes else { throw CharacterRequestError.invalidAccount }
    }
}
