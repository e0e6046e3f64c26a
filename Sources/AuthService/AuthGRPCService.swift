import GRPCCore
import MMOContracts

// The auth service's edge: the only file of this module that knows the generated `Mmo_*` types.
// A `.proto` change is absorbed here; `SessionValidator` and its tests never see them.

/// gRPC edge of the auth service.
public struct AuthGRPCService: Mmo_AuthService.SimpleServiceProtocol {
    private let validator: SessionValidator

    /// Serves `validator`'s verdicts.
    public init(validator: SessionValidator) {
        self.validator = validator
    }

    public func validateSession(request: Mmo_ValidateSessionRequest, context: ServerContext) async throws -> Mmo_ValidateSessionResponse {
        do {
            return Mmo_ValidateSessionResponse(try await validator.validate(request.token))
        } catch let error as RPCError {
            // The database service is down or slow: the packet service maps this to SERVICE_UNAVAILABLE.
            throw RPCError(code: .unavailable, message: "session lookup failed: \(error.code)")
        }
    }
}

/// Session facts from the database service over gRPC.
public struct DatabaseSessionSource: SessionSource {
    private let database: any Mmo_DatabaseService.ClientProtocol

    /// Asks `database` (`GetSession`).
    public init(database: any Mmo_DatabaseService.ClientProtocol) {
        self.database = database
    }

    public func session(token: String) async throws -> SessionFacts? {
        var request = Mmo_GetSessionRequest()
        request.token = token
        let response = try await database.getSession(request: ClientRequest(message: request))
        return response.found ? SessionFacts(response.session) : nil
    }
}

extension SessionFacts {
    init(_ record: Mmo_SessionRecord) {
        self.init(
            userID: record.userID, userName: record.userName, displayUsername: record.displayUsername,
            expiresAtMs: record.expiresAtMs, banned: record.banned, banExpiresAtMs: record.banExpiresAtMs,
            banReason: record.banReason, roles: record.roles, impersonatedBy: record.impersonatedBy)
    }
}

extension Mmo_SessionStatus {
    init(_ status: SessionStatus) {
        self =
            switch status {
            case .valid: .valid
            case .malformed: .malformed
            case .unknown: .unknown
            case .expired: .expired
            case .badSignature: .badSignature
            case .banned: .banned
            }
    }
}

extension Mmo_ValidateSessionResponse {
    init(_ verdict: SessionVerdict) {
        self.init()
        status = Mmo_SessionStatus(verdict.status)
        accountID = verdict.accountID
        displayName = verdict.displayName
        expiresAtMs = verdict.expiresAtMs
        banReason = verdict.banReason
        roles = verdict.roles
        impersonated = verdict.impersonated
    }
}
