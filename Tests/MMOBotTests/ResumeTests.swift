import MMOClient
import MMOProtocol
import MMOTestSupport
import Synchronization
import Testing

@testable import MMOBot

/// Everything a client received, and the world as it would draw it.
final class EventLog: Sendable {
    private let state = Mutex<(events: [ClientEvent], view: WorldView)>(([], WorldView()))
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(_ client: GameClient, entry: WorldEntry) {
        state.withLock { $0.view = WorldView(entry: entry) }
        let task = Task { [self] in
            for await event in client.events {
                state.withLock {
                    $0.events.append(event)
                    $0.view.apply(event)
                }
            }
        }
        consumer.withLock { $0 = task }
    }

    var events: [ClientEvent] { state.withLock { $0.events } }
    var view: WorldView { state.withLock { $0.view } }

    func contains(_ predicate: (ClientEvent) -> Bool) -> Bool { events.contains(where: predicate) }

    var resumed: [ResumedSession] { events.compactMap { if case .resumed(let s) = $0 { s } else { nil } } }
    var reconnects: [GameClientError] { events.compactMap { if case .reconnecting(let r) = $0 { r } else { nil } } }
    var finished: Bool { events.last == .connectionClosed }
}

/// Reconnect and resume (docs/protocol.md "Reconnecting") over real TCP against the fake
/// server: the SDK resumes after a drop, a dead link, IDLE_TIMEOUT; falls back to LOGIN +
/// ENTER_WORLD after a refusal; does not resume after LOGOUT or LOGGED_IN_ELSEWHERE; VIEW_RESET
/// resets the view; and the bots play through drops.
@Suite("Reconnect and resume", .timeLimit(.minutes(1)))
struct ResumeTests {
    static let characters = ["a": ["Alice"], "b": ["Bob"]]

    private func enter(_ server: FakeGameServer, token: String, _ configure: (inout GameClientConfiguration) -> Void = { _ in })
        async throws -> (GameClient, EventLog, CharacterSummary, WorldEntry)
    {
        var configuration = GameClientConfiguration()
        configuration.requestTimeout = .seconds(5)
        configuration.resume.initialBackoff = .milliseconds(20)
        configure(&configuration)
        let client = try await GameClient.connect(host: "127.0.0.1", port: server.port, clientName: "resume-tests",
                                                  timeout: .seconds(5), configuration: configuration)
        _ = try await client.login(token: token)
        let character = try #require(try await client.listCharacters().characters.first)
        let entry = try await client.enterWorld(characterId: character.id)
        return (client, EventLog(client, entry: entry), character, entry)
    }

    @Test("a cut connection resumes the same character: view reset and refilled, events go on, token rotated and used once")
    func resumesAfterDrop() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a", "b"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let (alice, aliceLog, aliceCharacter, aliceEntry) = try await enter(server, token: "a")
        let (bob, bobLog, _, _) = try await enter(server, token: "b")
        try await eventually("Alice sees Bob") { aliceLog.view.sees("Bob") }
        try alice.move(x: 12, y: 20)
        try await eventually("Bob sees Alice move") { bobLog.view.entity(named: "Alice")?.x == 12 }
        let firstToken = try #require(server.log.resumeTokensIssued.first)

        server.drop(character: "Alice")
        try await eventually("Alice resumed") { aliceLog.resumed.count == 1 }
        let session = aliceLog.resumed[0]
        #expect(aliceLog.reconnects == [.connectionClosed])
        #expect(session.characterId == aliceCharacter.id)
        #expect(session.entry.entityId != aliceEntry.entityId)
        #expect((session.entry.x, session.entry.y) == (12, 20), "the character keeps its live position")
        #expect(server.log.resumeTokensPresented == [firstToken])
        #expect(server.log.logins == ["a", "b"], "a resume is not a LOGIN")
        // The disconnect was never shown as the end of the session.
        #expect(!aliceLog.contains { if case .disconnected = $0 { true } else { false } })
        #expect(!aliceLog.contains { $0 == .connectionClosed })
        #expect(alice.isConnected && !alice.isReconnecting)

        // The view forgot everything, took the new entity id and was refilled by the snapshot.
        try await eventually("the snapshot refills the view") { aliceLog.view.sees("Bob") && aliceLog.view.sees("Alice") }
        #expect(aliceLog.view.selfEntityId == session.entry.entityId)
        #expect(aliceLog.view.entity(named: "Alice")?.id == session.entry.entityId)
        #expect(aliceLog.view.entities.count == 2)

        // Events and requests go on over the new connection, both ways.
        try bob.say("welcome back")
        try await eventually("Alice hears Bob") { aliceLog.view.chatLines(from: "Bob").contains { $0.text == "welcome back" } }
        try alice.move(x: 13, y: 20)
        try await eventually("Bob sees the resumed Alice move") {
            bobLog.view.entity(id: session.entry.entityId)?.x == 13
        }
        _ = try await alice.ping()

        // A second drop presents the token the resume issued, never the used one.
        let secondToken = server.log.resumeTokensIssued.last!
        #expect(secondToken != firstToken)
        server.drop(character: "Alice")
        try await eventually("Alice resumed again") { aliceLog.resumed.count == 2 }
        #expect(server.log.resumeTokensPresented == [firstToken, secondToken])
        #expect(server.log.resumes == 2 && server.log.resumesRejected == 0)

        await alice.logout()
        await bob.logout()
        try await eventually("streams end") { aliceLog.finished && bobLog.finished }
    }

    @Test("a server that stops answering is a dead link: the client closes it and resumes within the timeout plus backoff")
    func deadLink() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a") {
            $0.resume.heartbeatInterval = .milliseconds(100)
            $0.resume.deadLinkTimeout = .milliseconds(600)
        }
        // Heartbeats keep a quiet but live link open well past the dead-link timeout.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(log.reconnects.isEmpty)
        #expect(alice.isConnected)

        let silenced = ContinuousClock.now
        server.silence()
        try await eventually("resumed", timeout: .seconds(5)) { log.resumed.count == 1 }
        let took = ContinuousClock.now - silenced
        #expect(took >= .milliseconds(500), "not before the dead-link timeout (\(took))")
        #expect(took < .milliseconds(600 + 1500), "within the timeout plus a heartbeat and the first attempt (\(took))")
        #expect(log.reconnects == [.connectionClosed])
        #expect(alice.isConnected)
        await alice.logout()
    }

    @Test("DISCONNECT(IDLE_TIMEOUT) in the world resumes; it is not reported as the end")
    func idleTimeoutResumes() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a")
        server.disconnectAll(code: .idleTimeout)
        try await eventually("resumed") { log.resumed.count == 1 }
        #expect(log.reconnects == [.disconnected(.idleTimeout, message: "test")])
        #expect(!log.contains { if case .disconnected = $0 { true } else { false } })
        await alice.logout()
    }

    @Test("RESUME_REJECTED falls back to LOGIN and ENTER_WORLD of the same character at its live position")
    func rejectedFallsBack() async throws {
        var options = FakeGameServer.Options(tokens: ["a"], existingCharacters: Self.characters)
        options.rejectResumes = true
        let server = try await FakeGameServer.start(options)
        defer { Task { await server.shutdown() } }
        let (alice, log, character, entry) = try await enter(server, token: "a")
        try alice.move(x: 15, y: 21)
        try await eventually("the server has the move") { server.log.lastPositions["Alice"] == BotPosition(x: 15, y: 21) }

        server.drop(character: "Alice")
        try await eventually("re-entered") {
            log.contains { if case .reentered = $0 { true } else { false } }
        }
        let reentry = log.events.compactMap { event -> (UInt64, WorldEntry, ResultCode)? in
            if case .reentered(let id, let entry, let code) = event { (id, entry, code) } else { nil }
        }[0]
        #expect(reentry.0 == character.id)
        #expect(reentry.2 == .resumeRejected)
        #expect(reentry.1.entityId != entry.entityId)
        #expect((reentry.1.x, reentry.1.y) == (15, 21))
        #expect(server.log.resumesRejected == 1)
        #expect(server.log.logins == ["a", "a"])
        #expect(server.log.entered == 2)
        try await eventually("the view follows the new entity") { log.view.entity(named: "Alice")?.id == reentry.1.entityId }
        #expect(log.view.selfEntityId == reentry.1.entityId)
        #expect(log.resumed.isEmpty)
        #expect(alice.isConnected)
        try alice.move(x: 16, y: 21)
        try await eventually("moves go on") { server.log.lastPositions["Alice"] == BotPosition(x: 16, y: 21) }
        await alice.logout()
        try await eventually("stream ends") { log.finished }
    }

    @Test("no server to come back to: it gives up when the grace period passes, with resumeFailed then connectionClosed")
    func givesUpAfterGrace() async throws {
        var options = FakeGameServer.Options(tokens: ["a"], existingCharacters: Self.characters)
        options.graceSeconds = 1
        let server = try await FakeGameServer.start(options)
        let (alice, log, _, _) = try await enter(server, token: "a")
        let started = ContinuousClock.now
        await server.shutdown()
        try await eventually("gave up", timeout: .seconds(5)) { log.finished }
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(log.reconnects == [.connectionClosed])
        #expect(log.contains { if case .resumeFailed = $0 { true } else { false } })
        #expect(alice.closeReason != nil)
        #expect(throws: GameClientError.self) { try alice.move(x: 1, y: 1) }
    }

    @Test("requests made while reconnecting wait for the resume and go out on the new connection")
    func requestWaitsForResume() async throws {
        var options = FakeGameServer.Options(tokens: ["a"], existingCharacters: Self.characters)
        options.resumeDelay = .milliseconds(500)
        let server = try await FakeGameServer.start(options)
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a")
        server.drop(character: "Alice")
        try await eventually("reconnecting") { !log.reconnects.isEmpty }
        #expect(alice.isReconnecting)
        #expect(!alice.isConnected)
        // MOVE and SAY are dropped meanwhile, without an error.
        try alice.move(x: 11, y: 20)
        try alice.say("lost")
        try await alice.leaveWorld()
        #expect(log.resumed.count == 1)
        #expect(server.log.moves == 0 && server.log.chats.isEmpty)
        #expect(server.log.leaves == 1)
        await alice.logout()
    }

    @Test("a request that waits for a resume longer than its timeout fails with timedOut; the resume still completes")
    func requestTimesOutWhileReconnecting() async throws {
        var options = FakeGameServer.Options(tokens: ["a"], existingCharacters: Self.characters)
        options.resumeDelay = .milliseconds(800)
        let server = try await FakeGameServer.start(options)
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a") { $0.requestTimeout = .milliseconds(200) }
        server.drop(character: "Alice")
        try await eventually("reconnecting") { alice.isReconnecting }
        await #expect(throws: GameClientError.timedOut(.ping)) { _ = try await alice.ping() }
        try await eventually("resumed") { log.resumed.count == 1 }
        _ = try await alice.ping()
        await alice.logout()
    }

    @Test("no resume after LOGOUT, LEAVE_WORLD or DISCONNECT(LOGGED_IN_ELSEWHERE)")
    func noResumeWhenEnded() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a", "b"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }

        let (alice, aliceLog, _, _) = try await enter(server, token: "a")
        await alice.logout()
        try await eventually("Alice's stream ends") { aliceLog.finished }
        #expect(aliceLog.reconnects.isEmpty)

        let (bob, bobLog, _, _) = try await enter(server, token: "b")
        server.disconnectAll(code: .loggedInElsewhere)
        try await eventually("Bob's stream ends") { bobLog.finished }
        #expect(bobLog.reconnects.isEmpty)
        #expect(bobLog.contains { $0 == .disconnected(code: .loggedInElsewhere, message: "test") })
        #expect(bob.closeReason == .disconnected(.loggedInElsewhere, message: "test"))

        let (again, againLog, _, _) = try await enter(server, token: "a")
        try await again.leaveWorld()
        await again.close()
        try await eventually("the stream ends") { againLog.finished }
        #expect(againLog.reconnects.isEmpty)
        #expect(server.log.resumeTokensPresented.isEmpty)
    }

    @Test("RESUME answered SERVICE_UNAVAILABLE is tried again with the same token after a pause")
    func serviceUnavailableIsRetried() async throws {
        var options = FakeGameServer.Options(tokens: ["a"], existingCharacters: Self.characters)
        options.unavailableResumes = 2
        let server = try await FakeGameServer.start(options)
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a")
        let token = try #require(server.log.resumeTokensIssued.first)
        server.drop(character: "Alice")
        try await eventually("resumed") { log.resumed.count == 1 }
        #expect(server.log.resumeTokensPresented == [token, token, token])
        #expect(server.log.logins == ["a"])
        await alice.logout()
    }

    @Test("with resume turned off a drop ends the client as before")
    func resumeDisabled() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let (alice, log, _, _) = try await enter(server, token: "a") { $0.resume.enabled = false }
        server.drop(character: "Alice")
        try await eventually("the stream ends") { log.finished }
        #expect(log.reconnects.isEmpty)
        #expect(alice.closeReason == .connectionClosed)
        #expect(server.log.resumeTokensPresented.isEmpty)
        #expect(throws: GameClientError.connectionClosed) { try alice.move(x: 1, y: 1) }
    }

    @Test("VIEW_RESET resets the view to the new entity and the snapshot refills it")
    func viewReset() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a", "b"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let (alice, log, _, entry) = try await enter(server, token: "a")
        let (bob, _, _, _) = try await enter(server, token: "b")
        try await eventually("Alice sees Bob") { log.view.sees("Bob") }
        server.resetViews()
        try await eventually("reset") { log.contains { if case .viewReset = $0 { true } else { false } } }
        guard case .viewReset(let newId, _, _, _) = log.events.first(where: { if case .viewReset = $0 { true } else { false } }) else {
            throw TestFailure("no VIEW_RESET")
        }
        #expect(newId != entry.entityId)
        try await eventually("the snapshot refills the view") {
            log.view.selfEntityId == newId && log.view.entity(named: "Alice")?.id == newId && log.view.sees("Bob")
        }
        #expect(log.view.entities.count == 2)
        await alice.logout()
        await bob.logout()
    }

    // MARK: bots

    @Test("a load run where half the connections drop once loses no bot")
    func loadThroughDrops() async throws {
        let tokens = ["a", "b", "c", "d"]
        let server = try await FakeGameServer.start(.init(tokens: Set(tokens)))
        defer { Task { await server.shutdown() } }
        var configuration = LoadConfiguration(
            port: server.port, tokens: tokens, duration: .milliseconds(1500), moveInterval: .milliseconds(50),
            chatInterval: .milliseconds(300), spread: 5, maxSpeed: 7, concurrency: 4, requestTimeout: .seconds(5))
        configuration.progressInterval = .milliseconds(200)
        let run = Task { await LoadRun(configuration: configuration, progress: nil).run() }
        try await eventually("all in the world") { server.log.entered == 4 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.drop(count: 2) == 2)
        let summary = await run.value

        #expect(summary.botsInWorld == 4)
        #expect(summary.botsLostDuringRun == 0)
        #expect(summary.reconnects == 2)
        #expect(summary.botsResumed == 2)
        #expect(summary.botsReentered == 0)
        #expect(summary.failures == [:])
        #expect(server.log.resumes == 2)
        #expect(server.log.leaves == 4 && server.log.logouts == 4)
        #expect(summary.textLines.contains("reconnects:  2 drops in the world, 2 resumed, 0 re-entered after a refused resume, 0 lost"))
        // The resumed bots walk on.
        #expect(summary.movesSent > 20)
    }

    @Test("walk keeps walking through a drop and reports it")
    func walkThroughDrop() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a"], existingCharacters: Self.characters))
        defer { Task { await server.shutdown() } }
        let lines = LineCollector()
        let walk = WalkRun(
            configuration: WalkConfiguration(
                port: server.port, token: "a", character: "Alice", targetX: 100, speed: 4, stepInterval: .milliseconds(50),
                duration: .milliseconds(1500)),
            output: lines.output)
        let run = Task { await walk.walk() }
        try await eventually("walking") { lines.contains("MOVE ") }
        server.drop(character: "Alice")
        #expect(await run.value)
        #expect(lines.contains("RECONNECTING "))
        #expect(lines.contains("RESUMED "))
        #expect(lines.lines.last == "RECONNECTS drops=1 resumed=1 reentered=0 lost=0")
        #expect(!lines.contains("RESUME_FAILED "))
        let movesAfter = lines.lines.drop { !$0.hasPrefix("RESUMED ") }.filter { $0.hasPrefix("MOVE ") }
        #expect(movesAfter.count > 3, "walked on after the resume")
        #expect(server.log.corrections == 0)
        #expect(server.log.leaves == 1 && server.log.logouts == 1)
    }
}
