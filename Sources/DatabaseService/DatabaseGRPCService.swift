import GRPCCore
import Logging
import MMOContracts

/// The `mmo.DatabaseService` gRPC service over a ``GameDatabase``.
///
/// Validates inputs (empty or oversized -> `invalidArgument`) and maps domain errors to status
/// codes; details of internal errors are logged, never sent to the caller. Domain values are
/// mapped to and from the contract in `DatabaseGRPCService+Contracts.swift`.
public struct DatabaseGRPCService: Mmo_DatabaseService.SimpleServiceProtocol {
    /// Input limits. Tokens are 32 characters; 512 bytes leaves room for other schemes while
    /// keeping garbage out of the database.
    enum Limits {
        static let maxTokenBytes = 512
        static let maxAccountIDBytes = 256
        static let maxNameBytes = 64
        static let maxStatesPerSave = 10_000
    }

    let database: GameDatabase
    let logger: Logger

    /// Serves `database`; `logger` receives internal error details.
    public init(database: GameDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func getSession(request: Mmo_GetSessionRequest, context: ServerContext) async throws -> Mmo_GetSessionResponse {
        try Self.check(request.token, "token", maxBytes: Limits.maxTokenBytes)
        return try await mapErrors("GetSession") {
            var response = Mmo_GetSessionResponse()
            if let session = try await database.session(forToken: request.token) {
                response.found = true
                response.session = Mmo_SessionRecord(session)
            }
            return response
        }
    }

    public func listCharacters(request: Mmo_ListCharactersRequest, context: ServerContext) async throws -> Mmo_ListCharactersResponse {
        try Self.check(request.accountID, "account_id", maxBytes: Limits.maxAccountIDBytes)
        return try await mapErrors("ListCharacters") {
            var response = Mmo_ListCharactersResponse()
            response.characters = try await database.characters(account: request.accountID).map(Mmo_Character.init)
            return response
        }
    }

    public func createCharacter(request: Mmo_CreateCharacterRequest, context: ServerContext) async throws -> Mmo_CreateCharacterResponse {
        try Self.check(request.accountID, "account_id", maxBytes: Limits.maxAccountIDBytes)
        try Self.check(request.name, "name", maxBytes: Limits.maxNameBytes)
        guard request.maxCharacters > 0 else {
            throw RPCError(code: .invalidArgument, message: "max_characters must be positive")
        }
        guard request.x.isFinite, request.y.isFinite else {
            throw RPCError(code: .invalidArgument, message: "position must be finite")
        }
        return try await mapErrors("CreateCharacter") {
            let outcome = try await database.createCharacter(
                account: request.accountID, name: request.name, classID: request.classID,
                appearance: request.appearance, zoneID: request.zoneID, x: request.x, y: request.y,
                maxCharacters: Int(request.maxCharacters))
            return Mmo_CreateCharacterResponse(outcome)
        }
    }

    public func deleteCharacter(request: Mmo_DeleteCharacterRequest, context: ServerContext) async throws -> Mmo_DeleteCharacterResponse {
        try Self.check(request.accountID, "account_id", maxBytes: Limits.maxAccountIDBytes)
        try Self.checkID(request.characterID)
        return try await mapErrors("DeleteCharacter") {
            var response = Mmo_DeleteCharacterResponse()
            response.deleted = try await database.deleteCharacter(account: request.accountID, id: request.characterID)
            return response
        }
    }

    public func getCharacter(request: Mmo_GetCharacterRequest, context: ServerContext) async throws -> Mmo_GetCharacterResponse {
        try Self.check(request.accountID, "account_id", maxBytes: Limits.maxAccountIDBytes)
        try Self.checkID(request.characterID)
        return try await mapErrors("GetCharacter") {
            var response = Mmo_GetCharacterResponse()
            if let character = try await database.character(account: request.accountID, id: request.characterID) {
                response.found = true
                response.character = Mmo_Character(character)
            }
            return response
        }
    }

    public func saveCharacterStates(request: Mmo_SaveCharacterStatesRequest, context: ServerContext) async throws -> Mmo_SaveCharacterStatesResponse {
        guard request.states.count <= Limits.maxStatesPerSave else {
            throw RPCError(code: .invalidArgument, message: "at most \(Limits.maxStatesPerSave) states per call")
        }
        for state in request.states {
            try Self.checkID(state.characterID)
            guard state.x.isFinite, state.y.isFinite else {
                throw RPCError(code: .invalidArgument, message: "position must be finite")
            }
        }
        return try await mapErrors("SaveCharacterStates") {
            var response = Mmo_SaveCharacterStatesResponse()
            response.saved = UInt32(clamping: try await database.saveCharacterStates(request.states.map(CharacterStateUpdate.init)))
            return response
        }
    }

    // MARK: edge mapping

    static func check(_ value: String, _ field: String, maxBytes: Int) throws {
        guard !value.isEmpty else { throw RPCError(code: .invalidArgument, message: "\(field) is required") }
        guard value.utf8.count <= maxBytes else {
            throw RPCError(code: .invalidArgument, message: "\(field) exceeds \(maxBytes) bytes")
        }
    }

    static func checkID(_ id: UInt64) throws {
        // Ids start at 1 and are bigint in the database.
        guard id > 0, id <= UInt64(Int64.max) else {
            throw RPCError(code: .invalidArgument, message: "character_id is out of range")
        }
    }

    private func mapErrors<T>(_ method: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError {
            throw error
        } catch let error as DatabaseError {
            switch error {
            case .unavailable, .closed, .notPrepared:
                logger.warning("database unavailable", metadata: ["rpc": "\(method)", "error": "\(error)"])
                throw RPCError(code: .unavailable, message: "database unavailable")
            case .invalidInput(let reason):
                throw RPCError(code: .invalidArgument, message: reason)
            case .schemaIncomplete:
                logger.error("database schema incomplete", metadata: ["rpc": "\(method)", "error": "\(error)"])
                throw RPCError(code: .failedPrecondition, message: "database schema incomplete")
            case .invalidConfiguration, .corruptRow, .unsupportedColumnType:
                logger.error("database error", metadata: ["rpc": "\(method)", "error": "\(error)"])
                throw RPCError(code: .internalError, message: "database error")
            }
        } catch is CancellationError {
            throw RPCError(code: .cancelled, message: "cancelled")
        } catch {
            logger.error("database error", metadata: ["rpc": "\(method)", "error": "\(describe(error))"])
            throw RPCError(code: .internalError, message: "database error")
        }
    }
}
