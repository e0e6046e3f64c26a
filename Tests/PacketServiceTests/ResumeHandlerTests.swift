import MMOProtocol
import MMOTestSupport
import NIOCore
import Testing
@testable import PacketService

/// RESUME through the real connection handler (`NIOAsyncTestingChannel`, fake backends, the
/// in-memory token store): tokens issued, link-dead characters kept, re-bound and expired.
@Suite(.timeLimit(.minutes(1))) struct ResumeHandlerTests {
    struct Gateway {
        let registry = SessionRegistry(maxConnections: 10)
        let world = FakeWorldLink()
        let store = MemoryResumeTokenStore()
        var services: GatewayServices { TestConnection.services(registry: registry, world: world, resumeTokens: store) }
    }

    /// Logs in `id` as acc-1, enters the world with character 2 and returns the resume token.
    static func inWorld(_ gateway: Gateway, id: UInt64) async throws -> (TestConnection, String) {
        var c = try await TestConnection(id: id, services: gateway.services)
        c.skipResumeTokens = false
        try await c.logIn()
        let joins = gateway.world.inputs.count
        try await c.send(.enterWorld(characterId: 2))
        while gateway.world.inputs.count == joins { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: id, via: gateway.registry)
        #expect(try await c.receive() == .enterWorldResult(code: .ok, entry: entry))
        guard case .resumeToken(let token, let grace) = try await c.receive() else { throw TestFailure("no RESUME_TOKEN") }
        #expect(grace == 60)
        #expect(ResumeToken.isWellFormed(token))
        return (c, token)
    }

    static func resume(_ c: inout TestConnection, _ token: String) async throws {
        try await c.send(.hello(.init(clientName: "test")))
        _ = try await c.receive()
        try await c.send(.resume(token: token))
    }

    @Test func aDroppedCharacterIsResumedOnANewConnectionAndTheOldSessionIsForgotten() async throws {
        let gateway = Gateway()
        var (old, token) = try await Self.inWorld(gateway, id: 1)
        try await old.channel.close()
        #expect(gateway.registry.linkDead(account: "acc-1")?.session == 1)
        #expect(!gateway.world.inputs.contains(.leave(session: 1)))

        var new = try await TestConnection(id: 2, services: gateway.services)
        new.skipResumeTokens = false
        try await Self.resume(&new, token)
        while gateway.world.inputs.count < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(gateway.world.inputs.last == .join(
            session: 2, WorldJoin(character: FakeCharacters.character(2), accountId: "acc-1", resume: true)))
        // The world re-binds: the old session is told it is out, the new one is accepted.
        gateway.registry.deliver([(session: UInt64(1), output: WorldOutput.left(.loggedInElsewhere)), (session: UInt64(2), output: accepted)])
        #expect(try await new.receive() == .resumeResult(
            code: .ok, session: ResumedSession(accountId: "acc-1", displayName: "Name acc-1", characterId: 2, entry: entry)))
        guard case .resumeToken(let next, 60) = try await new.receive() else { throw TestFailure("no new RESUME_TOKEN") }
        #expect(next != token)
        #expect(gateway.registry.linkDeadCount == 0)
        // The old session's grace timer sends no leave: the character is the new session's.
        await old.channel.testingEventLoop.advanceTime(by: .seconds(61))
        #expect(!gateway.world.inputs.contains(.leave(session: 1)))
        // Moves go to the world under the new session.
        try await new.send(.move(seq: 1, x: 1, y: 1))
        try await new.send(.ping(nonce: 9))
        #expect(try await new.receive() == .pong(nonce: 9))
        #expect(gateway.world.inputs.last == .move(session: 2, seq: 1, x: 1, y: 1))
        // The spent token is refused.
        var third = try await TestConnection(id: 3, services: gateway.services)
        try await Self.resume(&third, token)
        #expect(try await third.receive() == .resumeResult(code: .resumeRejected, session: nil))
        #expect(try await !third.isClosed)
    }

    @Test func aResumeClosesAStillOpenOldConnectionWithoutTakingTheCharacterOut() async throws {
        let gateway = Gateway()
        var (old, token) = try await Self.inWorld(gateway, id: 1)
        var new = try await TestConnection(id: 2, services: gateway.services)
        try await Self.resume(&new, token)
        #expect(try await old.receive() == .disconnect(code: .loggedInElsewhere, message: "your account logged in from another client"))
        while gateway.world.inputs.count < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(!gateway.world.inputs.contains(.leave(session: 1)), "the character is kept for the resume")
        #expect(gateway.world.inputs.last == .join(
            session: 2, WorldJoin(character: FakeCharacters.character(2), accountId: "acc-1", resume: true)))
    }

    @Test func leavingTheWorldOnPurposeKillsTheToken() async throws {
        let gateway = Gateway()
        var (c, token) = try await Self.inWorld(gateway, id: 1)
        try await c.send(.leaveWorld)
        #expect(try await c.receive() == .leftWorld(code: .ok))
        try await eventually("the token is gone") { gateway.store.count == 0 }
        var other = try await TestConnection(id: 2, services: gateway.services)
        try await Self.resume(&other, token)
        #expect(try await other.receive() == .resumeResult(code: .resumeRejected, session: nil))
    }

    @Test func aLoginEndsTheAccountsLinkDeadCharacterAndItsToken() async throws {
        let gateway = Gateway()
        var (old, token) = try await Self.inWorld(gateway, id: 1)
        try await old.channel.close()
        #expect(gateway.registry.linkDeadCount == 1)
        var again = try await TestConnection(id: 2, services: gateway.services)
        try await again.logIn()
        #expect(gateway.world.inputs.last == .leave(session: 1))
        #expect(gateway.registry.linkDeadCount == 0)
        try await eventually("the token is gone") { gateway.store.count == 0 }
        var third = try await TestConnection(id: 3, services: gateway.services)
        try await Self.resume(&third, token)
        #expect(try await third.receive() == .resumeResult(code: .resumeRejected, session: nil))
    }

    @Test func oneLinkDeadCharacterPerAccount() {
        let registry = SessionRegistry(maxConnections: 10)
        let first = LinkDeadSession(session: 1, accountId: "acc-1", characterId: 1, resumeToken: nil)
        let second = LinkDeadSession(session: 2, accountId: "acc-1", characterId: 2, resumeToken: nil)
        #expect(registry.addLinkDead(first) == nil)
        // The newer one displaces the older, which the caller then ends (leave + token).
        #expect(registry.addLinkDead(second) == first)
        #expect(registry.linkDeadCount == 1)
        #expect(registry.removeLinkDead(session: 1) == nil)
        #expect(registry.removeLinkDead(session: 2) == second)
        #expect(registry.linkDeadCount == 0)
    }

    @Test func refusedResumesCountAgainstTheAddress() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.maxFailedLoginsPerAddress = 3
        configuration.addressLimitExempt = []
        let registry = SessionRegistry(maxConnections: 10, addressLimits: AddressLimiter.Configuration(configuration))
        let services = TestConnection.services(registry: registry, configuration: configuration)
        for id in UInt64(1)...3 {
            var c = try await TestConnection(id: id, services: services)
            try await Self.resume(&c, ResumeToken.generate())
            #expect(try await c.receive() == .resumeResult(code: .resumeRejected, session: nil))
        }
        // Blocked: the next attempt, on a new connection, may not even try.
        var blocked = try await TestConnection(id: 9, services: services)
        #expect(try await blocked.receive() == .disconnect(code: .addressBlocked, message: PacketConnectionHandler.addressBlockedReason))
    }

    @Test func aBadTokenIsRejectedWithoutTouchingTheWorldAndCounts() async throws {
        let gateway = Gateway()
        var c = try await TestConnection(id: 1, services: gateway.services)
        try await Self.resume(&c, "not-a-token")
        #expect(try await c.receive() == .resumeResult(code: .resumeRejected, session: nil))
        #expect(gateway.world.inputs.isEmpty)
        for _ in 2...limits.maxFailedLogins {
            try await c.send(.resume(token: ResumeToken.generate()))
            _ = try await c.receive()
        }
        #expect(try await c.receive() == .disconnect(code: .rateLimited, message: "too many failed logins"))
    }
}
