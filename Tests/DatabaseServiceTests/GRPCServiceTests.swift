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
