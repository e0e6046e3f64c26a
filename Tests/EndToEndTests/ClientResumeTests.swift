import Foundation
import MMOClient
import MMOProtocol
import MMOTestSupport
import Testing

/// The SDK's automatic resume against the real server (docs/protocol.md "Reconnecting"):
/// Alice plays through a relay that the test cuts or freezes, Bob watches from a direct
/// connection. Nothing in Alice's code does anything about the drop.
@Suite("the SDK resumes against the real server", .serialized, .timeLimit(.minutes(2)))
struct ClientResumeTests {
    /// Alice behind `relay`, with resume settings suited to a test's patience.
    static func alice(on server: InProcessServer, relay: TCPRelay) async throws -> (GameClient, WorldEntry, UInt64) {
        var configuration = GameClientConfiguration()
        configuration.resume.heartbeatInterval = .milliseconds(200)
        configuration.resume.deadLinkTimeout = .seconds(1)
        configuration.resume.initialBackoff = .milliseconds(50)
        let client = try await GameClient.connect(host: "127.0.0.1", port: relay.port, clientName: "alice", configuration: configuration)
        _ = try await client.login(token: try await server.createUser("Alice"))
        let character = try await client.createCharacter(name: "Alice", classId: 1)
        return (client, try await client.enterWorld(characterId: character.id), character.id)
    }

    static func resumed(_ events: [ClientEvent]) -> ResumedSession? {
        events.lazy.compactMap { if case .resumed(let s) = $0 { s } else { nil } }.last
    }

    @Test("a cut connection: the SDK resumes the same character at its live position; Bob never sees it leave; play goes on")
    func resumeAfterACut() async throws {
        try await InProcessServer.with { server in
            let relay = try await TCPRelay.start(to: server.port)
            let (alice, entry, characterId) = try await Self.alice(on: server, relay: relay)
            let aliceEvents = EventRecorder(alice, entry: entry)
            let (bob, bobEntry) = try await server.player("Bob")
            let bobEvents = EventRecorder(bob, entry: bobEntry)
            try await bobEvents.wait("Bob sees Alice") { view, _ in view.sees("Alice") }
            try await aliceEvents.wait("Alice sees Bob") { view, _ in view.sees("Bob") }
            try await aliceEvents.wait("a resume token") { _, _ in alice.canResume }

            _ = try alice.move(x: entry.x + 2, y: entry.y)
            try await bobEvents.wait("Bob sees Alice move") { view, _ in view.position(of: "Alice")?.x == entry.x + 2 }
            let bobBefore = bobEvents.events.count

            await relay.cut()
            try await aliceEvents.wait("Alice resumed") { _, events in Self.resumed(events) != nil }
            let session = try #require(Self.resumed(aliceEvents.events))
            #expect(session.characterId == characterId)
            #expect(session.entry.entityId == entry.entityId, "the world kept the link-dead character's entity")
            #expect(session.entry.x == entry.x + 2, "resumed at the live position, not the saved one")
            #expect(aliceEvents.events.contains { if case .reconnecting = $0 { true } else { false } })
            // The fresh snapshot repopulates the reset view.
            try await aliceEvents.wait("Alice sees Bob again") { view, _ in view.sees("Bob") }
            // Bob never saw Alice leave.
            let bobAfter = bobEvents.events.dropFirst(bobBefore)
            #expect(!bobAfter.contains { event in
                if case .world(_, let list) = event { list.contains(.disappear(entityId: entry.entityId)) } else { false }
            })
            // Play goes on over the new connection.
            _ = try alice.move(x: entry.x + 3, y: entry.y)
            try await bobEvents.wait("Bob sees Alice move after the resume") { view, _ in view.position(of: "Alice")?.x == entry.x + 3 }
            #expect(alice.isConnected)
            await alice.logout()
            await bob.logout()
            await relay.close()
        }
    }

    @Test("a frozen link (no bytes, no close): the SDK's heartbeat notices and resumes")
    func resumeAfterADeadLink() async throws {
        try await InProcessServer.with { server in
            let relay = try await TCPRelay.start(to: server.port)
            let (alice, entry, characterId) = try await Self.alice(on: server, relay: relay)
            let aliceEvents = EventRecorder(alice, entry: entry)
            try await aliceEvents.wait("a resume token") { _, _ in alice.canResume }
            let frozenAt = ContinuousClock.now
            relay.freeze()
            try await aliceEvents.wait("Alice resumed", timeout: .seconds(10)) { _, events in Self.resumed(events) != nil }
            #expect(ContinuousClock.now - frozenAt < .seconds(5), "dead-link timeout 1 s plus backoff")
            #expect(Self.resumed(aliceEvents.events)?.characterId == characterId)
            #expect(server.handles.world?.playerCount == 1, "one character in the world, not two")
            await alice.logout()
            await relay.close()
        }
    }
}
