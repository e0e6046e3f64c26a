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
        #expect(saved.zoneID == 1 && saved.position == Position(x: 105, y: 102) && saved.version > 0)

        let batches = try await collector.take(atLeast: 2)
        #expect(batches.outcomes(for: 1).last == .left(.ok))
    }

    /// Walks character 42 from (100, 100) to (130, 100) over 6 s on `link` as session 1.
    private func walk30Units(_ runtime: WorldRuntime, on link: GatewayLink) {
        runtime.submit([.join(1, character: 42, x: 100, y: 100)], from: link)
        runtime.tick(now: .zero)
        for step in 1...12 {
            runtime.submit([.move(1, seq: UInt32(step), x: 100 + 2.5 * Float(step), y: 100)], from: link)
            runtime.tick(now: .milliseconds(500 * step))
        }
    }

    @Test("LEAVE_WORLD then ENTER_WORLD at once starts from the walked position, not the stale record")
    func reenterStartsFromLiveState() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        walk30Units(runtime, on: link)
        runtime.submit([.leave(1)], from: link)
        runtime.tick(now: .milliseconds(6050))
        // The gateway read the record before the leave's save landed: it still says (100, 100).
        runtime.submit([.join(2, character: 42, x: 100, y: 100)], from: link)
        runtime.tick(now: .milliseconds(6100))

        let outcomes = try await collector.take(atLeast: 3).outcomes(for: 2)  // join, leave, join again
        guard case .joined(_, let zone, let position)? = outcomes.first else {
            Issue.record("the second entry was not accepted: \(outcomes)")
            return
        }
        #expect(zone == 1)
        #expect(position == Position(x: 130, y: 100), "30 units of walking were lost")
        await runtime.shutdown(now: .seconds(7))
        #expect(store.saved[42]?.position == Position(x: 130, y: 100))
    }

    @Test("entering again after the gateway lost the connection starts from the walked position")
    func reenterAfterDisconnectStartsFromLiveState() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        let gw1 = try runtime.openLink(peer: "gw1")
        walk30Units(runtime, on: gw1)
        runtime.closeLink(gw1)  // the player's gateway went away (or its connection was taken over)
        runtime.tick(now: .milliseconds(6050))
        let gw2 = try runtime.openLink(peer: "gw2")
        let collector = BatchCollector(gw2)
        runtime.submit([.join(7, character: 42, x: 100, y: 100)], from: gw2)
        runtime.tick(now: .milliseconds(6100))

        guard case .joined(_, _, let position)? = try await collector.take().outcomes(for: 7).first else {
            Issue.record("the entry through the second gateway was not accepted")
            return
        }
        #expect(position == Position(x: 130, y: 100))
        await runtime.shutdown(now: .seconds(7))
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

    @Test("shutdown takes everyone out without telling them (their gateways re-admit them elsewhere), ends the gateway streams and saves every position")
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
        let outcomes = batches.flatMap(\.outputs).map(\.outcome)
        #expect(!outcomes.contains { if case .left = $0 { true } else { false } }, "\(outcomes)")
        #expect(runtime.playerCount == 0)
        #expect(link.closeReason == .worldStopping)
        #expect(throws: WorldRuntimeError.shuttingDown) { try runtime.openLink(peer: "late") }
    }

    @Test("a final save that keeps failing is retried until the database is back, and then lands")
    func finalSaveRetriedUntilItLands() async throws {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.saveRetryDelay = .milliseconds(5)
        let runtime = try makeRuntime(configuration: config, store: store)
        let link = try runtime.openLink(peer: "test")
        runtime.submit([.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 120, y: 100)], from: link)
        runtime.tick(now: .zero)
        store.failNextSaves(5)  // the database is down for a while during the shutdown

        #expect(await runtime.shutdown(now: .seconds(1)) == 0)
        #expect(store.saved.keys.sorted() == [1, 2], "positions were given up while the database was down")
        #expect(runtime.lostAtShutdown == 0)
    }

    @Test("a final save that never lands is given up after finalSaveTimeout, and the loss is reported")
    func finalSaveGivenUp() async throws {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.saveRetryDelay = .milliseconds(5)
        config.maxSaveRetryDelay = .milliseconds(20)
        config.finalSaveTimeout = .milliseconds(200)
        let runtime = try makeRuntime(configuration: config, store: store)
        let link = try runtime.openLink(peer: "test")
        runtime.submit([.join(1, character: 1, x: 100, y: 100), .join(2, character: 2, x: 120, y: 100)], from: link)
        runtime.tick(now: .zero)
        store.failNextSaves(.max)  // the database never comes back
        #expect(runtime.lostAtShutdown == nil)

        let started = ContinuousClock.now
        #expect(await runtime.shutdown(now: .seconds(1)) == 2)
        #expect(runtime.lostAtShutdown == 2)
        #expect(store.saved.isEmpty)
        #expect(started.duration(to: .now) < .seconds(3))
    }

    @Test("autosave is spread over the ticks: each tick saves one bucket's slice, all within the interval")
    func autosaveSpread() async throws {
        let store = InMemoryCharacterStateStore()
        var config = WorldConfiguration()
        config.autosaveInterval = .seconds(1)  // 20 buckets at 20 Hz
        let runtime = try makeRuntime(configuration: config, store: store)
        let link = try runtime.openLink(peer: "test")
        runtime.submit((0..<40).map { .join(UInt64($0), character: UInt64($0 + 1), x: 100 + Float($0), y: 100) }, from: link)
        runtime.tick(now: .zero)
        runtime.submit((0..<40).map { .move(UInt64($0), seq: 1, x: 100.5 + Float($0), y: 100) }, from: link)
        var batchSizes: [Int] = []  // states saved per tick
        for k in 1...21 {
            let before = store.saveCalls.count
            runtime.tick(now: .milliseconds(50 * k))
            #expect(await runtime.flushSaves())
            batchSizes.append(store.saveCalls.dropFirst(before).map(\.count).reduce(0, +))
        }
        #expect(store.saved.count == 40, "not every changed position was saved within one interval")
        #expect(batchSizes.max() == 2, "saves came in a burst: \(batchSizes)")
    }

    @Test("once a departed character's save has landed and the retention passed, the record is used again")
    func retainedStateForgottenAfterSave() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let link = try runtime.openLink(peer: "test")
        let collector = BatchCollector(link)
        walk30Units(runtime, on: link)
        runtime.submit([.leave(1)], from: link)
        runtime.tick(now: .milliseconds(6050))
        #expect(runtime.retainedDepartureCount == 1)
        #expect(await runtime.flushSaves())
        runtime.tick(now: .seconds(20))  // the landed save is reported to the simulation
        #expect(runtime.retainedDepartureCount == 1, "forgotten before the retention passed")
        runtime.tick(now: .seconds(40))
        #expect(runtime.retainedDepartureCount == 0)
        // The gateway now reads the saved record.
        runtime.submit([.join(2, character: 42, x: 130, y: 100)], from: link)
        runtime.tick(now: .seconds(41))
        guard case .joined(_, _, let position)? = try await collector.take(atLeast: 3).outcomes(for: 2).first else {
            Issue.record("not accepted")
            return
        }
        #expect(position == Position(x: 130, y: 100))
        await runtime.shutdown(now: .seconds(42))
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
        #expect(!(try await collector.drainToEnd().outcomes(for: 1).contains { if case .left = $0 { true } else { false } }))
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
