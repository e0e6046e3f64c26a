import Foundation
import Logging
import MMOContracts
import Testing
@testable import AuthService

struct DictionarySource: SessionSource {
    var sessions: [String: Mmo_SessionRecord]
    func session(token: String) async throws -> Mmo_SessionRecord? { sessions[token] }
}

struct FailingSource: SessionSource {
    struct Down: Error {}
    func session(token: String) async throws -> Mmo_SessionRecord? { throw Down() }
}

@Suite struct SessionValidatorTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let nowMs = Int64(1_800_000_000_000)
    let secret = "better-auth-secret-12345678901234567890"

    func record(user: String, expiresInMs: Int64, banned: Bool = false, banExpiresAtMs: Int64 = 0) -> Mmo_SessionRecord {
        var r = Mmo_SessionRecord()
        r.userID = user
        r.userName = "Name of \(user)"
        r.expiresAtMs = Self.nowMs + expiresInMs
        r.banned = banned
        r.banExpiresAtMs = banExpiresAtMs
        r.banReason = banned ? "griefing" : ""
        r.roles = "user, admin"
        return r
    }

    func validator(_ sessions: [String: Mmo_SessionRecord], secret: String? = nil, raw: Bool = true) -> SessionValidator {
        SessionValidator(
            source: DictionarySource(sessions: sessions),
            configuration: AuthConfiguration(secret: secret, acceptRawTokens: raw),
            logger: Logger(label: "test"), now: { Self.now })
    }

    let valid = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    let expired = "ExpiredExpiredExpiredExpired0123"
    let banned = "BannedBannedBannedBannedBanned01"
    let banOver = "BanOverBanOverBanOverBanOver0123"

    var sessions: [String: Mmo_SessionRecord] {
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

    @Test func sourceFailurePropagates() async {
        let v = SessionValidator(source: FailingSource(), configuration: .init(), logger: Logger(label: "t"))
        await #expect(throws: FailingSource.Down.self) { try await v.validate(valid) }
    }
}
