import Crypto
import Foundation
import Logging
import MMOContracts
import Metrics

/// Where session facts come from: the database service in production, a dictionary in tests.
public protocol SessionSource: Sendable {
    func session(token: String) async throws -> Mmo_SessionRecord?
}

/// Auth service configuration.
public struct AuthConfiguration: Sendable {
    /// The web app's BETTER_AUTH_SECRET; needed to accept the signed cookie form.
    /// Without it, signed tokens are refused with BAD_SIGNATURE.
    public var secret: String?
    /// Accept the raw 32-character token (better-auth's bearer plugin default).
    public var acceptRawTokens: Bool

    public init(secret: String? = nil, acceptRawTokens: Bool = true) {
        self.secret = secret
        self.acceptRawTokens = acceptRawTokens
    }
}

/// Turns a presented token into an account or a distinct refusal reason.
/// The verdict (expiry, bans) is made here against an injected clock; the database only
/// supplies facts.
public struct SessionValidator: Sendable {
    public typealias Now = @Sendable () -> Date

    private let source: any SessionSource
    private let secret: SymmetricKey?
    private let acceptRawTokens: Bool
    private let now: Now
    private let logger: Logger

    public init(source: any SessionSource, configuration: AuthConfiguration, logger: Logger, now: @escaping Now = { Date() }) {
        self.source = source
        self.secret = configuration.secret.flatMap { $0.isEmpty ? nil : SymmetricKey(data: Data($0.utf8)) }
        self.acceptRawTokens = configuration.acceptRawTokens
        self.now = now
        self.logger = logger
    }

    public func validate(_ presented: String) async throws -> Mmo_ValidateSessionResponse {
        let response = try await judge(presented)
        Counter(label: "mmo_auth_validations_total", dimensions: [("status", Self.statusLabel(response.status))]).increment()
        return response
    }

    private func judge(_ presented: String) async throws -> Mmo_ValidateSessionResponse {
        var response = Mmo_ValidateSessionResponse()
        guard let token = SessionToken.parse(presented) else {
            response.status = .malformed
            return response
        }
        switch token {
        case .raw:
            guard acceptRawTokens else {
                response.status = .badSignature
                return response
            }
        case .signed:
            guard let secret, token.hasValidSignature(secret: secret) else {
                response.status = .badSignature
                return response
            }
        }
        guard let record = try await source.session(token: token.token) else {
            response.status = .unknown
            return response
        }
        let nowMs = Int64((now().timeIntervalSince1970 * 1000).rounded(.down))
        response.accountID = record.userID
        response.expiresAtMs = record.expiresAtMs
        guard record.expiresAtMs > nowMs else {
            response.status = .expired
            return response
        }
        if record.banned && (record.banExpiresAtMs == 0 || record.banExpiresAtMs > nowMs) {
            response.status = .banned
            response.banReason = record.banReason
            return response
        }
        response.status = .valid
        response.displayName = record.displayUsername.isEmpty ? record.userName : record.displayUsername
        response.roles = record.roles.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        response.impersonated = !record.impersonatedBy.isEmpty
        return response
    }

    static func statusLabel(_ status: Mmo_SessionStatus) -> String {
        switch status {
        case .valid: "valid"
        case .malformed: "malformed"
        case .unknown: "unknown"
        case .expired: "expired"
        case .badSignature: "bad_signature"
        case .banned: "banned"
        default: "unspecified"
        }
    }
}
