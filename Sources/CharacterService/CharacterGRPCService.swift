import GRPCCore
import Logging
import MMOContracts
import Metrics

/// Where a new character starts.
public struct SpawnPoint: Sendable {
    public var zoneId: UInt32
    public var x: Float
    public var y: Float
    public init(zoneId: UInt32 = 1, x: Float = 500, y: Float = 500) {
        self.zoneId = zoneId
        self.x = x
        self.y = y
    }
}

public struct CharacterConfiguration: Sendable {
    public var rules: CharacterRules
    public var spawn: SpawnPoint
    public init(rules: CharacterRules = CharacterRules(), spawn: SpawnPoint = SpawnPoint()) {
        self.rules = rules
        self.spawn = spawn
    }
}

/// gRPC edge of the character service: applies `CharacterRules`, then asks the database.
public struct CharacterGRPCService: Mmo_CharacterService.SimpleServiceProtocol {
    private let database: any Mmo_DatabaseService.ClientProtocol
    private let configuration: CharacterConfiguration
    private let logger: Logger

    public init(database: any Mmo_DatabaseService.ClientProtocol, configuration: CharacterConfiguration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    private func requireAccount(_ accountID: String) throws {
        guard !accountID.isEmpty, accountID.utf8.count <= 255 else {
            throw RPCError(code: .invalidArgument, message: "account id missing or too long")
        }
    }

    public func listCharacters(request: Mmo_CharacterListRequest, context: ServerContext) async throws -> Mmo_CharacterListResponse {
        try requireAccount(request.accountID)
        var dbRequest = Mmo_ListCharactersRequest()
        dbRequest.accountID = request.accountID
        let list = try await database.listCharacters(request: ClientRequest(message: dbRequest))
        var response = Mmo_CharacterListResponse()
        response.characters = list.characters
        response.maxCharacters = UInt32(configuration.rules.maxCharactersPerAccount)
        return response
    }

    public func createCharacter(request: Mmo_CharacterCreateRequest, context: ServerContext) async throws -> Mmo_CharacterCreateResponse {
        try requireAccount(request.accountID)
        let rules = configuration.rules
        var response = Mmo_CharacterCreateResponse()
        let name: String
        switch rules.normalizeName(request.name) {
        case .failure(let problem):
            response.status = .nameInvalid
            response.detail = problem.description
            return count(response)
        case .success(let normalized):
            name = normalized
        }
        guard rules.isValidClass(request.classID) else {
            response.status = .classInvalid
            response.detail = "unknown class \(request.classID)"
            return count(response)
        }
        guard rules.isValidAppearance(request.appearance) else {
            response.status = .appearanceInvalid
            response.detail = "appearance out of range"
            return count(response)
        }
        var dbRequest = Mmo_CreateCharacterRequest()
        dbRequest.accountID = request.accountID
        dbRequest.name = name
        dbRequest.classID = request.classID
        dbRequest.appearance = request.appearance
        dbRequest.maxCharacters = UInt32(rules.maxCharactersPerAccount)
        dbRequest.zoneID = configuration.spawn.zoneId
        dbRequest.x = configuration.spawn.x
        dbRequest.y = configuration.spawn.y
        let created = try await database.createCharacter(request: ClientRequest(message: dbRequest))
        switch created.status {
        case .created:
            response.status = .ok
            response.character = created.character
        case .nameTaken:
            response.status = .nameTaken
            response.detail = "that name is taken"
        case .slotLimit:
            response.status = .slotLimit
            response.detail = "no free character slot (max \(rules.maxCharactersPerAccount))"
        default:
            throw RPCError(code: .internalError, message: "database returned no create status")
        }
        return count(response)
    }

    public func deleteCharacter(request: Mmo_CharacterDeleteRequest, context: ServerContext) async throws -> Mmo_CharacterDeleteResponse {
        try requireAccount(request.accountID)
        var dbRequest = Mmo_DeleteCharacterRequest()
        dbRequest.accountID = request.accountID
        dbRequest.characterID = request.characterID
        let deleted = try await database.deleteCharacter(request: ClientRequest(message: dbRequest))
        var response = Mmo_CharacterDeleteResponse()
        response.status = deleted.deleted ? .ok : .notFound
        return response
    }

    public func selectCharacter(request: Mmo_CharacterSelectRequest, context: ServerContext) async throws -> Mmo_CharacterSelectResponse {
        try requireAccount(request.accountID)
        var dbRequest = Mmo_GetCharacterRequest()
        dbRequest.accountID = request.accountID
        dbRequest.characterID = request.characterID
        let found = try await database.getCharacter(request: ClientRequest(message: dbRequest))
        var response = Mmo_CharacterSelectResponse()
        guard found.found else {
            response.status = .notFound
            return response
        }
        response.status = .ok
        response.character = found.character
        if response.character.zoneID == 0 {
            // Never saved into a zone: start at the configured spawn.
            response.character.zoneID = configuration.spawn.zoneId
            response.character.x = configuration.spawn.x
            response.character.y = configuration.spawn.y
        }
        return response
    }

    private func count(_ response: Mmo_CharacterCreateResponse) -> Mmo_CharacterCreateResponse {
        Counter(label: "mmo_character_creates_total", dimensions: [("status", "\(response.status)")]).increment()
        return response
    }
}
