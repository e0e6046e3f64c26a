import DevTools
import Foundation
import MMOProtocol
import MMOServer
import MMOTestSupport
import Testing

/// Issue 7, "reconnect and resume", over real TCP with the whole server in process: a dropped
/// connection leaves its character link-dead for the grace period; RESUME on a new connection
/// takes it back (docs/protocol.md "Reconnecting").
@Suite("reconnect and resume", .serialized, .timeLimit(.minutes(2)))
struct ResumeTests {
    /// A new account logged in on a raw connection, with `name` created and in the world.
    static func player(_ name: String, on server: InProcessServer) async throws
        -> (client: RawClient, accountId: String, characterId: UInt64, entry: WorldEntry, token: String)
    {
        let account = try await server.database.createAuthUser(name: name, email: "\(name.lowercased())@example.test", password: nil)
        let session = try await server.database.createAuthSession(userId: account)
        let client = try await RawClient.connect(port: server.port)
        try await client.login(token: session)
        let (characterId, entry, token) = try await client.createAndEnter(name)
        return (client, account, characterId, entry, token)
    }

    static func appears(_ events: [WorldEvent], _ entity: UInt64) -> Bool {
        events.contains { if case .appear(let a) = $0 { a.entityId == entity } else { false } }
    }

    static func disappears(_ events: [WorldEvent], _ entity: UInt64) -> Bool {
        events.contains { if case .disappear(let id) = $0 { id == entity } else { false } }
    }

    /// Walks `steps` × 0.5 units along x at 5 units per second (within the speed limit).
    static func walk(_ client: RawClient, from entry: WorldEntry, steps: Int) async throws -> Float {
        for step in 1...steps {
            client.send(.move(seq: UInt32(step), x: entry.x + 0.5 * Float(step), y: entry.y))
            try await Task.sleep(for: .milliseconds(100))
        }
        return entry.x + 0.5 * Float(steps)
    }

    @Test("a dropped player stays in the world link-dead; RESUME takes it back with the same entity, a new token and a fresh snapshot; the old token is spent")
    func resumeAfterADrop() async throws {
        try await InProcessServer.with { server in
            let alice = try await Self.player("Alice", on: server)
            let bob = try await Self.player("Bob", on: server)
            #expect(alice.token.count == 43)
            if case .resumeToken(_, let grace)? = alice.client.messages.last(where: { if case .resumeToken = $0 { true } else { false } }) {
                #expect(grace == 60)
            }
            try await eventually("Bob sees Alice") { Self.appears(bob.client.worldEvents(), alice.entry.entityId) }
            let x = try await Self.walk(alice.client, from: alice.entry, steps: 4)
            try await eventually("Bob sees Alice walk") {
                bob.client.worldEvents().contains { if case .move(alice.entry.entityId, x, _) = $0 { true } else { false } }
            }

            await alice.client.kill()
            // Link-dead: still in the world, still visible, for the grace period.
            let bobSeenBefore = bob.client.messages.count
            try await Task.sleep(for: .milliseconds(500))
            #expect(server.handles.world?.playerCount == 2)
            #expect(!Self.disappears(bob.client.worldEvents(after: bobSeenBefore), alice.entry.entityId))

            let back = try await RawClient.connect(port: server.port)
            let index = back.messages.count
            let result = try await back.resume(alice.token)
            guard case .resumeResult(.ok, let session?) = result else { throw TestFailure("resume failed: \(result)") }
            #expect(session.accountId == alice.accountId)
            #expect(session.displayName == "Alice")
            #expect(session.characterId == alice.characterId)
            #expect(session.entry.entityId == alice.entry.entityId)
            #expect(session.entry.x == x && session.entry.y == alice.entry.y)
            #expect(session.entry.tickRateHz == 20)
            let next = try await back.next("a new RESUME_TOKEN", after: index) { if case .resumeToken = $0 { true } else { false } }
            guard case .resumeToken(let newToken, 60) = next else { throw TestFailure("\(next)") }
            #expect(newToken != alice.token && newToken.count == 43)

            // The fresh snapshot: APPEAR of itself first, then of Bob.
            try await eventually("the snapshot") { Self.appears(back.worldEvents(), bob.entry.entityId) }
            let appears = back.worldEvents().compactMap { if case .appear(let a) = $0 { a.entityId } else { nil } }
            #expect(appears.first == alice.entry.entityId)
            #expect(appears.contains(bob.entry.entityId))
            // Bob saw nothing of it: no DISAPPEAR, no second APPEAR of Alice.
            let bobSince = bob.client.worldEvents(after: bobSeenBefore)
            #expect(!Self.disappears(bobSince, alice.entry.entityId))
            #expect(!Self.appears(bobSince, alice.entry.entityId))

            // The resumed connection plays on: Bob sees its move under the same entity id.
            back.send(.move(seq: 10, x: x + 0.5, y: alice.entry.y))
            try await eventually("Bob sees the resumed Alice walk") {
                bob.client.worldEvents().contains { if case .move(alice.entry.entityId, x + 0.5, _) = $0 { true } else { false } }
            }

            // The first token was spent.
            let replay = try await RawClient.connect(port: server.port)
            #expect(try await replay.resume(alice.token) == .resumeResult(code: .resumeRejected, session: nil))
            // ... and the connection may still log in.
            #expect(!replay.isClosed)

            back.send(.logout)
            bob.client.send(.logout)
            await replay.kill()
        }
    }

    @Test("when the grace period passes without RESUME, the character leaves: others see it disappear and its live position is saved")
    func graceExpiry() async throws {
        try await InProcessServer.with(configure: { $0.packet.resumeGrace = .seconds(1) }) { server in
            let alice = try await Self.player("Carol", on: server)
            let bob = try await Self.player("Dave", on: server)
            try await eventually("Dave sees Carol") { Self.appears(bob.client.worldEvents(), alice.entry.entityId) }
            let x = try await Self.walk(alice.client, from: alice.entry, steps: 4)
            try await eventually("Dave sees Carol walk") {
                bob.client.worldEvents().contains { if case .move(alice.entry.entityId, x, _) = $0 { true } else { false } }
            }
            let dropped = ContinuousClock.now
            await alice.client.kill()
            try await eventually("Carol disappears for Dave", timeout: .seconds(5)) {
                Self.disappears(bob.client.worldEvents(), alice.entry.entityId)
            }
            #expect(ContinuousClock.now - dropped >= .milliseconds(900), "left before the grace period")
            try await eventually("Carol's live position is saved", timeout: .seconds(5)) {
                let saved = try await server.database.character(account: alice.accountId, id: alice.characterId)
                return saved?.x == x && saved?.y == alice.entry.y
            }
            #expect(server.handles.world?.playerCount == 1)
            let late = try await RawClient.connect(port: server.port)
            #expect(try await late.resume(alice.token) == .resumeResult(code: .resumeRejected, session: nil))
            bob.client.send(.logout)
            await late.kill()
        }
    }

    @Test("LEAVE_WORLD and LOGOUT end the token; a drop with the grace set to 0 leaves at once")
    func tokensDieOnPurposefulExits() async throws {
        try await InProcessServer.with(configure: { $0.packet.resumeGrace = .zero }) { server in
            let account = try await server.database.createAuthUser(name: "Erin", email: "erin@example.test", password: nil)
            let session = try await server.database.createAuthSession(userId: account)
            let erin = try await RawClient.connect(port: server.port)
            try await erin.login(token: session)
            let index = erin.messages.count
            erin.send(.characterCreate(name: "Erin", classId: 1, appearance: 0))
            let created = try await erin.next("created", after: index) { if case .characterCreateResult = $0 { true } else { false } }
            guard case .characterCreateResult(.ok, let character?, _) = created else { throw TestFailure("\(created)") }
            erin.send(.enterWorld(characterId: character.id))
            _ = try await erin.next("entered", after: index) { if case .enterWorldResult(.ok, _) = $0 { true } else { false } }
            try await Task.sleep(for: .milliseconds(200))
            #expect(!erin.messages.contains { if case .resumeToken = $0 { true } else { false } }, "no token without a grace period")
            await erin.kill()
            try await eventually("Erin left at once") { server.handles.world?.playerCount == 0 }
        }
        try await InProcessServer.with { server in
            let frank = try await Self.player("Frank", on: server)
            let index = frank.client.messages.count
            frank.client.send(.leaveWorld)
            _ = try await frank.client.next("LEFT_WORLD", after: index) { if case .leftWorld = $0 { true } else { false } }
            await frank.client.kill()
            let again = try await RawClient.connect(port: server.port)
            #expect(try await again.resume(frank.token) == .resumeResult(code: .resumeRejected, session: nil))
            await again.kill()
        }
    }
}
