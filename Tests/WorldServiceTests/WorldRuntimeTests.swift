import MMOTestSupport
import MMOProtocol
import Testing
import WorldService

@Suite("WorldRuntime with manual ticks", .timeLimit(.minutes(1)))
struct WorldRuntimeTests {
    @Test("a join through a link is accepted, then the player sees itself, in one batch")
    func joinThroughLink() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        runtime.submit([.join(10, character: 1, x: 100, y: 100)], gatewayID: "gw-test", from: link)
        runtime.tick(now: .zero)

        let batches = try await collector.take()
        #expect(batches.count == 1)
        let batch = try #require(batches.first)
        #expect(batch.tick == 1)
        guard case .joined(let entityID, let zoneID, let position)? = batch.outputs.first?.outcome else {
            Issue.record("expected a join result first, got \(batch.outputs)")
            return
        }
        #expect(zoneID == 1 && position == Position(x: 100, y: 100))
        #expect(
            try batch.events(for: 10) == [
                .appear(.init(entityId: entityID, name: "P1", classId: 2, appearance: 7, level: 3, x: 100, y: 100))
            ])
        #expect(link.gatewayID == "gw-test")
        await runtime.shutdown(now: .seconds(1))
    }

    @Test("a gateway's batch carries all of its sessions' outputs for the tick")
    func batchingPerGateway() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        let gw1 = try runtime.openLink(peer: "gw1")
        let gw2 = try runtime.openLink(peer: "gw2")
        let c1 = BatchCollector(gw1)
        let c2 = BatchCollector(gw2)
        runtime.submit([.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 110, y: 100)], from: gw1)
        runtime.submit([.join(1, character: 3, x: 120, y: 100)], from: gw2)
        runtime.tick(now: .zero)

        let b1 = try await c1.take()
        let b2 = try await c2.take()
        #expect(b1.count == 1 && b2.count == 1)
        #expect(b1[0].outputs.count == 4)  // 2 joins + 2 updates
        #expect(b2[0].outputs.count == 2)
        #expect(try b1[0].events(for: 1).count == 3)  // itself + 2 neighbours
        await runtime.shutdown(now: .seconds(1))
    }

    @Test("leaving saves the position")
    func saveOnLeave() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        runtime.submit([.join(1, character: 42, x: 100, y: 100)], from: link)
        runtime.tick(now: .zero)
        runtime.submit([.move(1, seq: 1, x: 105, y: 102)], from: link)
        runtime.tick(now: .seconds(1))
        #expect(await runtime.flushSaves())
        #expect(store.saved.isEmpty)

        runtime.submit([.leave(1)], from: link)
        runtime.tick(now: .seconds(2))
        #expect(await runtime.flushSaves())
        let saved = try #require(store.saved[42])
        #expect(saved == CharacterPosition(characterID: 42, zoneID: 1, position: Position(x: 105, y: 102)))

        let batches = try await collector.take(atLeast: 2)
        #expect(batches.outcomes(for: 1).last == .left(.ok))
    }

    @Test("autosave writes only positions that changed, once per interval")
    func autosave() async throws {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.autosaveInterval = .seconds(10)
        let runtime = try makeRuntime(configuration: config, store: store)
        let link = try runtime.openLink(peer: "test")
        runtime.submit(
            [.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 300, y: 300)], from: link)
        runtime.tick(now: .zero)
        runtime.submit([.move(1, seq: 1, x: 104, y: 100)], from: link)
        runtime.tick(now: .seconds(1))
        runtime.tick(now: .seconds(5))
        await runtime.flushSaves()
        #expect(store.saveCalls.isEmpty)

        runtime.tick(now: .seconds(10))
        await runtime.flushSaves()
        #expect(store.saveCalls.count == 1)
        #expect(store.saved.keys.sorted() == [1])
        #expect(store.saved[1]?.position.x == 104)

        // Nothing moved since: the next interval saves nothing.
        runtime.tick(now: .seconds(21))
        await runtime.flushSaves()
        #expect(store.saveCalls.count == 1)
        await runtime.shutdown(now: .seconds(22))
    }

    @Test("a failed save stays queued and is retried; a newer position replaces the queued one")
    func saveRetry() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let link = try runtime.openLink(peer: "test")
        runtime.submit([.join(1, character: 1, x: 100, y: 100)], from: link)
        runtime.tick(now: .zero)
        runtime.submit([.leave(1)], from: link)
        runtime.tick(now: .seconds(1))

        store.failNextSaves(1)
        #expect(await runtime.flushSaves() == false)
        #expect(store.saved.isEmpty)
        #expect(runtime.pendingSaveCount == 1)

        // The character comes back, walks and leaves again before the retry.
        runtime.submit([.join(2, character: 1, x: 100, y: 100)], from: link)
        runtime.tick(now: .seconds(2))
        runtime.submit([.move(2, seq: 1, x: 108, y: 100), .leave(2)], from: link)
        runtime.tick(now: .seconds(3))
        #expect(runtime.pendingSaveCount == 1)
        #expect(await runtime.flushSaves())
        #expect(store.saved[1]?.position.x == 108)
        #expect(store.saveCalls.count == 1)
        #expect(runtime.pendingSaveCount == 0)
    }

    @Test("shutdown evicts everyone, ends the gateway streams and saves every position")
    func manualShutdown() async throws {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.saveRetryDelay = .milliseconds(10)
        let runtime = try makeRuntime(configuration: config, store: store)
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        runtime.submit([.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 120, y: 100)], from: link)
        runtime.tick(now: .zero)
        store.failNextSaves(1)  // the first final attempt fails; the retry must succeed

        await runtime.shutdown(now: .seconds(1))
        #expect(store.saved.keys.sorted() == [1, 2])
        let batches = try await collector.drainToEnd()
        let lastOutputs = try #require(batches.last).outputs.map(\.outcome)
        #expect(lastOutputs.filter { $0 == .left(.serverShuttingDown) }.count == 2)
        #expect(link.closeReason == .worldStopping)
        #expect(throws: WorldRuntimeError.shuttingDown) { try runtime.openLink(peer: "late") }
    }

    @Test("a closed gateway link makes its players leave, seen by others, and saves them")
    func gatewayDisconnect() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let gw1 = try runtime.openLink(peer: "gw1")
        let gw2 = try runtime.openLink(peer: "gw2")
        let c2 = BatchCollector(gw2)
        runtime.submit([.join(1, character: 1, x: 100, y: 100)], from: gw1)
        runtime.submit([.join(1, character: 2, x: 110, y: 100)], from: gw2)
        runtime.tick(now: .zero)
        let first = try await c2.take()
        let entityA = try first.events(for: 1).compactMap { event -> UInt64? in
            if case .appear(let a) = event, a.name == "P1" { return a.entityId }
            return nil
        }.first
        let eA = try #require(entityA)

        runtime.closeLink(gw1)
        runtime.tick(now: .seconds(1))
        #expect(try await c2.take().events(for: 1) == [.disappear(entityId: eA)])
        #expect(runtime.playerCount == 1)
        await runtime.flushSaves()
        #expect(store.saved[1]?.position.x == 100)
    }

    @Test("the same character joining through another gateway logs the old session out")
    func loggedInElsewhere() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        let gw1 = try runtime.openLink(peer: "gw1")
        let gw2 = try runtime.openLink(peer: "gw2")
        let c1 = BatchCollector(gw1)
        let c2 = BatchCollector(gw2)
        runtime.submit([.join(5, character: 1, x: 100, y: 100)], from: gw1)
        runtime.tick(now: .zero)
        _ = try await c1.take()
        runtime.submit([.join(9, character: 1, x: 100, y: 100)], from: gw2)
        runtime.tick(now: .seconds(1))

        #expect(try await c1.take().outcomes(for: 5).first == .left(.loggedInElsewhere))
        guard case .joined? = try await c2.take().outcomes(for: 9).first else {
            Issue.record("new session was not accepted")
            return
        }
        #expect(runtime.playerCount == 1)
        await runtime.shutdown(now: .seconds(2))
    }

    @Test("a full input queue drops moves, refuses joins with BUSY and still keeps leaves")
    func inputOverflow() async throws {
        var config = WorldConfiguration()
        config.maxQueuedInputsPerGateway = 2
        let runtime = try makeRuntime(configuration: config, store: InMemoryCharacterStateStore())
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        runtime.submit([.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 300, y: 300)], from: link)
        runtime.submit([.move(1, seq: 1, x: -5, y: 0), .join(3, character: 3, x: 1, y: 1), .leave(2)], from: link)
        runtime.tick(now: .zero)

        let batches = try await collector.take()
        #expect(batches.outcomes(for: 3).first == .rejected(.busy), "overflowing join was not refused")
        #expect(batches.outcomes(for: 2).contains { if case .left = $0 { true } else { false } })
        // The dropped move would have produced a correction for session 1.
        let events1 = try batches.events(for: 1)
        #expect(!events1.contains { if case .correction = $0 { true } else { false } })
        #expect(runtime.playerCount == 1)
        await runtime.shutdown(now: .seconds(1))
    }

    @Test("a gateway that stops reading is disconnected once too far behind")
    func slowGateway() async throws {
        var config = WorldConfiguration()
        config.maxPendingBatchesPerGateway = 2
        let runtime = try makeRuntime(configuration: config, store: InMemoryCharacterStateStore())
        let link = try runtime.openLink(peer: "slow")  // nobody reads link.batches
        runtime.submit([.join(1, character: 1, x: 100, y: 100)], from: link)
        for t in 0..<3 {
            // An out-of-bounds move guarantees output every tick.
            runtime.submit([.move(1, seq: UInt32(t), x: -1, y: -1)], from: link)
            runtime.tick(now: .seconds(t))
        }
        #expect(link.closeReason == .tooSlow)
        runtime.tick(now: .seconds(3))
        #expect(runtime.playerCount == 0)
        await runtime.shutdown(now: .seconds(4))
    }
}

@Suite("WorldRuntime run loop", .timeLimit(.minutes(1)))
struct WorldRunLoopTests {
    @Test("stop() ends run(), and every player's position is saved")
    func stopSaves() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let running = Task { try await runtime.run() }
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        runtime.submit([.join(1, character: 7, x: 250, y: 260)], from: link)
        try await eventually { runtime.playerCount == 1 }

        runtime.stop()
        try await running.value
        #expect(store.saved[7]?.position == Position(x: 250, y: 260))
        #expect(try await collector.drainToEnd().outcomes(for: 1).contains(.left(.serverShuttingDown)))
        await #expect(throws: WorldRuntimeError.alreadyRunning) { try await runtime.run() }
    }

    @Test("cancelling the task running the world still completes the final save")
    func cancellationSaves() async throws {
        let store = SlowStore()
        let runtime = try makeRuntime(store: store)
        let running = Task { try await runtime.run() }
        let link = try runtime.openLink(peer: "test")
        runtime.submit([.join(1, character: 8, x: 10, y: 20)], from: link)
        try await eventually { runtime.playerCount == 1 }

        running.cancel()
        try await running.value
        #expect(store.inner.saved[8]?.position.x == 10)
    }

    @Test("stop() before run() makes run() return at once instead of failing")
    func stopBeforeRun() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        runtime.stop()
        try await runtime.run()
        #expect(throws: WorldRuntimeError.shuttingDown) { try runtime.openLink(peer: "late") }
    }

    @Test("an impossible configuration is refused at construction")
    func invalidConfiguration() {
        var config = WorldConfiguration()
        config.tickRateHz = 0
        #expect(throws: WorldConfigurationError.self) { try makeRuntime(configuration: config, store: InMemoryCharacterStateStore()) }
        config = WorldConfiguration()
        config.zones = []
        #expect(throws: WorldConfigurationError.self) { try config.validate() }
        config = WorldConfiguration()
        config.zones.append(.greenvale)
        #expect(throws: WorldConfigurationError.self) { try config.validate() }
        #expect(throws: Never.self) { try WorldConfiguration().validate() }
    }
}
