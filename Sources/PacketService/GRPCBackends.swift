import GRPCCore
import MMOContracts

// The gateway's auth and character backends over gRPC, and the one place where their protobuf
// messages are translated to and from the gateway's own types (Dependencies.swift).

/// `SessionAuthenticator` over the auth service's gRPC client.
public struct GRPCSessionAuthenticator: SessionAuthenticator {
    private let client: any Mmo_AuthService.ClientProtocol

    /// The deadline comes from the client transport's service config (`RPCDeadlines`).
    public init(client: some Mmo_AuthService.ClientProtocol) {
        self.client = client
    }

    /// Wraps a running `GRPCClient` connected to an auth service.
    public init<Transport: ClientTransport>(wrapping grpcClient: GRPCClient<Transport>) {
        self.init(client: Mmo_AuthService.Client(wrapping: grpcClient))
    }

    public func validate(token: String) async throws -> SessionValidation {
        var request = Mmo_ValidateSessionRequest()
        request.token = token
        return SessionValidation(try await client.validateSession(request))
    }
}

/// `CharacterDirectory` over the character service's gRPC client.
public struct GRPCCharacterDirectory: CharacterDirectory {
    private let client: any Mmo_CharacterService.ClientProtocol

    /// The deadline comes from the client transport's service config (`RPCDeadlines`).
    public init(client: some Mmo_CharacterService.ClientProtocol) {
        self.client = client
    }

    /// Wraps a running `GRPCClient` connected to a character service.
    public init<Transport: ClientTransport>(wrapping grpcClient: GRPCClient<Transport>) {
        self.init(client: Mmo_CharacterService.Client(wrapping: grpcClient))
    }

    public func list(accountId: String) async throws -> CharacterList {
        var request = Mmo_CharacterListRequest()
        request.accountID = accountId
        return CharacterList(try await client.listCharacters(request))
    }

    public func create(accountId: String, name: String, classId: UInt8, appearance: UInt32) async throws -> CharacterCreation {
        var request = Mmo_CharacterCreateRequest()
        request.accountID = accountId
        request.name = name
        request.classID = UInt32(classId)
        request.appearance = appearance
        return CharacterCreation(try await client.createCharacter(request))
    }

    public func delete(accountId: String, characterId: UInt64) async throws -> CharacterStatus {
        var request = Mmo_CharacterDeleteRequest()
        request.accountID = accountId
        request.characterID = characterId
        return CharacterStatus(try await client.deleteCharacter(request).status)
    }

    public func select(accountId: String, characterId: UInt64) async throws -> CharacterSelection {
        var request = Mmo_CharacterSelectRequest()
        request.accountID = accountId
        request.characterID = characterId
        return CharacterSelection(try await client.selectCharacter(request))
    }
}

// MARK: - Protobuf -> gateway types

extension SessionValidation {
    init(_ response: Mmo_ValidateSessionResponse) {
        self.init(status: Status(response.status), accountId: response.accountID, displayName: response.displayName)
    }
}

extension SessionValidation.Status {
    init(_ status: Mmo_SessionStatus) {
        switch status {
        case .valid: self = .valid
        case .malformed: self = .malformed
        case .unknown: self = .unknown
        case .expired: self = .expired
        case .badSignature: self = .badSignature
        case .banned: self = .banned
        case .unspecified, .UNRECOGNIZED: self = .unrecognized
        }
    }
}

extension CharacterStatus {
    init(_ status: Mmo_CharacterStatus) {
        switch status {
        case .ok: self = .ok
        case .nameInvalid: self = .nameInvalid
        case .nameTaken: self = .nameTaken
        case .slotLimit: self = .slotLimit
        case .classInvalid: self = .classInvalid
        case .appearanceInvalid: self = .appearanceInvalid
        case .notFound: self = .notFound
        case .unspecified, .UNRECOGNIZED: self = .unrecognized
        }
    }
}

extension CharacterRecord {
    init(_ c: Mmo_Character) {
        self.init(
            id: c.id, name: c.name, classId: c.classID, appearance: c.appearance, level: c.level,
            zoneId: c.zoneID, x: c.x, y: c.y, stateVersion: c.stateVersion)
    }
}

extension CharacterList {
    init(_ response: Mmo_CharacterListResponse) {
        self.init(maxCharacters: response.maxCharacters, characters: response.characters.map(CharacterRecord.init))
    }
}

extension CharacterCreation {
    init(_ response: Mmo_CharacterCreateResponse) {
        self.init(
            status: CharacterStatus(response.status),
            character: response.hasCharacter ? CharacterRecord(response.character) : nil,
            detail: response.detail)
    }
}

extension CharacterSelection {
    init(_ response: Mmo_CharacterSelectResponse) {
        self.init(
            status: CharacterStatus(response.status),
            character: response.hasCharacter ? CharacterRecord(response.character) : nil)
    }
}
