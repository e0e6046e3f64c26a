import GRPCCore
import MMOContracts

/// gRPC edge of the auth service.
public struct AuthGRPCService: Mmo_AuthService.SimpleServiceProtocol {
    private let validator: SessionValidator

    public init(validator: SessionValidator) {
        self.validator = validator
    }

    public func validateSession(request: Mmo_ValidateSessionRequest, context: ServerContext) async throws -> Mmo_ValidateSessionResponse {
        do {
            return try await validator.validate(request.token)
        } catch let error as RPCError {
            // The database service is down or slow: the packet service maps this to SERVICE_UNAVAILABLE.
            throw RPCError(code: .unavailable, message: "session lookup failed: \(error.code)")
        }
    }
}

/// Session facts from the database service over gRPC.
public struct DatabaseSessionSource: SessionSource {
    private let database: any Mmo_DatabaseService.ClientProtocol

    public init(database: any Mmo_DatabaseService.ClientProtocol) {
        self.database = database
    }

    public func session(token: String) async throws -> Mmo_SessionRecord? {
        var request = Mmo_GetSessionRequest()
        request.token = token
        let response = try await database.getSession(request: ClientRequest(message: request))
        return response.found ? response.session : nil
    }
}
