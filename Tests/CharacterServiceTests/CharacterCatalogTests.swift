import Synchronization
import Testing

@testable import CharacterService

/// An in-memory store that enforces names and slots like the database, and records requests.
final class MemoryStore: CharacterStore {
    struct State {
        var characters: [PlayerCharacter] = []
        var nextID: UInt64 = 1
        var createRequests: [(name: String, spawn: SpawnPoint, maxCharacters: Int)] = []
    }

    let state = Mutex(State())

    func characters(account: String) async throws -> [PlayerCharacter] {
        state.withLock { $0.characters.filter { $0.accountID == account } }
    }

    func character(account: String, id: UInt64) async throws -> PlayerCharacter? {
        state.withLock { $0.characters.first { $0.accountID == account && $0.id == id } }
    }

    func create(
        account: String, name: String, classID: UInt32, appearance: UInt32, spawn: SpawnPoint, maxCharacters: Int
    ) async throws -> StoredCreation {
        state.withLock { state in
            state.createRequests.append((name, spawn, maxCharacters))
            if state.characters.contains(where: { $0.name.lowercased() == name.lowercased() }) { return .nameTaken }
            if state.characters.filter({ $0.accountID == account }).count >= maxCharacters { return .slotLimit }
            let character = PlayerCharacter(
                id: state.nextID, accountID: account, name: name, classID: classID, appearance: appearance, level: 1,
                zoneID: spawn.zoneID, x: spawn.x, y: spawn.y, createdAtMs: 1)
            state.nextID += 1
            state.characters.append(character)
            return .created(character)
        }
    }

    func delete(account: String, id: UInt64) async throws -> Bool {
        state.withLock { state in
            guard let index = state.characters.firstIndex(where: { $0.accountID == account && $0.id == id }) else { return false }
            state.characters.remove(at: index)
            return true
        }
    }

    /// Stores a character as if the world had saved it (or never had: zone 0).
    func insert(account: String, id: UInt64, zoneID: UInt32, x: Float, y: Float) {
        state.withLock {
            $0.characters.append(
                PlayerCharacter(
                    id: id, accountID: account, name: "Stored\(id)", classID: 1, appearance: 0, level: 3, zoneID: zoneID,
                    x: x, y: y, createdAtMs: 1))
        }
    }
}

/// A store that must not be reached: requests refused by the rules never get this far.
struct UnreachableStore: CharacterStore {
    struct Reached: Error {}
    func characters(account: String) async throws -> [PlayerCharacter] { throw Reached() }
    func character(account: String, id: UInt64) async throws -> PlayerCharacter? { throw Reached() }
    func create(
        account: String, name: String, classID: UInt32, appearance: UInt32, spawn: SpawnPoint, maxCharacters: Int
    ) async throws -> StoredCreation { throw Reached() }
    func delete(account: String, id: UInt64) async throws -> Bool { throw Reached() }
}

@Suite struct CharacterCatalogTests {
    let spawn = SpawnPoint(zoneID: 4, x: 123.5, y: 678.25)

    func catalog(_ store: any CharacterStore, maxCharacters: Int = 8) -> CharacterCatalog {
        CharacterCatalog(store: store, rules: CharacterRules(maxCharactersPerAccount: maxCharacters), spawn: spawn)
    }

    @Test func createNormalizesTheNameAndStartsAtTheSpawnPoint() async throws {
        let store = MemoryStore()
        let result = try await catalog(store, maxCharacters: 3).create(account: "a", name: "aRTHAS", classID: 2, appearance: 0x0F0F_0F07)
        guard case .created(let character) = result else {
            Issue.record("expected created, got \(result)")
            return
        }
        #expect(character.name == "Arthas" && character.classID == 2 && character.appearance == 0x0F0F_0F07)
        #expect(character.zoneID == 4 && character.x == 123.5 && character.y == 678.25)
        let request = try #require(store.state.withLock { $0.createRequests.first })
        #expect(request.name == "Arthas" && request.spawn == spawn && request.maxCharacters == 3)
    }

    @Test func eachRefusalHasItsStatusAndDetail() async throws {
        let store = MemoryStore()
        let c = catalog(store, maxCharacters: 1)
        #expect(try await c.create(account: "a", name: "ab", classID: 1, appearance: 0)
            == .refused(.nameInvalid(.tooShort(min: 3))))
        #expect(try await c.create(account: "a", name: "Ab1", classID: 1, appearance: 0)
            == .refused(.nameInvalid(.invalidCharacters)))
        #expect(try await c.create(account: "a", name: "Valid", classID: 9, appearance: 0) == .refused(.classInvalid(9)))
        #expect(try await c.create(account: "a", name: "Valid", classID: 1, appearance: 8) == .refused(.appearanceInvalid))
        #expect(store.state.withLock { $0.createRequests.isEmpty }, "refused by the rules before reaching the store")

        guard case .created = try await c.create(account: "a", name: "Valid", classID: 1, appearance: 0) else {
            Issue.record("expected created")
            return
        }
        #expect(try await c.create(account: "b", name: "VALID", classID: 1, appearance: 0) == .refused(.nameTaken))
        #expect(try await c.create(account: "a", name: "Other", classID: 1, appearance: 0) == .refused(.slotLimit(max: 1)))
    }

    @Test(arguments: [
        (CreateRefusal.nameInvalid(.tooShort(min: 3)), "name must be at least 3 letters"),
        (.nameInvalid(.tooLong(max: 16)), "name must be at most 16 letters"),
        (.nameInvalid(.invalidCharacters), "name may contain only the letters A-Z"),
        (.nameInvalid(.repeatedLetters), "name may not repeat a letter three times in a row"),
        (.nameInvalid(.reserved), "name is reserved"),
        (.classInvalid(7), "unknown class 7"),
        (.appearanceInvalid, "appearance out of range"),
        (.nameTaken, "that name is taken"),
        (.slotLimit(max: 8), "no free character slot (max 8)"),
    ])
    func refusalDetail(_ refusal: CreateRefusal, _ detail: String) {
        #expect(refusal.detail == detail)
    }

    @Test func creationMetricLabels() {
        let created = CharacterCreation.created(
            PlayerCharacter(id: 1, accountID: "a", name: "A", classID: 1, appearance: 0, level: 1, zoneID: 1, x: 0, y: 0, createdAtMs: 0))
        let labels = [
            created, .refused(.nameInvalid(.reserved)), .refused(.classInvalid(0)), .refused(.appearanceInvalid),
            .refused(.nameTaken), .refused(.slotLimit(max: 1)),
        ].map(\.metricLabel)
        #expect(labels == ["ok", "nameInvalid", "classInvalid", "appearanceInvalid", "nameTaken", "slotLimit"])
    }

    @Test func listReportsTheSlotLimit() async throws {
        let store = MemoryStore()
        store.insert(account: "a", id: 1, zoneID: 1, x: 1, y: 1)
        store.insert(account: "b", id: 2, zoneID: 1, x: 1, y: 1)
        let list = try await catalog(store, maxCharacters: 5).list(account: "a")
        #expect(list.characters.map(\.id) == [1])
        #expect(list.maxCharacters == 5)
    }

    @Test func selectPlacesNeverSavedCharactersAtTheSpawnPoint() async throws {
        let store = MemoryStore()
        store.insert(account: "a", id: 1, zoneID: 0, x: 0, y: 0)
        store.insert(account: "a", id: 2, zoneID: 2, x: 10, y: 20)
        let c = catalog(store)
        let fresh = try #require(try await c.select(account: "a", id: 1))
        #expect(fresh.zoneID == 4 && fresh.x == 123.5 && fresh.y == 678.25)
        let saved = try #require(try await c.select(account: "a", id: 2))
        #expect(saved.zoneID == 2 && saved.x == 10 && saved.y == 20, "a saved position is kept")
        #expect(try await c.select(account: "b", id: 1) == nil, "another account's character is not found")
        #expect(try await c.select(account: "a", id: 99) == nil)
    }

    @Test func deleteNeedsTheOwner() async throws {
        let store = MemoryStore()
        store.insert(account: "a", id: 1, zoneID: 1, x: 0, y: 0)
        let c = catalog(store)
        #expect(try await !c.delete(account: "b", id: 1))
        #expect(try await c.delete(account: "a", id: 1))
        #expect(try await !c.delete(account: "a", id: 1))
    }

    @Test(arguments: ["", String(repeating: "x", count: 256)])
    func invalidAccountsNeverReachTheStore(_ account: String) async {
        let c = catalog(UnreachableStore())
        await #expect(throws: CharacterRequestError.invalidAccount) { _ = try await c.list(account: account) }
        await #expect(throws: CharacterRequestError.invalidAccount) {
            _ = try await c.create(account: account, name: "Valid", classID: 1, appearance: 0)
        }
        await #expect(throws: CharacterRequestError.invalidAccount) { _ = try await c.delete(account: account, id: 1) }
        await #expect(throws: CharacterRequestError.invalidAccount) { _ = try await c.select(account: account, id: 1) }
    }

    @Test func longestAllowedAccountIsAccepted() async throws {
        let account = String(repeating: "x", count: CharacterCatalog.maxAccountIDBytes)
        #expect(try await catalog(MemoryStore()).list(account: account).characters.isEmpty)
    }

    @Test func storeFailuresPropagate() async {
        await #expect(throws: UnreachableStore.Reached.self) {
            _ = try await catalog(UnreachableStore()).create(account: "a", name: "Valid", classID: 1, appearance: 0)
        }
    }
}
