import Foundation
import Logging
import Synchronization
import Testing

@testable import AuthService

/// A source whose sessions change between calls, like the web app's tables.
final class ChangingSource: SessionSource {
    private let sessions: Mutex<[String: SessionFacts]>

    init(_ sessions: [String: SessionFacts]) {
        self.sessions = Mutex(sessions)
    }

    func update(_ body: (inout [String: SessionFacts]) -> Void) {
        sessions.withLock { body(&$0) }
    }

    func session(token: String) async throws -> SessionFacts? {
        sessions.withLock { $0[token] }
    }
}

/// A settable clock for the validator's `now`.
final class SettableClock: Sendable {
    private let date: Mutex<Date>
    init(_ date: Date) { self.date = Mutex(date) }
    func set(_ new: Date) { date.withLock { $0 = new } }
    func now() -> Date { date.withLock { $0 } }
}

/// The gateway re-checks a connected player by validating the same token again
/// (`ValidateSession`); each change on the web app must come back as its own status, so the
/// player is disconnected with the matching code: sign-out or revocation -> UNKNOWN
/// (TOKEN_UNKNOWN), ban -> BANNED (ACCOUNT_BANNED, with the reason), expiry -> EXPIRED
/// (TOKEN_EXPIRED). The validator keeps no state between calls, so the only delay is the
/// database service's session cache (SessionRevocationTests).
@Suite struct SessionRecheckTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    let token = "RecheckRecheckRecheckRecheck0123"

    func facts(expiresAt: Date) -> SessionFacts {
        SessionFacts(
            userID: "u-1", userName: "Player", expiresAtMs: Int64(expiresAt.timeIntervalSince1970 * 1000),
            roles: "user")
    }

    @Test func eachChangeOnTheWebAppIsSeenByTheNextValidation() async throws {
        let clock = SettableClock(Self.start)
        let source = ChangingSource([token: facts(expiresAt: Self.start.addingTimeInterval(3600))])
        let validator = SessionValidator(
            source: source, configuration: AuthConfiguration(), logger: Logger(label: "test"),
            now: { clock.now() })

        #expect(try await validator.validate(token).status == .valid)

        // Banned by an admin (the session row is still there: the ban is a fact of the user).
        source.update { $0[token]?.banned = true; $0[token]?.banReason = "botting" }
        let banned = try await validator.validate(token)
        #expect(banned.status == .banned && banned.banReason == "botting" && banned.accountID == "u-1")

        // A temporary ban that has run out no longer refuses.
        source.update { $0[token]?.banExpiresAtMs = Int64(Self.start.timeIntervalSince1970 * 1000) - 1 }
        #expect(try await validator.validate(token).status == .valid)

        // Expiry is judged against the clock at each validation, not at login.
        clock.set(Self.start.addingTimeInterval(3600))
        #expect(try await validator.validate(token).status == .expired)

        // Signed out (better-auth deletes the row; also revoke, and a ban through the admin
        // plugin, which deletes every session of the user).
        clock.set(Self.start)
        source.update { $0[token] = nil }
        #expect(try await validator.validate(token) == SessionVerdict(status: .unknown))
    }

    @Test func aSourceThatCannotAnswerIsNotAVerdict() async {
        // A re-check during a database outage must not read as "signed out": it throws, and the
        // gRPC edge answers UNAVAILABLE, which the gateway treats as "ask again later".
        let validator = SessionValidator(source: FailingSource(), configuration: AuthConfiguration(), logger: Logger(label: "test"))
        await #expect(throws: FailingSource.Down.self) { try await validator.validate(token) }
    }
}
