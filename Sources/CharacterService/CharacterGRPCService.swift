import GRPCCore
import MMOContracts

// The character service's edge: the only file of this module that knows the generated `Mmo_*`
// types. A `.proto` change is absorbed here; `CharacterCatalog` and its tests never see them.

/// gRPC edge of the character service: maps requests onto ``CharacterCatalog`` and its answers
/// back; the rules live in the catalog.
public struct CharacterGRPCService: Mmo_CharacterService.SimpleServiceProtocol {
    private let catalog: CharacterCatalog

    /// Serves characters stored by the database service.
    ///
    /// - Parameter spawn: Where new characters start; the process assembly derives it from the
    ///   world's first zone so both services agree.
    public init(database: any Mmo_DatabaseService.ClientProtocol, configuration: CharacterConfiguration, spawn: SpawnPoint) {
        self.catalog = CharacterCatalog(store: DatabaseCharacterStore(database: database), rules: configuration.rules, spawn: spawn)
    }

    public func listCharacters(request: Mmo_CharacterListRequest, context: ServerContext) async throws -> Mmo_CharacterListResponse {
        let list = try await mapErrors { try await catalog.list(account: request.accountID) }
        var response = Mmo_CharacterListResponse()
        response.characters = list.characters.map(Mmo_Character.init)
        response.maxCharacters = UInt32(clamping: list.maxCharacters)
        return response
    }

    public func createCharacter(request: Mmo_CharacterCreateRequest, context: ServerContext) async throws -> Mmo_CharacterCreateResponse {
        let creation = try await mapErrors {
            try await catalog.create(
                account: request.accountID, name: request.name, classID: request.classID, appearance: request.appearance)
        }
        var response = Mmo_CharacterCreateResponse()
        switch creation {
        case .created(let character):
            response.status = .ok
            response.character = Mmo_Character(character)
        case .refused(let refusal):
            response.status = Mmo_CharacterStatus(refusal)
            response.detail = refusal.detail
        }
        return response
    }

    public func deleteCharacter(request: Mmo_CharacterDeleteRequest, context: ServerContext) async throws -> Mmo_CharacterDeleteResponse {
        let deleted = try await mapErrors { try await catalog.delete(account: request.accountID, id: request.characterID) }
        var response = Mmo_CharacterDeleteResponse()
        response.status = deleted ? .ok : .notFound
        return response
    }

    public func selectCharacter(request: Mmo_CharacterSelectRequest, context: ServerContext) async throws -> Mmo_CharacterSelectResponse {
        let selected = try await mapErrors { try await catalog.select(account: request.accountID, id: request.characterID) }
        var response = Mmo_CharacterSelectResponse()
        guard let selected else {
            response.status = .notFound
            return response
        }
        response.status = .ok
        response.character = Mmo_Character(selected)
        return response
    }

    /// Request-level refusals become `invalidArgument`; errors of the database service (already
    /// `RPCError`s) pass through unchanged.
    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch CharacterRequestError.invalidAccount {
            throw RPCError(code: .invalidArgument, message: "account id missing or too long")
        }
    }
}

/// Characters stored by the database service, over gRPC.
struct DatabaseCharacterStore: CharacterStore {
    let database: any Mmo_DatabaseService.ClientProtocol

    func characters(account: String) async throws -> [PlayerCharacter] {
        var request = Mmo_ListCharactersRequest()
        request.accountID = account
        return try await database.listCharacters(request: ClientRequest(message: request)).characters.map(PlayerCharacter.init)
    }

    func character(account: String, id: UInt64) async throws -> PlayerCharacter? {
        var request = Mmo_GetCharacterRequest()
        request.accountID = account
        request.characterID = id
        let response = try await database.getCharacter(request: ClientRequest(message: request))
        return response.found ? PlayerCharacter(response.character) : nil
    }

    func create(
        account: String, name: String, classID: UInt32, appearance: UInt32, spawn: SpawnPoint, maxCharacters: Int
    ) async throws -> StoredCreation {
        var request = Mmo_CreateCharacterRequest()
        request.accountID = account
        request.name = name
        request.classID = classID
        request.appearance = appearance
        request.maxCharacters = UInt32(clamping: maxCharacters)
        request.zoneID = spawn.zoneID
        request.x = spawn.x
        request.y = spawn.y
        let response = try await database.createCharacter(request: ClientRequest(message: request))
        switch response.status {
        case .created: return .created(PlayerCharacter(response.character))
        case .nameTaken: return .nameTaken
        case .slotLimit: return .slotLimit
        default: throw RPCError(code: .internalError, message: "database returned no create status")
        }
    }

    func delete(account: String, id: UInt64) async throws -> Bool {
        var request = Mmo_DeleteCharacterRequest()
        request.accountID = account
        request.characterID = id
        return try await database.deleteCharacter(request: ClientRequest(message: request)).deleted
    }
}

extension PlayerCharacter {
    init(_ character: Mmo_Character) {
        self.init(
            id: character.id, accountID: character.accountID, name: character.name, classID: character.classID,
            appearance: character.appearance, level: character.level, zoneID: character.zoneID, x: character.x,
            y: character.y, createdAtMs: character.createdAtMs)
    }
}

extension Mmo_Character {
    init(_ character: PlayerCharacter) {
        self.init()
        id = character.id
        accountID = character.accountID
        name = character.name
        classID = character.classID
        appearance = character.appearance
        level = character.level
        zoneID = character.zoneID
        x = character.x
        y = character.y
        createdAtMs = character.createdAtMs
    }
}

extension Mmo_CharacterStatus {
    init(_ refusal: CreateRefusal) {
        self =
            switch refusal {
            case .nameInvalid: .nameInvalid
            case .classInvalid: .classInvalid
            case .appearanceInvalid: .appearanceInvalid
            case .nameTaken: .nameTaken
            case .slotLimit: .slotLimit
            }
    }
}
