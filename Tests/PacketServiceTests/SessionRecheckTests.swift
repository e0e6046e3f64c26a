import Foundation
import MMOProtocol
import MMOTestSupport
import NIOCore
import Synchronization
import Testing
@testable import PacketService

/// Valid for "token-<account>" like `FakeAuthenticator`, until the test revokes the session
/// (the web site signs it out, expires it or bans the user) or takes the auth service down.
final class SwitchableAuthenticator: SessionAuthenticator, Sendable {
    private struct State {
        var verdict: SessionValidation.Status = .valid
        var outage = false
        var calls = 0
    }
    private let state = Mutex(State())

    var calls: Int { state.withLock { $0.calls } }
    func set(_ verdict: SessionValidation.Status) { state.withLock { $0.verdict = verdict } }
    func setOutage(_ down: Bool) { state.withLock { $0.outage = down } }

    func validate(token: String) async throws -> SessionValidation {
        let (verdict, outage) = state.withLock { s -> (SessionValidation.Status, Bool) in
            s.calls += 1
            return (s.verdict, s.outage)
        }
        if outage { throw FakeAuthenticator.Outage() }
        guard verdict == .valid, token.hasPrefix("token-") else { return SessionValidation(status: verdict) }
        let account = String(token.dropFirst("token-".count))
        return SessionValidation(status: .valid, accountId: account, displayName: "Name \(account)")
    }
}

@Suite("Periodic session re-check")
struct SessionRecheckTests {
    static var rechecking: ConnectionStateMachine.Limits {
        var configuration = PacketServerConfiguration.test
        configuration.sessionRecheckInterval = .seconds(30)
        return ConnectionStateMachine.Limits(configuration)
    }

    @Test func theDefaultRechecksEveryThirtySeconds() {
        #expect(PacketServerConfiguration().sessionRecheckInterval == .seconds(30))
    }

    @Test func aLoggedInSessionIsAskedAboutAgainAfterTheInterval() {
        var m = machine(in: .inWorld, limits: Self.rechecking)
        #expect(m.timeoutDeadline == t0 + .seconds(30))
        #expect(m.timerFired(now: t0 + .seconds(30)) == .recheckSession(token: "token-acc-1"))
        // In flight: only the idle deadline is armed.
        #expect(m.timeoutDeadline == t0 + .seconds(60))
        #expect(m.sessionRecheckCompleted(.success(validSession()), now: t0 + .seconds(31)) == .none)
        #expect(m.timeoutDeadline == t0 + .seconds(60))
        #expect(m.state == .inWorld)
    }

    @Test(arguments: [
        (SessionValidation.Status.banned, ResultCode.accountBanned),
        (.expired, .tokenExpired),
        (.unknown, .tokenUnknown),
    ])
    func aRevokedSessionIsDisconnectedWithItsCode(status: SessionValidation.Status, code: ResultCode) {
        var m = machine(in: .inWorld, limits: Self.rechecking)
        _ = m.timerFired(now: t0 + .seconds(30))
        #expect(m.sessionRecheckCompleted(.success(SessionValidation(status: status)), now: t0 + .seconds(30))
            == .close(CloseAction(disconnect: code, reason: "session no longer valid", leaveWorld: true)))
    }

    @Test func anotherAccountsVerdictDoesNotKeepTheSession() {
        var m = machine(in: .characterSelect, limits: Self.rechecking)
        _ = m.timerFired(now: t0 + .seconds(30))
        #expect(m.sessionRecheckCompleted(.success(validSession("acc-2")), now: t0 + .seconds(30))
            == .close(CloseAction(disconnect: .tokenUnknown, reason: "session no longer valid", leaveWorld: false)))
    }

    @Test func anAuthOutageIsNotAVerdict() {
        var m = machine(in: .inWorld, limits: Self.rechecking)
        _ = m.timerFired(now: t0 + .seconds(30))
        #expect(m.sessionRecheckCompleted(.failure(FakeAuthenticator.Outage()), now: t0 + .seconds(31)) == .none)
        #expect(m.state == .inWorld)
        #expect(m.timeoutDeadline == t0 + .seconds(60))
        let ping = Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1]))
        _ = m.receive(frame: ping, now: t0 + .seconds(55))
        #expect(m.timeoutDeadline == t0 + .seconds(61))
        #expect(m.timerFired(now: t0 + .seconds(61)) == .recheckSession(token: "token-acc-1"))
    }

    @Test func zeroTurnsRechecksOff() {
        var configuration = PacketServerConfiguration.test
        configuration.sessionRecheckInterval = .zero
        var m = machine(in: .inWorld, limits: ConnectionStateMachine.Limits(configuration))
        #expect(m.timeoutDeadline == t0 + .seconds(60))
        #expect(m.timerFired(now: t0 + .seconds(59)) == .none)
    }

    @Test func theSessionRecheckedIsTheOneThatLoggedIn() {
        var m = machine(in: .awaitingLogin, limits: Self.rechecking)
        _ = m.receive(.login(token: "wrong"))
        _ = m.loginCompleted(.success(SessionValidation(status: .unknown)))
        _ = m.receive(.login(token: "token-acc-1"))
        _ = m.loginCompleted(.success(validSession()))
        _ = m.accountClaimed()
        #expect(m.timerFired(now: t0 + .seconds(30)) == .recheckSession(token: "token-acc-1"))
    }

    /// Through the real handler and its timer: banned on the web site after login, the player is
    /// told ACCOUNT_BANNED at the next re-check and the connection closes; an outage before that
    /// left the player connected.
    @Test func aPlayerBannedWhilePlayingIsDisconnected() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.sessionRecheckInterval = .seconds(30)
        let auth = SwitchableAuthenticator()
        var c = try await TestConnection(services: TestConnection.services(authenticator: auth, configuration: configuration))
        try await c.logIn()
        #expect(auth.calls == 1)

        auth.setOutage(true)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(30))
        try await eventually("the first re-check ran") { auth.calls == 2 }
        try await c.send(.ping(nonce: 1))
        #expect(try await c.receive() == .pong(nonce: 1))

        auth.setOutage(false)
        auth.set(.banned)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(29))
        #expect(try await !c.isClosed)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(1))
        #expect(try await c.receive() == .disconnect(code: .accountBanned, message: "session no longer valid"))
        try await eventually("the connection closed") { try await c.isClosed }
    }
}
