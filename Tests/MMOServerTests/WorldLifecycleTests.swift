import Logging
import ServiceLifecycle
import Testing
import WorldService

@testable import MMOServer

/// The exit-code half of "stopping the world while the database is down": the world's service
/// in a ServiceGroup fails (and so `ServiceMain` exits non-zero) exactly when its final save
/// was given up.
@Suite("WorldLifecycle", .timeLimit(.minutes(1)))
struct WorldLifecycleTests {
    /// Runs a world with one player in a ServiceGroup, makes the store fail `failures` saves,
    /// shuts the group down gracefully and returns what `run()` threw, if anything.
    func stopWorld(failingSaves failures: Int) async throws -> (any Error)? {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.saveRetryDelay = .milliseconds(5)
        config.maxSaveRetryDelay = .milliseconds(10)
        config.finalSaveTimeout = .milliseconds(300)
        let quiet = Logger(label: "test.world", factory: { _ in SwiftLogNoOpLogHandler() })
        let runtime = try WorldRuntime(configuration: config, store: store, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [.init(service: WorldLifecycle(runtime: runtime))], logger: quiet))
        let running = Task { try await group.run() }
        let link = try runtime.openLink(peer: "test")
        let join = PlayerCommand.join(PlayerProfile(characterID: 1, name: "A"), zoneID: 1, position: Position(x: 5, y: 5))
        runtime.submit([GatewayInput(session: 1, command: join)], from: link)
        let deadline = ContinuousClock.now + .seconds(5)
        while runtime.playerCount == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(runtime.playerCount == 1)

        store.failNextSaves(failures)
        await group.triggerGracefulShutdown()
        do {
            try await running.value
            #expect(store.saved[1]?.position == Position(x: 5, y: 5))
            return nil
        } catch {
            return error
        }
    }

    @Test("a final save that lands after failures ends the world cleanly")
    func recovered() async throws {
        #expect(try await stopWorld(failingSaves: 3) == nil)
    }

    @Test("a final save given up fails the service with the number of characters lost")
    func givenUp() async throws {
        let error = try await stopWorld(failingSaves: .max)
        #expect(error as? WorldProgressLost == WorldProgressLost(characters: 1))
    }
}
