import MMOProtocol
import NIOCore
import Testing
@testable import PacketService

/// RESUME and link-dead closes in `ConnectionStateMachine` (docs/protocol.md "Reconnecting").
@Suite("ConnectionStateMachine: RESUME")
struct ResumeStateMachineTests {
    static let ticket = ResumeTicket(accountId: "acc-1", displayName: "Old name", sessionToken: "token-acc-1", characterId: 2)
    static let resumeToken = "r" + String(repeating: "x", count: 42)

    struct Failure: Error {}

    /// A machine in AWAITING_LOGIN with a RESUME whose token was claimed.
    func claimed(limits custom: ConnectionStateMachine.Limits = limits) -> ConnectionStateMachine {
        var m = machine(in: .awaitingLogin, limits: custom)
        _ = m.receive(.resume(token: Self.resumeToken))
        _ = m.resumeTokenClaimed(.success(Self.ticket))
        return m
    }

    /// A machine whose RESUME reached the world join.
    func joining(limits custom: ConnectionStateMachine.Limits = limits) -> ConnectionStateMachine {
        var m = claimed(limits: custom)
        _ = m.loginCompleted(.success(validSession()))
        _ = m.selectCharacterCompleted(.success(selected(2)))
        _ = m.accountClaimed()
        return m
    }

    @Test func aResumeClaimsValidatesSelectsClaimsTheAccountAndJoinsWithTheResumeFlag() {
        var m = machine(in: .awaitingLogin)
        #expect(m.receive(.resume(token: Self.resumeToken)) == .claimResumeToken(Self.resumeToken))
        #expect(m.hasPendingRequest)
        // The session behind the token is validated again, on the auth path LOGIN uses.
        #expect(m.resumeTokenClaimed(.success(Self.ticket)) == .validateSession(token: "token-acc-1"))
        #expect(m.loginCompleted(.success(validSession())) == .selectCharacter(accountId: "acc-1", characterId: 2))
        #expect(m.selectCharacterCompleted(.success(selected(2))) == .claimAccount(account, resuming: true))
        #expect(m.state == .awaitingLogin)
        let join = m.accountClaimed()
        #expect(join == .joinWorld(WorldJoin(character: FakeCharacters.character(2), accountId: "acc-1", resume: true)))
        #expect(m.worldSessionOpen)
        #expect(m.isJoiningWorld)
        // The display name is the auth service's current one, not the ticket's.
        let session = ResumedSession(accountId: "acc-1", displayName: "Name acc-1", characterId: 2, entry: entry)
        #expect(m.worldJoinAccepted(entry) == .writeAndIssueResumeToken(
            .resumeResult(code: .ok, session: session),
            ResumeTicket(accountId: "acc-1", displayName: "Name acc-1", sessionToken: "token-acc-1", characterId: 2)))
        #expect(m.state == .inWorld)
        #expect(m.account == account)
        #expect(m.acceptsWorldUpdates)
        #expect(!m.hasPendingRequest)
        #expect(m.failedLogins == 0)
        #expect(m.resumeTokenMessage("next") == .resumeToken(token: "next", graceSeconds: 60))
        // In the world as after ENTER_WORLD: moves go to the world.
        #expect(m.receive(.move(seq: 1, x: 1, y: 2)) == .forwardMove(seq: 1, x: 1, y: 2))
    }

    @Test func anUnknownUsedOrExpiredTokenIsRejectedAndCountsAsAFailedLogin() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.resume(token: Self.resumeToken))
        #expect(m.resumeTokenClaimed(.success(nil)) == .write(.resumeResult(code: .resumeRejected, session: nil)))
        #expect(m.state == .awaitingLogin)
        #expect(m.failedLogins == 1)
        #expect(!m.hasPendingRequest)
        // The connection may log in normally after a refusal.
        #expect(m.receive(.login(token: "token-acc-1")) == .validateSession(token: "token-acc-1"))
    }

    @Test func aStoreOutageIsServiceUnavailableAndNotCounted() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.resume(token: Self.resumeToken))
        #expect(m.resumeTokenClaimed(.failure(Failure())) == .write(.resumeResult(code: .serviceUnavailable, session: nil)))
        #expect(m.failedLogins == 0)
        #expect(m.state == .awaitingLogin)
    }

    @Test(arguments: [
        (SessionValidation.Status.unknown, ResultCode.tokenUnknown),
        (.expired, .tokenExpired),
        (.banned, .accountBanned),
        (.malformed, .tokenMalformed),
    ])
    func aSessionNoLongerValidIsAnsweredWithItsLoginCode(status: SessionValidation.Status, code: ResultCode) {
        var m = claimed()
        #expect(m.loginCompleted(.success(SessionValidation(status: status))) == .write(.resumeResult(code: code, session: nil)))
        #expect(m.failedLogins == 1)
        #expect(m.state == .awaitingLogin)
    }

    @Test func aSessionOfAnotherAccountIsTokenUnknown() {
        var m = claimed()
        #expect(m.loginCompleted(.success(validSession("acc-2"))) == .write(.resumeResult(code: .tokenUnknown, session: nil)))
        #expect(m.failedLogins == 1)
    }

    @Test func anAuthOutageIsServiceUnavailableAndNotCounted() {
        var m = claimed()
        #expect(m.loginCompleted(.failure(Failure())) == .write(.resumeResult(code: .serviceUnavailable, session: nil)))
        #expect(m.failedLogins == 0)
    }

    @Test func aCharacterGoneSinceIsRejected() {
        var m = claimed()
        _ = m.loginCompleted(.success(validSession()))
        #expect(m.selectCharacterCompleted(.success(CharacterSelection(status: .notFound))) == .write(.resumeResult(code: .resumeRejected, session: nil)))
        #expect(m.failedLogins == 1)
        var n = claimed()
        _ = n.loginCompleted(.success(validSession()))
        #expect(n.selectCharacterCompleted(.failure(Failure())) == .write(.resumeResult(code: .serviceUnavailable, session: nil)))
        #expect(n.failedLogins == 0)
    }

    @Test func theWorldRefusingTheJoinFailsTheResume() {
        var m = joining()
        #expect(m.worldJoinRejected(.worldFull) == .write(.resumeResult(code: .worldFull, session: nil)))
        #expect(!m.worldSessionOpen)
        #expect(m.state == .awaitingLogin)
        #expect(m.failedLogins == 1)
    }

    @Test func theWorldLinkFailingDuringTheJoinIsServiceUnavailable() {
        var m = joining()
        #expect(m.worldLinkLost() == .write(.resumeResult(code: .serviceUnavailable, session: nil)))
        #expect(m.state == .awaitingLogin)
        #expect(m.failedLogins == 0)
        var n = joining()
        #expect(n.joinTimedOut() == .leaveWorld(reply: .resumeResult(code: .serviceUnavailable, session: nil)))
        #expect(!n.worldSessionOpen)
        #expect(n.worldJoinAccepted(entry) == .none)
    }

    @Test func tooManyRefusedResumesDisconnect() {
        var m = machine(in: .awaitingLogin)
        for attempt in 1...limits.maxFailedLogins {
            _ = m.receive(.resume(token: Self.resumeToken))
            let action = m.resumeTokenClaimed(.success(nil))
            if attempt < limits.maxFailedLogins {
                #expect(action == .write(.resumeResult(code: .resumeRejected, session: nil)))
            } else {
                #expect(action == .close(CloseAction(
                    message: .resumeResult(code: .resumeRejected, session: nil), disconnect: .rateLimited,
                    reason: "too many failed logins", leaveWorld: false)))
            }
        }
        #expect(m.state == .closed)
    }

    @Test func aResumeIsARequestServedOneAtATime() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.resume(token: Self.resumeToken))
        #expect(m.receive(.resume(token: Self.resumeToken)) == .write(.error(requestOpcode: Opcode.resume.rawValue, code: .busy)))
        #expect(m.receive(.login(token: "token-acc-1")) == .write(.error(requestOpcode: Opcode.login.rawValue, code: .busy)))
        // Answers meant for a LOGIN do not advance it.
        #expect(m.accountClaimed() == .none)
    }

    @Test func theLoginDeadlineCoversAResume() {
        var m = joining()
        #expect(m.timerFired(now: t0 + .seconds(10)) == .close(CloseAction(disconnect: .loginTimeout, reason: "no login in time", leaveWorld: true)))
    }

    @Test func aResumedSessionIsRecheckedPeriodically() {
        var m = joining(limits: SessionRecheckTests.rechecking)
        _ = m.worldJoinAccepted(entry)
        #expect(m.timeoutDeadline == t0 + .seconds(30))
        #expect(m.timerFired(now: t0 + .seconds(30)) == .recheckSession(token: "token-acc-1"))
        #expect(m.sessionRecheckCompleted(.success(SessionValidation(status: .banned)), now: t0 + .seconds(31))
            == .close(CloseAction(disconnect: .accountBanned, reason: "session no longer valid", leaveWorld: true)))
    }

    // MARK: link-dead closes

    static let linkDead = ConnectionStateMachine.LinkDeadCharacter(accountId: "acc-1", characterId: 1)

    @Test func aDropInTheWorldLeavesTheCharacterLinkDead() {
        var m = machine(in: .inWorld)
        #expect(m.connectionClosed() == .close(CloseAction(disconnect: nil, reason: "connection closed", leaveWorld: false, linkDead: Self.linkDead)))
    }

    @Test func shutdownAndAResumeTakeoverLeaveTheCharacterLinkDead() {
        var m = machine(in: .inWorld)
        #expect(m.kick(.serverShuttingDown, reason: "bye")
            == .close(CloseAction(disconnect: .serverShuttingDown, reason: "bye", leaveWorld: false, linkDead: Self.linkDead)))
        var n = machine(in: .inWorld)
        #expect(n.kick(.loggedInElsewhere, reason: "resumed", keepCharacter: true)
            == .close(CloseAction(disconnect: .loggedInElsewhere, reason: "resumed", leaveWorld: false, linkDead: Self.linkDead)))
    }

    @Test func closesForTheClientsOrSessionsFaultLeaveAtOnce() {
        var m = machine(in: .inWorld)
        #expect(m.receive(.logout) == .close(CloseAction(disconnect: .ok, reason: "logged out", leaveWorld: true)))
        var n = machine(in: .inWorld)
        #expect(n.protocolError(.unknownOpcode(0x7777)) == .close(CloseAction(disconnect: .unknownOpcode, reason: "unknown opcode 0x7777", leaveWorld: true)))
        var o = machine(in: .inWorld)
        #expect(o.kick(.loggedInElsewhere, reason: "login") == .close(CloseAction(disconnect: .loggedInElsewhere, reason: "login", leaveWorld: true)))
        var p = machine(in: .inWorld)
        #expect(p.kick(.rateLimited, reason: "not reading") == .close(CloseAction(disconnect: .rateLimited, reason: "not reading", leaveWorld: true)))
    }

    @Test func withoutAGracePeriodNothingIsLinkDeadAndNoTokenIsIssued() {
        var m = machine(in: .characterSelect, limits: noResume)
        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        #expect(m.worldJoinAccepted(entry) == .write(.enterWorldResult(code: .ok, entry: entry)))
        #expect(m.kick(.serverShuttingDown, reason: "bye") == .close(CloseAction(disconnect: .serverShuttingDown, reason: "bye", leaveWorld: true)))
    }

    @Test("a version 1 client (which knows no RESUME_TOKEN or VIEW_RESET) gets neither, and a drop takes its character out at once")
    func versionOneClientsAreServedVersionOne() {
        var m = ConnectionStateMachine(limits: limits, now: t0)
        #expect(m.receive(.hello(.init(version: 1, clientName: "old"))) == .write(.helloAck(version: 1, maxClientFrame: 4096)))
        #expect(m.protocolVersion == 1)
        _ = m.receive(.login(token: "token-acc-1"))
        _ = m.loginCompleted(.success(validSession()))
        _ = m.accountClaimed()
        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        #expect(m.worldJoinAccepted(entry) == .write(.enterWorldResult(code: .ok, entry: entry)))
        #expect(m.worldReadmitted(entry) == .none)
        #expect(m.connectionClosed() == .close(CloseAction(disconnect: nil, reason: "connection closed", leaveWorld: true)))
    }

    @Test("HELLO versions outside 1-2 are UNSUPPORTED_VERSION; a version 2 HELLO is acknowledged as 2")
    func versionsOutsideTheRangeAreRefused() {
        for version: UInt16 in [0, 3] {
            var m = ConnectionStateMachine(limits: limits, now: t0)
            guard case .close(let close) = m.receive(.hello(.init(version: version, clientName: "x"))) else {
                Issue.record("version \(version) not refused")
                continue
            }
            #expect(close.disconnect == .unsupportedVersion)
        }
        var m = ConnectionStateMachine(limits: limits, now: t0)
        #expect(m.receive(.hello(.init(version: 2, clientName: "new"))) == .write(.helloAck(version: 2, maxClientFrame: 4096)))
        #expect(m.protocolVersion == 2)
    }

    @Test func aTokenIsAnnouncedOnlyInTheWorld() {
        var m = machine(in: .inWorld)
        _ = m.receive(.leaveWorld)
        #expect(m.resumeTokenMessage("late") == nil)
    }

    // MARK: VIEW_RESET

    @Test func aReadmissionAfterTheWorldLinkCameBackIsAViewReset() {
        var m = machine(in: .inWorld)
        let fresh = WorldEntry(entityId: 5005, zoneId: 7, x: 1, y: 2, tickRateHz: 20)
        #expect(m.worldReadmitted(fresh) == .write(.viewReset(entityId: 5005, zoneId: 7, x: 1, y: 2)))
        var n = machine(in: .characterSelect)
        #expect(n.worldReadmitted(fresh) == .none)
    }
}
