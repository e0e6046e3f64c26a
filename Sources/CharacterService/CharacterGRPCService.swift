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
        var response = Mmo_CharacterDeleteResponse()
        guard Self.canExist(request.characterID) else {
            response.status = .notFound
            return response
        }
        let deleted = try await mapErrors { try await catalog.delete(account: request.accountID, id: request.characterID) }
        response.status = deleted ? .ok : .notFound
        return response
    }

    public func selectCharacter(request: Mmo_CharacterSelectRequest, context: ServerContext) async throws -> Mmo_CharacterSelectResponse {
        var response = Mmo_CharacterSelectResponse()
        guard Self.canExist(request.characterID) else {
            response.status = .notFound
            return response
        }
        let selected = try await mapErrors { try await catalog.select(account: request.accountID, id: request.characterID) }
        guard let selected else {
            response.status = .notFound
            return response
        }
        response.status = .ok
        response.character = Mmo_Character(selected)
        return response
    }

    /// Whether a character with this id can exist: ids start at 1 and are `bigint` in the
    /// database, so 0 and anything ≥ 2^63 name no character. Answered here as not found instead
    /// of being sent to the database service, which would refuse them as invalid arguments.
    static func canExist(_ id: UInt64) -> Bool {
        id > 0 && id <= UInt64(Int64.max)
    }

    /// Request-level refusals become `invalidArgument`. An error of the database service is
    /// re-issued as a fresh `RPCError` (``reissue(_:)``), never rethrown as is.
    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch CharacterRequestError.invalidAccount {
            throw RPCError(code: .invalidArgument, message: "account id missing or too long")
        } catch let error as RPCError {
            throw Self.reissue(error)
        } catch is CancellationError {
            throw RPCError(code: .cancelled, message: "cancelled")
        } catch {
            throw RPCError(code: .internalError, message: "character service error")
        }
    }

    /// How a failed call to the database service is reported to our own caller.
    ///
    /// An `RPCError` received from a client call carries the upstream response's metadata, which
    /// includes HTTP/2 headers such as `:status` and `content-type`. Rethrown from a handler, the
    /// server writes them as trailers; a pseudo-header in trailers is an HTTP/2 protocol error,
    /// and the whole connection, with every other caller's RPCs on it, is closed (issue 7). So
    /// the error is re-issued: the same kind of status, a message of our own, no metadata.
    static func reissue(_ error: RPCError) -> RPCError {
        switch error.code {
        case .unavailable, .deadlineExceeded, .resourceExhausted, .aborted:
            RPCError(code: .unavailable, message: "database service unavailable (\(error.code))")
        case .cancelled:
            RPCError(code: .cancelled, message: "cancelled")
        case .invalidArgument:
            RPCError(code: .invalidArgument, message: "database service refused the request: \(error.message)")
        default:
            RPCError(code: .internalError, message: "database service error (\(error.code))")
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
            y: character.y, createdAtMs: character.createdAtMs, stateVersion: character.stateVersion)
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
        stateVersion = character.stateVersion
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
