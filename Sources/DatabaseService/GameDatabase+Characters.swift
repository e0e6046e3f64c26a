import Foundation

extension GameDatabase {
    /// The account's live (not deleted) characters, oldest first. Cached per account for
    /// ``DatabaseConfiguration/characterCacheTTL``; every write through this type invalidates it.
    public func characters(account: String) async throws -> [CharacterRecord] {
        try await timed(.listCharacters) {
            _ = try requireSchema()
            let key = characterListCacheKey(account)
            if let bytes = await cache.get(key, kind: .characters),
                let cached = try? JSONDecoder().decode([CharacterRecord].self, from: Data(bytes))
            {
                return cached
            }
            let epoch = characterWriteEpoch.load(ordering: .acquiring)
            let rows = try await backend.query(
                SQLStatement(
                    "SELECT \(Self.characterColumns) FROM characters WHERE account_id = $1 AND deleted_at IS NULL ORDER BY created_at, id",
                    [.text(account)]))
            let characters = try rows.map(Self.character(from:))
            await cacheCharacterList(characters, key: key, readAtEpoch: epoch)
            return characters
        }
    }

    /// One live character owned by `account`, or nil (also when it belongs to another account).
    /// Served from the account's (cached) character list.
    public func character(account: String, id: UInt64) async throws -> CharacterRecord? {
        try await characters(account: account).first { $0.id == id }
    }

    /// Creates a character if the name is free among live characters (case-insensitively) and
    /// the account has fewer than `maxCharacters` live characters. Both rules hold under
    /// concurrency: the unique index on `name_key` decides name races, and on PostgreSQL the
    /// account's `game_accounts` row is locked (`FOR UPDATE`) while counting, so concurrent
    /// creates on one account are serialized; SQLite serializes all writers anyway.
    public func createCharacter(
        account: String, name: String, classID: UInt32, appearance: UInt32,
        zoneID: UInt32, x: Float, y: Float, maxCharacters: Int
    ) async throws -> CreateCharacterOutcome {
        try await timed(.createCharacter) {
            _ = try requireSchema()
            let now = Self.nowMs()
            let dialect = backend.dialect
            let result: CreateCharacterOutcome
            do {
                result = try await backend.transaction { db in
                    _ = try await db.query(
                        SQLStatement(
                            "INSERT INTO game_accounts (account_id, created_at, last_login_at) VALUES ($1, $2, $2) ON CONFLICT (account_id) DO NOTHING",
                            [.text(account), .timestampMs(now)]))
                    if dialect == .postgres {
                        _ = try await db.query(
                            SQLStatement("SELECT account_id FROM game_accounts WHERE account_id = $1 FOR UPDATE", [.text(account)]))
                    }
                    let count = try await db.query(
                        SQLStatement(
                            "SELECT count(*) AS n FROM characters WHERE account_id = $1 AND deleted_at IS NULL",
                            [.text(account)]))
                    guard (count.first?.int("n") ?? 0) < Int64(maxCharacters) else {
                        return .slotLimit
                    }
                    // DO NOTHING instead of an error on a name clash: on PostgreSQL an error would
                    // abort the transaction; this way the clash is just "no row returned".
                    let inserted = try await db.query(
                        SQLStatement(
                            """
                            INSERT INTO characters (account_id, name, name_key, class_id, appearance, level, zone_id, x, y, created_at, updated_at)
                            VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $9)
                            ON CONFLICT (name_key) WHERE deleted_at IS NULL DO NOTHING
                            RETURNING \(Self.characterColumns)
                            """,
                            [
                                .text(account), .text(name), .text(Self.nameKey(name)), .int(Int64(classID)),
                                .int(Int64(appearance)), .int(Int64(zoneID)), .double(Double(x)), .double(Double(y)),
                                .timestampMs(now),
                            ]))
                    guard let row = inserted.first else { return .nameTaken }
                    return .created(try Self.character(from: row))
                }
            } catch where backend.classify(error) == .uniqueViolation {
                // Backstop: any unique violation that slips past ON CONFLICT is a name race lost.
                return .nameTaken
            }
            if case .created = result {
                await invalidateCharacterLists([account])
            }
            return result
        }
    }

    /// Soft-deletes a live character owned by `account`; its name becomes free.
    /// Returns false if there was no such character.
    public func deleteCharacter(account: String, id: UInt64) async throws -> Bool {
        try await timed(.deleteCharacter) {
            _ = try requireSchema()
            guard let id = Int64(exactly: id) else { return false }
            let now = Self.nowMs()
            let rows = try await backend.query(
                SQLStatement(
                    "UPDATE characters SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL RETURNING id",
                    [.int(id), .text(account), .timestampMs(now)]))
            guard !rows.isEmpty else { return false }
            await invalidateCharacterLists([account])
            return true
        }
    }

    /// Persists zone and position of live characters in one transaction, each only if its
    /// `version` is greater than the stored one (see ``CharacterStateUpdate/version``): an older
    /// state arriving late never overwrites a newer one, whichever world process sent it. When a
    /// character appears more than once, its greatest version wins (the last one on a tie).
    /// Returns how many characters were updated (unknown and deleted characters, and states not
    /// newer than the stored one, are skipped).
    public func saveCharacterStates(_ states: [CharacterStateUpdate]) async throws -> Int {
        try await timed(.saveCharacterStates) {
            _ = try requireSchema()
            var latest: [UInt64: CharacterStateUpdate] = [:]
            var order: [UInt64] = []
            for state in states {
                if let known = latest[state.characterID] {
                    if state.version >= known.version { latest[state.characterID] = state }
                } else {
                    latest[state.characterID] = state
                    order.append(state.characterID)
                }
            }
            guard !order.isEmpty else { return 0 }
            let now = Self.nowMs()
            let (saved, accounts) = try await backend.transaction { [order, latest] db -> (Int, Set<String>) in
                var saved = 0
                var accounts = Set<String>()
                // Ascending id order: two concurrent batches lock rows in the same order, no deadlock.
                for id in order.sorted() {
                    guard let state = latest[id], let rowID = Int64(exactly: id) else { continue }
                    // The version check is in the UPDATE itself, so it holds under concurrent
                    // writers: the row lock orders them and the loser sees the newer version.
                    // Version 0 (unversioned) only replaces a state that was never versioned.
                    let newer = state.version == 0 ? "state_version = 0" : "state_version < $6"
                    let rows = try await db.query(
                        SQLStatement(
                            "UPDATE characters SET zone_id = $2, x = $3, y = $4, updated_at = $5, state_version = $6 WHERE id = $1 AND deleted_at IS NULL AND \(newer) RETURNING account_id",
                            [
                                .int(rowID), .int(Int64(state.zoneID)), .double(Double(state.x)), .double(Double(state.y)),
                                .timestampMs(now), .int(Int64(clamping: state.version)),
                            ]))
                    if let account = rows.first?.string("account_id") {
                        saved += 1
                        accounts.insert(account)
                    }
                }
                return (saved, accounts)
            }
            await invalidateCharacterLists(Array(accounts))
            return saved
        }
    }

    // MARK: helpers

    static let characterColumns = "id, account_id, name, class_id, appearance, level, zone_id, x, y, created_at, state_version"

    /// The uniqueness key of a name: case-insensitive, computed here (not with SQL `lower()`,
    /// which differs between PostgreSQL collations and SQLite's ASCII-only `lower`).
    static func nameKey(_ name: String) -> String { name.lowercased() }

    static func character(from row: SQLRow) throws -> CharacterRecord {
        func uint32(_ column: String) throws -> UInt32 {
            guard let value = row.int(column), let result = UInt32(exactly: value) else {
                throw DatabaseError.corruptRow("characters.\(column) is not a uint32")
            }
            return result
        }
        guard let id = row.int("id"), let unsignedID = UInt64(exactly: id), let account = row.string("account_id"),
            let name = row.string("name")
        else { throw DatabaseError.corruptRow("character row without id, account or name") }
        return CharacterRecord(
            id: unsignedID, accountID: account, name: name, classID: try uint32("class_id"),
            appearance: try uint32("appearance"), level: try uint32("level"), zoneID: try uint32("zone_id"),
            x: Float(row.double("x") ?? 0), y: Float(row.double("y") ?? 0),
            createdAtMs: row.timestampMs("created_at") ?? 0,
            // Stored as a signed 64-bit integer; the world's versions are far below 2^63.
            stateVersion: UInt64(clamping: row.int("state_version") ?? 0))
    }

    /// `<prefix>characters:v2:<account>`. v2: the value is the JSON of `[CharacterRecord]`;
    /// v1 (no version segment) held protobuf bytes. The bump keeps a process of either version
    /// from decoding the other's bytes during a rolling deploy (protobuf decoding of foreign
    /// bytes can succeed with garbage); old entries simply expire.
    func characterListCacheKey(_ account: String) -> String {
        configuration.cacheKeyPrefix + "characters:v2:" + account
    }

    /// Caches a list read from the database unless a character write committed since the read
    /// began. After storing, re-checks and deletes if a write slipped in between the check and
    /// the store; together with writers bumping the epoch *before* deleting, a stale list cannot
    /// outlive a write made by this process. (Writers in other processes: bounded by the TTL.)
    func cacheCharacterList(_ characters: [CharacterRecord], key: String, readAtEpoch epoch: UInt64) async {
        guard characterWriteEpoch.load(ordering: .acquiring) == epoch else { return }
        guard let data = try? JSONEncoder().encode(characters) else { return }
        await cache.set(key, value: Array(data), ttl: configuration.characterCacheTTL, kind: .characters)
        if characterWriteEpoch.load(ordering: .acquiring) != epoch {
            await cache.delete([key], kind: .characters)
        }
    }

    /// Call after a committed write.
    func invalidateCharacterLists(_ accounts: [String]) async {
        characterWriteEpoch.add(1, ordering: .acquiringAndReleasing)
        guard !accounts.isEmpty else { return }
        await cache.delete(accounts.map(characterListCacheKey), kind: .characters)
    }
}
