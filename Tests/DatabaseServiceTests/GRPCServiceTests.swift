import DevTools
import GRPCCore
import GRPCInProcessTransport
import MMOContracts
import Testing

@testable import DatabaseService

/// `DatabaseGRPCService` over the in-process transport, on SQLite.
@Suite("gRPC service")
struct GRPCServiceTests {
    typealias Client = Mmo_DatabaseService.Client<InProcessTransport.Client>

    func withService(_ body: @escaping @Sendable (Client, GameDatabase) async throws -> Void) async throws {
        try await SQLiteTestDatabase.with { path in
            try await withDatabase(DatabaseConfiguration(backend: .sqlite(path: path))) { db in
                let transport = InProcessTransport()
                let service = DatabaseGRPCService(database: db, logger: TestEnvironment.logger)
                try await withGRPCServer(transport: transport.server, services: [service]) { _ in
                    try await withGRPCClient(transport: transport.client) { grpc in
                        try await body(Mmo_DatabaseService.Client(wrapping: grpc), db)
                    }
                }
            }
        }
    }

    static func expectCode(_ code: RPCError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func sessionAndCharacterRoundTrip() async throws {
        try await withService { client, db in
            let userID = try await db.createAuthUser(name: "Heidi", email: "heidi@example.com", password: "password123")
            let token = try await db.createAuthSession(userId: userID)

            var get = Mmo_GetSessionRequest()
            get.token = token
            let found = try await client.getSession(get)
            #expect(found.found && found.session.userID == userID && found.session.userName == "Heidi")
            get.token = "nope"
            #expect(try await !client.getSession(get).found)

            var create = Mmo_CreateCharacterRequest()
            create.accountID = userID
            create.name = "Heidi"
            create.classID = 4
            create.maxCharacters = 2
            create.zoneID = 3
            create.x = 1
            create.y = 2
            let created = try await client.createCharacter(create)
            #expect(created.status == .created && created.character.name == "Heidi")
            #expect(try await client.createCharacter(create).status == .nameTaken)

            var list = Mmo_ListCharactersRequest()
            list.accountID = userID
            #expect(try await client.listCharacters(list).characters.map(\.id) == [created.character.id])

            var getCharacter = Mmo_GetCharacterRequest()
            getCharacter.accountID = userID
            getCharacter.characterID = created.character.id
            #expect(try await client.getCharacter(getCharacter).character == created.character)

            var save = Mmo_SaveCharacterStatesRequest()
            var state = Mmo_CharacterState()
            state.characterID = created.character.id
            state.zoneID = 9
            save.states = [state]
            #expect(try await client.saveCharacterStates(save).saved == 1)

            var delete = Mmo_DeleteCharacterRequest()
            delete.accountID = userID
            delete.characterID = created.character.id
            #expect(try await client.deleteCharacter(delete).deleted)
            #expect(try await !client.getCharacter(getCharacter).found)
        }
    }

    /// The adapter is the only place domain records meet the contract: every field must cross.
    @Test func contractMappingCopiesEveryField() {
        let record = CharacterRecord(
            id: 42, accountID: "acct", name: "Mapped", classID: 3, appearance: 0x0102_0304, level: 7, zoneID: 5,
            x: 1.25, y: -2.5, createdAtMs: 1_700_000_000_123)
        let character = Mmo_Character(record)
        #expect(character.id == 42 && character.accountID == "acct" && character.name == "Mapped")
        #expect(character.classID == 3 && character.appearance == 0x0102_0304 && character.level == 7)
        #expect(character.zoneID == 5 && character.x == 1.25 && character.y == -2.5)
        #expect(character.createdAtMs == 1_700_000_000_123)

        let created = Mmo_CreateCharacterResponse(.created(record))
        #expect(created.status == .created && created.character == character)
        #expect(Mmo_CreateCharacterResponse(.nameTaken).status == .nameTaken)
        #expect(!Mmo_CreateCharacterResponse(.nameTaken).hasCharacter)
        #expect(Mmo_CreateCharacterResponse(.slotLimit).status == .slotLimit)

        let session = Mmo_SessionRecord(
            SessionRecord(
                sessionID: "s", userID: "u", userName: "n", email: "e@x", expiresAtMs: 10, banned: true,
                banExpiresAtMs: 20, banReason: "r", roles: "a,b", impersonatedBy: "i", displayUsername: "d"))
        #expect(session.sessionID == "s" && session.userID == "u" && session.userName == "n" && session.email == "e@x")
        #expect(session.expiresAtMs == 10 && session.banned && session.banExpiresAtMs == 20 && session.banReason == "r")
        #expect(session.roles == "a,b" && session.impersonatedBy == "i" && session.displayUsername == "d")

        var state = Mmo_CharacterState()
        state.characterID = 9
        state.zoneID = 2
        state.x = 3
        state.y = 4
        #expect(CharacterStateUpdate(state) == CharacterStateUpdate(characterID: 9, zoneID: 2, x: 3, y: 4))
    }

    @Test func invalidArguments() async throws {
        try await withService { client, _ in
            var get = Mmo_GetSessionRequest()
            await Self.expectCode(.invalidArgument) { _ = try await client.getSession(get) }
            get.token = String(repeating: "a", count: 513)
            await Self.expectCode(.invalidArgument) { _ = try await client.getSession(get) }

            var create = Mmo_CreateCharacterRequest()
            create.accountID = "a"
            create.maxCharacters = 1
            await Self.expectCode(.invalidArgument) { _ = try await client.createCharacter(create) }
            create.name = String(repeating: "é", count: 33)  // 66 bytes
            await Self.expectCode(.invalidArgument) { _ = try await client.createCharacter(create) }
            create.name = "Fine"
            create.maxCharacters = 0
            await Self.expectCode(.invalidArgument) { _ = try await client.createCharacter(create) }
            create.maxCharacters = 1
            create.x = .nan
            await Self.expectCode(.invalidArgument) { _ = try await client.createCharacter(create) }

            await Self.expectCode(.invalidArgument) { _ = try await client.listCharacters(Mmo_ListCharactersRequest()) }
            var delete = Mmo_DeleteCharacterRequest()
            delete.accountID = "a"
            await Self.expectCode(.invalidArgument) { _ = try await client.deleteCharacter(delete) }
            var save = Mmo_SaveCharacterStatesRequest()
            save.states = [Mmo_CharacterState()]
            await Self.expectCode(.invalidArgument) { _ = try await client.saveCharacterStates(save) }
        }
    }

    @Test func unpreparedDatabaseIsUnavailable() async throws {
        try await SQLiteTestDatabase.with { path in
            try await withDatabase(DatabaseConfiguration(backend: .sqlite(path: path)), prepare: false) { db in
                let transport = InProcessTransport()
                let service = DatabaseGRPCService(database: db, logger: TestEnvironment.logger)
                try await withGRPCServer(transport: transport.server, services: [service]) { _ in
                    try await withGRPCClient(transport: transport.client) { grpc in
                        let client = Mmo_DatabaseService.Client(wrapping: grpc)
                        var list = Mmo_ListCharactersRequest()
                        list.accountID = "a"
                        await Self.expectCode(.unavailable) { _ = try await client.listCharacters(list) }
                    }
                }
            }
        }
    }
}
