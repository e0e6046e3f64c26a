import Crypto
import Foundation
import Logging
import Metrics

/// What the auth service needs to know about a stored session and its user: facts, not a
/// verdict. Absent optional facts read as `false` / `0` / `""`.
public struct SessionFacts: Sendable, Hashable {
    /// The better-auth user id, which is the game's account id.
    public var userID: String
    public var userName: String
    /// The username plugin's display name; preferred over ``userName`` when not empty.
    public var displayUsername: String
    /// Unix epoch milliseconds.
    public var expiresAtMs: Int64
    public var banned: Bool
    /// Unix epoch milliseconds; 0 when the ban does not expire.
    public var banExpiresAtMs: Int64
    public var banReason: String
    /// The admin plugin's comma-separated `role` column, as stored.
    public var roles: String
    /// The impersonating admin's user id, or empty.
    public var impersonatedBy: String

    /// Creates facts; optional ones default to "absent".
    public init(
        userID: String, userName: String, displayUsername: String = "", expiresAtMs: Int64, banned: Bool = false,
        banExpiresAtMs: Int64 = 0, banReason: String = "", roles: String = "", impersonatedBy: String = ""
    ) {
        self.userID = userID
        self.userName = userName
        self.displayUsername = displayUsername
        self.expiresAtMs = expiresAtMs
        self.banned = banned
        self.banExpiresAtMs = banExpiresAtMs
        self.banReason = banReason
        self.roles = roles
        self.impersonatedBy = impersonatedBy
    }
}

/// Where session facts come from: the database service in production, a dictionary in tests.
public protocol SessionSource: Sendable {
    /// The session stored under this raw token, or nil. Throws when the source cannot answer.
    func session(token: String) async throws -> SessionFacts?
}

/// Auth service configuration.
public struct AuthConfiguration: Sendable {
    /// The web app's BETTER_AUTH_SECRET; needed to accept the signed cookie form.
    /// Without it, signed tokens are refused with BAD_SIGNATURE.
    public var secret: String?
    /// Accept the raw 32-character token (better-auth's bearer plugin default).
    public var acceptRawTokens: Bool

    /// Creates a configuration; the defaults accept raw tokens only.
    public init(secret: String? = nil, acceptRawTokens: Bool = true) {
        self.secret = secret
        self.acceptRawTokens = acceptRawTokens
    }
}

/// Why a presented token was accepted or refused; each refusal has its own case so the client
/// can say what to do (sign in again, wait out a ban, ...). The raw value is the metric label.
enum SessionStatus: String, Sendable, CaseIterable {
    case valid
    /// Neither the raw nor the signed token form.
    case malformed
    /// Well-formed, but no such session.
    case unknown
    case expired
    /// A signed token whose HMAC does not verify (or no secret configured), or a raw token
    /// while raw tokens are switched off.
    case badSignature = "bad_signature"
    /// The user is banned and the ban has not expired.
    case banned
}

/// The auth service's answer for one presented token.
struct SessionVerdict: Sendable, Hashable {
    var status: SessionStatus
    /// Set once the session was found (also for expired and banned ones), else empty.
    var accountID = ""
    /// Set when valid: the display username, else the user's name.
    var displayName = ""
    /// Set once the session was found, else 0.
    var expiresAtMs: Int64 = 0
    /// Set when banned.
    var banReason = ""
    /// Set when valid: the comma-separated roles, trimmed, empty ones dropped.
    var roles: [String] = []
    /// Set when valid: the session is an admin's impersonation.
    var impersonated = false
}

/// Turns a presented token into an account or a distinct refusal reason.
/// The verdict (expiry, bans) is made here against an injected clock; the database only
/// supplies facts.
public struct SessionValidator: Sendable {
    /// The clock the verdict is made against.
    public typealias Now = @Sendable () -> Date

    private let source: any SessionSource
    private let secret: SymmetricKey?
    private let acceptRawTokens: Bool
    private let now: Now
    private let logger: Logger

    /// Creates a validator over `source`; `now` is injectable for tests.
    public init(source: any SessionSource, configuration: AuthConfiguration, logger: Logger, now: @escaping Now = { Date() }) {
        self.source = source
        self.secret = configuration.secret.flatMap { $0.isEmpty ? nil : SymmetricKey(data: Data($0.utf8)) }
        self.acceptRawTokens = configuration.acceptRawTokens
        self.now = now
        self.logger = logger
    }

    /// Judges `presented`; throws only when the source cannot answer.
    func validate(_ presented: String) async throws -> SessionVerdict {
        let verdict = try await judge(presented)
        Counter(label: "mmo_auth_validations_total", dimensions: [("status", verdict.status.rawValue)]).increment()
        return verdict
    }

    private func judge(_ presented: String) async throws -> SessionVerdict {
        guard let token = SessionToken.parse(presented) else { return SessionVerdict(status: .malformed) }
        switch token {
        case .raw:
            guard acceptRawTokens else { return SessionVerdict(status: .badSignature) }
        case .signed:
            guard let secret, token.hasValidSignature(secret: secret) else { return SessionVerdict(status: .badSignature) }
        }
        guard let facts = try await source.session(token: token.token) else { return SessionVerdict(status: .unknown) }
        let nowMs = Int64((now().timeIntervalSince1970 * 1000).rounded(.down))
        var verdict = SessionVerdict(status: .valid, accountID: facts.userID, expiresAtMs: facts.expiresAtMs)
        guard facts.expiresAtMs > nowMs else {
            verdict.status = .expired
            return verdict
        }
        if facts.banned && (facts.banExpiresAtMs == 0 || facts.banExpiresAtMs > nowMs) {
            verdict.status = .banned
            verdict.banReason = facts.banReason
            return verdict
        }
        verdict.displayName = facts.displayUsername.isEmpty ? facts.userName : facts.displayUsername
        verdict.roles = facts.roles.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        verdict.impersonated = !facts.impersonatedBy.isEmpty
        return verdict
    }
}
