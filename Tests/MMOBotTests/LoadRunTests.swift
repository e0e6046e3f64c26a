import Testing

@testable import MMOBot

/// The load bots against a real TCP peer (FakeGameServer): ramp-up, characters, the timers on
/// the event loops, move-latency matching, and the orderly leave and logout.
@Suite("Load run", .timeLimit(.minutes(1)))
struct LoadRunTests {
    private func load(_ server: FakeGameServer, tokens: [String]) -> LoadConfiguration {
        var configuration = LoadConfiguration(
            port: server.port, tokens: tokens, duration: .milliseconds(600), moveInterval: .milliseconds(50),
            chatInterval: .milliseconds(200), spread: 5, maxSpeed: 7, concurrency: 2, requestTimeout: .seconds(5))
        configuration.progressInterval = .milliseconds(200)
        return configuration
    }

    @Test("every bot gets in, walks within the speed limit and sees its neighbours' moves; then all leave and log out")
    func fullRun() async throws {
        // What the speed limit allows in one move interval: 7 units/s × 50 ms.
        let server = try await FakeGameServer.start(
            .init(tokens: ["a", "b", "c"], existingCharacters: ["a": ["Botbababababa"]], maxStep: 0.35))
        defer { Task { await server.shutdown() } }
        let progress = LineCollector()
        let summary = await LoadRun(configuration: load(server, tokens: ["a", "b", "c"]), progress: progress.output).run()

        #expect(summary.failures == [:])
        #expect((summary.botsRequested, summary.botsConnected, summary.botsLoggedIn, summary.botsInWorld) == (3, 3, 3, 3))
        #expect(summary.botsLostDuringRun == 0)
        // Bot 0's character existed; the others were created with their spelled-out index.
        #expect(server.log.created.sorted() == ["Botbabababace", "Botbabababadi"])
        // Three bots × 600 ms ÷ 50 ms ≈ 36 moves; timers and the window's edges blur that a little.
        #expect((20...45).contains(summary.movesSent), "\(summary.movesSent) moves")
        #expect(summary.corrections == 0)
        #expect(server.log.corrections == 0)
        // Each move reaches the two other bots, and every one is matched to its send time.
        #expect(summary.moveToNeighbourLatency.samples > summary.movesSent)
        #expect(summary.moveToNeighbourLatency.samples <= 2 * summary.movesSent + 6)
        #expect(summary.unmatchedMoveEvents == 0)
        #expect((summary.moveToNeighbourLatency.p50Ms ?? 0) > 0)
        #expect(summary.loginLatency.samples == 3)
        #expect(summary.connectToInWorldLatency.samples == 3)
        #expect(summary.worldEventsReceived >= summary.moveToNeighbourLatency.samples)
        #expect(summary.bytesSent > 0 && summary.bytesReceived > 0)
        #expect(server.log.chats.contains { $0.hasSuffix(" says hi #1") })
        #expect(server.log.leaves == 3 && server.log.logouts == 3)

        #expect(progress.lines.first == "starting 3 bots against 127.0.0.1:\(server.port)")
        #expect(progress.contains("3 of 3 bots in world after "))
        #expect(progress.contains("in world 3, moves "))
    }

    @Test("a bot that cannot log in is counted by step and code; the others play")
    func refusedToken() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a", "c"]))
        defer { Task { await server.shutdown() } }
        var configuration = load(server, tokens: ["a", "bad", "c"])
        configuration.duration = .milliseconds(200)
        let summary = await LoadRun(configuration: configuration, progress: nil).run()
        #expect(summary.failures == ["login: TOKEN_UNKNOWN": 1])
        #expect((summary.botsConnected, summary.botsLoggedIn, summary.botsInWorld) == (3, 2, 2))
        #expect(summary.loginLatency.samples == 2)
        #expect(server.log.leaves == 2)
    }

    @Test("bots gather around the given centre")
    func center() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["a"]))
        defer { Task { await server.shutdown() } }
        var configuration = load(server, tokens: ["a"])
        // Spawn is (10, 20); 0.26 units per move from there towards (12, 20) takes 8 moves.
        configuration.center = BotPosition(x: 12, y: 20)
        configuration.spread = 0
        configuration.duration = .milliseconds(800)
        let summary = await LoadRun(configuration: configuration, progress: nil).run()
        #expect(summary.botsInWorld == 1)
        #expect(server.log.lastPositions.values.first == BotPosition(x: 12, y: 20))
    }

    @Test("nobody reachable: every bot fails to connect and none is in the world")
    func noServer() async throws {
        let server = try await FakeGameServer.start(.init(tokens: []))
        let port = server.port
        await server.shutdown()
        var configuration = load(server, tokens: ["a", "b"])
        configuration.port = port
        configuration.duration = .milliseconds(50)
        let summary = await LoadRun(configuration: configuration, progress: nil).run()
        #expect(summary.botsInWorld == 0)
        #expect(summary.failures == ["connect: CONNECT_FAILED": 2])
    }
}
