import GRPCCore
import MMOContracts

/// Validates session tokens for LOGIN. Production: `GRPCSessionAuthenticator`.
public protocol SessionAuthenticator: Sendable {
    func validate(token: String) async throws -> Mmo_ValidateSessionResponse
}

/// The character operations the gateway needs. Production: `GRPCCharacterDirectory`.
public protocol CharacterDirectory: Sendable {
    func list(accountId: String) async throws -> Mmo_CharacterListResponse
    func create(accountId: String, name: String, classId: UInt32, appearance: UInt32) async throws -> Mmo_CharacterCreateResponse
    func delete(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterDeleteResponse
    /// Ownership check for ENTER_WORLD; returns the character with its spawn zone and position.
    func select(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterSelectResponse
}

/// `SessionAuthenticator` over the auth service's gRPC client, with a deadline on every call.
public struct GRPCSessionAuthenticator: SessionAuthenticator {
    private let client: any Mmo_AuthService.ClientProtocol
    private let options: CallOptions

    public init(client: some Mmo_AuthService.ClientProtocol, timeout: Duration = .seconds(5)) {
        self.client = client
        var options = CallOptions.defaults
        options.timeout = timeout
        self.options = options
    }

    /// Wraps a running `GRPCClient` connected to an auth service.
    public init<Transport: ClientTransport>(wrapping grpcClient: GRPCClient<Transport>, timeout: Duration = .seconds(5)) {
        self.init(client: Mmo_AuthService.Client(wrapping: grpcClient), timeout: timeout)
    }

    public func validate(token: String) async throws -> Mmo_ValidateSessionResponse {
        var request = Mmo_ValidateSessionRequest()
        request.token = token
        return try await client.validateSession(request, options: options)
    }
}

/// `CharacterDirectory` over the character service's gRPC client, with a deadline on every call.
public struct GRPCCharacterDirectory: CharacterDirectory {
    private let client: any Mmo_CharacterService.ClientProtocol
    private let options: CallOptions

    public init(client: some Mmo_CharacterService.ClientProtocol, timeout: Duration = .seconds(5)) {
        self.client = client
        var options = CallOptions.defaults
        options.timeout = timeout
        self.options = options
    }

    /// Wraps a running `GRPCClient` connected to a character service.
    public init<Transport: ClientTransport>(wrapping grpcClient: GRPCClient<Transport>, timeout: Duration = .seconds(5)) {
        self.init(client: Mmo_CharacterService.Client(wrapping: grpcClient), timeout: timeout)
    }

    public func list(accountId: String) async throws -> Mmo_CharacterListResponse {
        var request = Mmo_CharacterListRequest()
        request.accountID = accountId
        return try await client.listCharacters(request, options: options)
    }

    public func create(accountId: String, name: String, classId: UInt32, appearance: UInt32) async throws -> Mmo_CharacterCreateResponse {
        var request = Mmo_CharacterCreateRequest()
        request.accountID = accountId
        request.name = name
        request.classID = classId
        request.appearance = appearance
        return try await client.createCharacter(request, options: options)
    }

    public func delete(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterDeleteResponse {
        var request = Mmo_CharacterDeleteRequest()
        request.accountID = accountId
        request.characterID = characterId
        return try await client.deleteCharacter(request, options: options)
    }

    public func select(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterSelectResponse {
        var request = Mmo_CharacterSelectRequest()
        request.accountID = accountId
        request.characterID = characterId
        return try await client.selectCharacter(request, options: options)
    }
}
