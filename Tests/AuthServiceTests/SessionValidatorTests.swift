import Foundation
import Logging
import Testing
@testable import AuthService

struct DictionarySource: SessionSource {
    var sessions: [String: SessionFacts]
    func session(token: String) async throws -> SessionFacts? { sessions[token] }
}

struct FailingSource: SessionSource {
    struct Down: Error {}
    func session(token: String) async throws -> SessionFacts? { throw Down() }
}

@Suite struct SessionValidatorTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let nowMs = Int64(1_800_000_000_000)
    let secret = "better-auth-secret-12345678901234567890"

    func record(user: String, expiresInMs: Int64, banned: Bool = false, banExpiresAtMs: Int64 = 0) -> SessionFacts {
        SessionFacts(
            userID: user, userName: "Name of \(user)", expiresAtMs: Self.nowMs + expiresInMs, banned: banned,
            banExpiresAtMs: banExpiresAtMs, banReason: banned ? "griefing" : "", roles: "user, admin")
    }

    func validator(_ sessions: [String: SessionFacts], secret: String? = nil, raw: Bool = true) -> SessionValidator {
        SessionValidator(
            source: DictionarySource(sessions: sessions),
            configuration: AuthConfiguration(secret: secret, acceptRawTokens: raw),
            logger: Logger(label: "test"), now: { Self.now })
    }

    let valid = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    let expired = "ExpiredExpiredExpiredExpired0123"
    let banned = "BannedBannedBannedBannedBanned01"
    let banOver = "BanOverBanOverBanOverBanOver0123"

    var sessions: [String: SessionFacts] {
        [
            valid: record(user: "u-valid", expiresInMs: 60_000),
            expired: record(user: "u-expired", expiresInMs: -1),
            banned: record(user: "u-banned", expiresInMs: 60_000, banned: true),
            banOver: record(user: "u-banover", expiresInMs: 60_000, banned: true, banExpiresAtMs: Self.nowMs - 1),
        ]
    }

    @Test func eachOutcomeHasItsOwnStatus() async throws {
        let v = validator(sessions, secret: secret)
        let ok = try await v.validate(valid)
        #expect(ok.status == .valid)
        #expect(ok.accountID == "u-valid")
        #expect(ok.displayName == "Name of u-valid")
        #expect(ok.roles == ["user", "admin"])
        #expect(try await v.validate(expired).status == .expired)
        let b = try await v.validate(banned)
        #expect(b.status == .banned)
        #expect(b.banReason == "griefing")
        #expect(try await v.validate(banOver).status == .valid, "a ban whose banExpires has passed no longer applies")
        #expect(try await v.validate("UnknownUnknownUnknownUnknown0123").status == .unknown)
        #expect(try await v.validate("not a token").status == .malformed)
    }

    @Test func signedFormNeedsTheRightSecret() async throws {
        let cookie = SessionToken.signedCookieValue(token: valid, secret: .init(data: Data(secret.utf8)))
        #expect(try await validator(sessions, secret: secret).validate(cookie).status == .valid)
        #expect(try await validator(sessions, secret: "wrong-secret").validate(cookie).status == .badSignature)
        #expect(try await validator(sessions, secret: nil).validate(cookie).status == .badSignature)
    }

    @Test func rawTokensCanBeSwitchedOff() async throws {
        #expect(try await validator(sessions, raw: false).validate(valid).status == .badSignature)
    }

    @Test func displayUsernameWinsOverName() async throws {
        var s = sessions
        s[valid]!.displayUsername = "Display"
        #expect(try await validator(s).validate(valid).displayName == "Display")
    }

    @Test func refusalsOfAFoundSessionNameTheAccountButGrantNothing() async throws {
        let v = validator(sessions)
        let expiredVerdict = try await v.validate(expired)
        #expect(expiredVerdict.accountID == "u-expired")
        #expect(expiredVerdict.expiresAtMs == Self.nowMs - 1)
        #expect(expiredVerdict.displayName.isEmpty && expiredVerdict.roles.isEmpty && expiredVerdict.banReason.isEmpty)
        let bannedVerdict = try await v.validate(banned)
        #expect(bannedVerdict.accountID == "u-banned")
        #expect(bannedVerdict.displayName.isEmpty && bannedVerdict.roles.isEmpty)
        let unknownVerdict = try await v.validate("UnknownUnknownUnknownUnknown0123")
        #expect(unknownVerdict == SessionVerdict(status: .unknown))
    }

    @Test func expiryIsJudgedAgainstTheInjectedClock() async throws {
        // Expiring exactly now counts as expired; one millisecond later is still valid.
        var s = sessions
        s[valid]!.expiresAtMs = Self.nowMs
        #expect(try await validator(s).validate(valid).status == .expired)
        s[valid]!.expiresAtMs = Self.nowMs + 1
        #expect(try await validator(s).validate(valid).status == .valid)
    }

    @Test func impersonationIsReported() async throws {
        var s = sessions
        #expect(try await !validator(s).validate(valid).impersonated)
        s[valid]!.impersonatedBy = "admin-1"
        #expect(try await validator(s).validate(valid).impersonated)
    }

    @Test func statusesHaveStableMetricLabels() {
        #expect(SessionStatus.allCases.map(\.rawValue) == ["valid", "malformed", "unknown", "expired", "bad_signature", "banned"])
    }

    @Test func sourceFailurePropagates() async {
        let v = SessionValidator(source: FailingSource(), configuration: .init(), logger: Logger(label: "t"))
        await #expect(throws: FailingSource.Down.self) { try await v.validate(valid) }
    }
}
