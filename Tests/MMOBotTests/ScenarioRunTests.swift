import MMOTestSupport
import Testing

@testable import MMOBot

/// The scenario bot against a real TCP peer (FakeGameServer), so the login, character and world
/// steps, the checks and the PASS/FAIL lines scripts/e2e.sh reads are exercised end to end.
@Suite("Scenario run", .timeLimit(.minutes(1)))
struct ScenarioRunTests {
    /// Fast pacing so a passing run takes about a second and a half.
    private func scenario(_ server: FakeGameServer, token: String, character: String, peer: String? = nil) -> ScenarioConfiguration {
        var configuration = ScenarioConfiguration(
            port: server.port, token: token, character: character, expectPeer: peer, timeout: .seconds(15), grace: .zero,
            chatEvery: .milliseconds(200), stepInterval: .milliseconds(50))
        configuration.minimumPlay = .milliseconds(200)
        return configuration
    }

    @Test("two players create their characters, see each other appear, move and chat, then leave and log out")
    func twoPlayers() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["ta", "tb"]))
        defer { Task { await server.shutdown() } }
        let alice = LineCollector(), bob = LineCollector()
        async let alicePassed = ScenarioRun(configuration: scenario(server, token: "ta", character: "Alice", peer: "Bob"), output: alice.output).play()
        async let bobPassed = ScenarioRun(configuration: scenario(server, token: "tb", character: "Bob", peer: "Alice"), output: bob.output).play()
        let passed = await (alicePassed, bobPassed)
        #expect(passed == (true, true), "\(alice.lines)\n\(bob.lines)")

        for (lines, me, peer) in [(alice, "Alice", "Bob"), (bob, "Bob", "Alice")] {
            #expect(lines.contains("PASS connected to 127.0.0.1:\(server.port) (protocol v"))
            #expect(lines.contains("PASS logged in as Player t"))
            #expect(lines.contains("PASS created character \(me) (id "))
            #expect(lines.contains("PASS entered world as entity "))
            #expect(lines.contains("PASS saw own APPEAR as entity "))
            #expect(lines.contains("PASS heard own chat line \"hello from \(me)\""))
            // The lines scripts/e2e.sh greps for.
            #expect(lines.contains("PASS saw peer \(peer) appear"))
            #expect(lines.contains("PASS saw peer \(peer) move to ("))
            #expect(lines.contains("PASS saw peer \(peer) say \"hello from \(peer)\""))
            #expect(lines.contains("PASS no moves corrected"))
            #expect(lines.contains("INFO sent "))
            #expect(lines.lines.suffix(2) == ["PASS left world", "PASS logged out"])
            #expect(!lines.contains("FAIL"))
        }
        let log = server.log
        #expect(Set(log.created) == ["Alice", "Bob"])
        #expect(log.entered == 2 && log.leaves == 2 && log.logouts == 2)
        #expect(log.corrections == 0)
        #expect(log.chats.contains("hello from Alice") && log.chats.contains("hello from Bob"))
    }

    @Test("an existing character is selected, not created, and the walk reaches --x/--y first")
    func existingCharacter() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["ta"], existingCharacters: ["ta": ["Alice"]]))
        defer { Task { await server.shutdown() } }
        var configuration = scenario(server, token: "ta", character: "alice")
        configuration.target = BotPosition(x: 12, y: 20)
        configuration.say = "custom line"
        let lines = LineCollector()
        #expect(await ScenarioRun(configuration: configuration, output: lines.output).play(), "\(lines.lines)")
        #expect(lines.contains("PASS found character Alice (id 101, level 3) among 1"))
        #expect(lines.contains("PASS reached (12.0, 20.0)"))
        #expect(lines.contains("PASS heard own chat line \"custom line\""))
        #expect(server.log.created.isEmpty)
    }

    @Test("an unknown token fails at login with the code e2e.sh looks for")
    func refusedLogin() async throws {
        let server = try await FakeGameServer.start(.init(tokens: []))
        defer { Task { await server.shutdown() } }
        let lines = LineCollector()
        #expect(await ScenarioRun(configuration: scenario(server, token: "nope", character: "Nobody"), output: lines.output).play() == false)
        #expect(lines.lines.contains { $0.hasPrefix("FAIL login: ") && $0.contains("refused: TOKEN_UNKNOWN(") })
        #expect(!lines.contains("PASS logged in"))
        #expect(server.log.logouts == 1)
    }

    @Test("a name taken by another account is reported as such")
    func nameTaken() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["ta"], takenNames: ["Alice"]))
        defer { Task { await server.shutdown() } }
        let lines = LineCollector()
        #expect(await ScenarioRun(configuration: scenario(server, token: "ta", character: "Alice"), output: lines.output).play() == false)
        #expect(lines.lines.contains("FAIL character name Alice is taken by another account (NAME_TAKEN): Alice is taken"))
        #expect(server.log.entered == 0)
    }

    @Test("moves the server corrects fail the run")
    func corrected() async throws {
        // Steps here are 0.26 units (7 units/s × 50 ms × 0.75); this server accepts at most 0.1.
        let server = try await FakeGameServer.start(.init(tokens: ["ta"], maxStep: 0.1))
        defer { Task { await server.shutdown() } }
        let lines = LineCollector()
        #expect(await ScenarioRun(configuration: scenario(server, token: "ta", character: "Alice"), output: lines.output).play() == false)
        #expect(lines.contains("INFO move 1 corrected to (10.0, 20.0): MOVE_TOO_FAST(40)"))
        #expect(lines.lines.contains { $0.hasPrefix("FAIL ") && $0.hasSuffix("moves corrected by the server (MOVE_TOO_FAST)") })
        #expect(!lines.contains("PASS no moves corrected"))
    }

    @Test("a peer that never comes fails each of its checks when the time is up")
    func absentPeer() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["ta"]))
        defer { Task { await server.shutdown() } }
        var configuration = scenario(server, token: "ta", character: "Alice", peer: "Bob")
        configuration.timeout = .milliseconds(1500)
        let lines = LineCollector()
        let started = ContinuousClock.now
        #expect(await ScenarioRun(configuration: configuration, output: lines.output).play() == false)
        #expect(ContinuousClock.now - started >= .milliseconds(1500))
        for check in ["appear", "move", "chat"] {
            #expect(lines.lines.contains("FAIL did not see peer Bob \(check) within 1.5 s"))
        }
        // Our own checks still passed, and we still left cleanly.
        #expect(lines.contains("PASS heard own chat line"))
        #expect(lines.contains("PASS logged out"))
    }

    @Test("losing the connection in the world for good fails the run once the resume gives up")
    func connectionLost() async throws {
        var options = FakeGameServer.Options(tokens: ["ta"])
        options.graceSeconds = 1  // the SDK tries to resume for the grace period, then gives up
        let server = try await FakeGameServer.start(options)
        var configuration = scenario(server, token: "ta", character: "Alice", peer: "Bob")
        configuration.timeout = .seconds(30)
        let lines = LineCollector()
        let run = Task { await ScenarioRun(configuration: configuration, output: lines.output).play() }
        try await eventually("the bot is in the world") { server.log.moves > 0 }
        await server.shutdown()
        let started = ContinuousClock.now
        #expect(await run.value == false)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(lines.contains("INFO connection lost in the world (connection closed); reconnecting"))
        #expect(lines.contains("FAIL connection lost while in world: could not resume: "))
    }

    @Test("a drop in the world is resumed and the scenario plays on and passes")
    func playsThroughDrop() async throws {
        let server = try await FakeGameServer.start(.init(tokens: ["ta"]))
        defer { Task { await server.shutdown() } }
        var configuration = scenario(server, token: "ta", character: "Alice", peer: nil)
        configuration.timeout = .seconds(10)
        configuration.minimumPlay = .milliseconds(1500)
        let lines = LineCollector()
        let run = Task { await ScenarioRun(configuration: configuration, output: lines.output).play() }
        try await eventually("the bot is in the world") { server.log.moves > 0 }
        server.drop(character: "Alice")
        #expect(await run.value == true, "\(lines.lines)")
        #expect(lines.contains("INFO connection lost in the world (connection closed); reconnecting"))
        #expect(lines.contains("INFO resumed as entity "))
        #expect(lines.contains("PASS no moves corrected"))
        #expect(lines.contains("PASS logged out"))
        #expect(server.log.resumes == 1)
    }

    @Test("nothing listening fails the connect step")
    func noServer() async throws {
        let server = try await FakeGameServer.start(.init(tokens: []))
        let port = server.port
        await server.shutdown()
        let lines = LineCollector()
        var configuration = scenario(server, token: "t", character: "Alice")
        configuration.port = port
        #expect(await ScenarioRun(configuration: configuration, output: lines.output).play() == false)
        #expect(lines.lines.count == 1)
        #expect(lines.contains("FAIL connect to 127.0.0.1:\(port): "))
    }
}

@Suite("Ping run", .timeLimit(.minutes(1)))
struct PingRunTests {
    @Test("pings report each round trip and the min/avg/max, then log out")
    func pings() async throws {
        let server = try await FakeGameServer.start(.init(tokens: []))
        defer { Task { await server.shutdown() } }
        let lines = LineCollector()
        #expect(await PingRun.run(PingConfiguration(port: server.port, count: 3, interval: .milliseconds(10)), output: lines.output))
        #expect(lines.contains("connected to 127.0.0.1:\(server.port) in "))
        #expect(lines.lines.filter { $0.hasPrefix("ping ") }.count == 3)
        #expect(lines.contains("ping 3: "))
        #expect(lines.contains("rtt min "))
        #expect(server.log.logouts == 1)
    }

    @Test("no server, no pings")
    func noServer() async throws {
        let server = try await FakeGameServer.start(.init(tokens: []))
        let port = server.port
        await server.shutdown()
        let lines = LineCollector()
        #expect(await PingRun.run(PingConfiguration(port: port, count: 3), output: lines.output) == false)
        #expect(lines.contains("FAIL connect to 127.0.0.1:\(port)"))
    }
}
