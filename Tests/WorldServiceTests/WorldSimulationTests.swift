import MMOProtocol
import Testing
import WorldService

private let a = SessionKey(link: 1, session: 1)
private let b = SessionKey(link: 1, session: 2)
private let c = SessionKey(link: 2, session: 1)
private let d = SessionKey(link: 2, session: 2)

private func appearance(_ sim: WorldSimulation, _ key: SessionKey, character: UInt64) -> WorldEvent {
    let p = sim.player(key)!
    return .appear(
        WorldEvent.EntityAppearance(
            entityId: p.entityID, name: "P\(character)", classId: 2, appearance: 7, level: 3, x: p.position.x, y: p.position.y))
}

@Suite("WorldSimulation: interest")
struct InterestTests {
    @Test("joining players see themselves first, then each other")
    func joinTogether() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)

        let selfA = appearance(sim, a, character: 1)
        let selfB = appearance(sim, b, character: 2)
        #expect(try sim.events(for: a) == [selfA, selfB])
        #expect(try sim.events(for: b) == [selfB, selfA])
        #expect(sim.outcomes(for: a) == [.joined(entityID: sim.entity(a), zoneID: 1, position: Position(x: 100, y: 100))])
        #expect(sim.player(a)!.visibleEntityIDs == [sim.entity(b)])
    }

    @Test("a later joiner appears to neighbours in range only; others get no output")
    func lateJoin() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(d, character: 4, at: Position(x: 800, y: 800))
        sim.step(now: .zero)

        sim.join(c, character: 3, at: Position(x: 120, y: 100))
        sim.step(now: .milliseconds(50))
        let selfC = appearance(sim, c, character: 3)
        #expect(try sim.events(for: a) == [selfC])
        #expect(try sim.events(for: c) == [selfC, appearance(sim, a, character: 1)])
        #expect(!sim.hasOutput(for: d))
    }

    @Test("walking out of range disappears only past the hysteresis radius; walking back appears inside the radius")
    func hysteresis() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)
        let eA = sim.entity(a), eB = sim.entity(b)

        var t = 0
        func walkB(to x: Float) {
            t += 2  // up to 10 units a step: 14 units of budget accrue in 2 s
            sim.submit(.move(seq: UInt32(t), to: Position(x: x, y: 100)), from: b)
            sim.step(now: .seconds(t))
        }

        walkB(to: 140)
        #expect(try sim.events(for: a) == [.move(entityId: eB, x: 140, y: 100)])
        #expect(!sim.hasOutput(for: b))  // a mover is not told its own accepted moves

        walkB(to: 150)  // exactly the interest radius
        #expect(try sim.events(for: a) == [.move(entityId: eB, x: 150, y: 100)])
        walkB(to: 158)  // beyond 50 but inside 50 * 1.2: still in view
        #expect(try sim.events(for: a) == [.move(entityId: eB, x: 158, y: 100)])
        #expect(sim.player(a)!.visibleEntityIDs == [eB])

        walkB(to: 165)  // beyond 60: gone, both ways
        #expect(try sim.events(for: a) == [.disappear(entityId: eB)])
        #expect(try sim.events(for: b) == [.disappear(entityId: eA)])
        #expect(sim.player(a)!.visibleEntityIDs.isEmpty)
        #expect(sim.player(b)!.visibleEntityIDs.isEmpty)

        walkB(to: 155)  // inside 60 but outside 50: not seen again yet
        #expect(!sim.hasOutput(for: a))
        #expect(!sim.hasOutput(for: b))

        walkB(to: 149)
        #expect(try sim.events(for: a) == [appearance(sim, b, character: 2)])
        #expect(try sim.events(for: b) == [appearance(sim, a, character: 1)])
    }

    @Test("several moves of one player in one tick reach neighbours as one move to the latest position")
    func collapse() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)

        sim.submit(.move(seq: 1, to: Position(x: 132, y: 100)), from: b)
        sim.submit(.move(seq: 2, to: Position(x: 134, y: 101)), from: b)
        sim.submit(.move(seq: 3, to: Position(x: 136, y: 102)), from: b)
        sim.step(now: .seconds(1))
        #expect(try sim.events(for: a) == [.move(entityId: sim.entity(b), x: 136, y: 102)])
        #expect(sim.player(b)!.position == Position(x: 136, y: 102))
    }

    @Test("a pair made this tick gets the appear at the final position and no extra move")
    func appearCarriesFinalPosition() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 165, y: 100))
        sim.step(now: .zero)
        #expect(sim.player(a)!.visibleEntityIDs.isEmpty)

        // Both walk towards each other in the same tick.
        sim.submit(.move(seq: 1, to: Position(x: 110, y: 100)), from: a)
        sim.submit(.move(seq: 1, to: Position(x: 155, y: 100)), from: b)
        sim.step(now: .seconds(2))
        #expect(try sim.events(for: a) == [appearance(sim, b, character: 2)])
        #expect(try sim.events(for: b) == [appearance(sim, a, character: 1)])
    }

    @Test("a player sees at most maxVisibleEntities others, and views stay symmetric")
    func visibleCap() throws {
        var config = WorldConfiguration()
        config.maxVisibleEntities = 2
        var sim = WorldSimulation(configuration: config)
        let keys = (1...5).map { SessionKey(link: 1, session: UInt64($0)) }
        for (i, key) in keys.enumerated() {
            sim.join(key, character: UInt64(i + 1), at: Position(x: 100 + Float(i), y: 100))
        }
        sim.step(now: .zero)
        for key in keys {
            let p = sim.player(key)!
            #expect(p.visibleEntityIDs.count <= 2)
            for other in keys where p.visibleEntityIDs.contains(sim.entity(other)) {
                #expect(sim.player(other)!.visibleEntityIDs.contains(p.entityID))
            }
        }
        #expect(sim.player(keys[0])!.visibleEntityIDs.count == 2)
    }

    @Test("players in different zones never see each other")
    func zonesAreSeparate() throws {
        var config = WorldConfiguration()
        config.zones.append(Zone(id: 2, name: "Ashfen", bounds: ZoneBounds(x: 0...1000, y: 0...1000), spawn: Position(x: 10, y: 10)))
        var sim = WorldSimulation(configuration: config)
        sim.join(a, character: 1, zone: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, zone: 2, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        #expect(try sim.events(for: a) == [appearance(sim, a, character: 1)])
        #expect(sim.player(b)!.zoneID == 2)
        #expect(sim.playerCount(inZone: 1) == 1 && sim.playerCount(inZone: 2) == 1)
    }
}

@Suite("WorldSimulation: movement")
struct MovementTests {
    func twoPlayers() -> WorldSimulation {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)
        return sim
    }

    @Test("a move too fast is corrected, the player stays put and neighbours see nothing")
    func tooFast() throws {
        var sim = twoPlayers()
        sim.submit(.move(seq: 9, to: Position(x: 145, y: 100)), from: b)  // 15 > 1 + 7 after 1 s
        sim.step(now: .seconds(1))
        #expect(try sim.events(for: b) == [.correction(seq: 9, x: 130, y: 100, reason: .moveTooFast)])
        #expect(!sim.hasOutput(for: a))
        #expect(sim.player(b)!.position == Position(x: 130, y: 100))
        #expect(sim.counters.movesTooFast == 1)

        // A legal move afterwards is judged from the unchanged position (budget 8 + 7 = 15).
        sim.submit(.move(seq: 10, to: Position(x: 140, y: 100)), from: b)
        sim.step(now: .seconds(2))
        #expect(!sim.hasOutput(for: b))
        #expect(try sim.events(for: a) == [.move(entityId: sim.entity(b), x: 140, y: 100)])
    }

    @Test("idle time does not bank a teleport")
    func idleDoesNotBank() throws {
        var sim = twoPlayers()
        sim.submit(.move(seq: 1, to: Position(x: 160, y: 100)), from: b)  // 30 units after 60 s; the cap is 22
        sim.step(now: .seconds(60))
        #expect(try sim.events(for: b) == [.correction(seq: 1, x: 130, y: 100, reason: .moveTooFast)])
    }

    @Test("moves in one tick share one budget, in arrival order")
    func sameTickBudget() throws {
        var sim = twoPlayers()
        sim.submit(.move(seq: 1, to: Position(x: 138, y: 100)), from: b)  // 8 of the 8 units after 1 s: fine
        sim.submit(.move(seq: 2, to: Position(x: 146, y: 100)), from: b)  // 8 more: nothing left
        sim.step(now: .seconds(1))
        #expect(try sim.events(for: b) == [.correction(seq: 2, x: 138, y: 100, reason: .moveTooFast)])
        #expect(try sim.events(for: a) == [.move(entityId: sim.entity(b), x: 138, y: 100)])
    }

    @Test("moves outside the zone, or to non-finite coordinates, are corrected as out of bounds")
    func outOfBounds() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 3, y: 3))
        sim.step(now: .zero)
        sim.submit(.move(seq: 1, to: Position(x: -0.5, y: 3)), from: a)
        sim.submit(.move(seq: 2, to: Position(x: .nan, y: 3)), from: a)
        sim.submit(.move(seq: 3, to: Position(x: 3, y: -.infinity)), from: a)
        sim.step(now: .seconds(1))
        #expect(
            try sim.events(for: a) == [
                .correction(seq: 1, x: 3, y: 3, reason: .moveOutOfBounds),
                .correction(seq: 2, x: 3, y: 3, reason: .moveOutOfBounds),
                .correction(seq: 3, x: 3, y: 3, reason: .moveOutOfBounds),
            ])
        #expect(sim.counters.movesOutOfBounds == 3)

        // The edge itself is inside.
        sim.submit(.move(seq: 4, to: Position(x: 0, y: 0)), from: a)
        sim.step(now: .seconds(2))
        #expect(!sim.hasOutput(for: a))
        #expect(sim.player(a)!.position == Position(x: 0, y: 0))
    }

    @Test("60 moves of 1.5 units at 20 per second do not beat the speed limit")
    func smallMovesDoNotBeatTheLimit() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        var corrections = 0
        for i in 1...60 {  // 90 units in 3 s: 30 units/s against a limit of 7
            sim.submit(.move(seq: UInt32(i), to: Position(x: 100 + 1.5 * Float(i), y: 100)), from: a)
            sim.step(now: .milliseconds(50 * i))
            corrections += try sim.events(for: a).filter { if case .correction = $0 { true } else { false } }.count
        }
        // Allowed: 7 units/s for 3 s plus the burst budget (7 * 2 * 1.5 + 1 = 22 units).
        let covered = sim.player(a)!.position.x - 100
        #expect(covered <= 7 * 3 + 22, "covered \(covered) units in 3 s")
        #expect(corrections > 0)
        #expect(sim.counters.movesTooFast == UInt64(corrections))
    }

    @Test("walking at the speed limit, with moves bunched by jitter, is never corrected")
    func walkingAtTheLimitIsFine() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        var x: Float = 100
        for tick in 1...200 {  // 10 s; the client sends a 0.35-unit move every 50 ms
            // Jitter: every fourth tick's move arrives late, in the next tick with the next one.
            let moves = tick % 4 == 0 ? 0 : (tick % 4 == 1 && tick > 1 ? 2 : 1)
            for _ in 0..<moves {
                x += 0.35
                sim.submit(.move(seq: UInt32(tick), to: Position(x: x, y: 100)), from: a)
            }
            sim.step(now: .milliseconds(50 * tick))
            #expect(try sim.events(for: a).isEmpty, "corrected at tick \(tick)")
        }
        #expect(abs(sim.player(a)!.position.x - x) < 0.001)
    }

    @Test("inputs for sessions not in the world are ignored and counted")
    func unknownSession() {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.submit(.move(seq: 1, to: Position(x: 1, y: 1)), from: a)
        sim.submit(.say("hi"), from: a)
        sim.submit(.leave, from: a)
        sim.step(now: .zero)
        #expect(sim.outputs.isEmpty)
        #expect(sim.counters.inputsForUnknownSessions == 3)
    }
}

@Suite("WorldSimulation: chat")
struct ChatTests {
    @Test("say reaches everyone within the chat radius, the speaker included, and no one else")
    func radius() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        let edge = SessionKey(link: 3, session: 1)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.join(edge, character: 5, at: Position(x: 150, y: 100))  // exactly 50 away
        sim.join(c, character: 3, at: Position(x: 100, y: 150.5))  // just outside
        sim.join(d, character: 4, at: Position(x: 600, y: 600))
        sim.step(now: .zero)

        sim.submit(.say("hello"), from: a)
        sim.step(now: .seconds(1))
        let line = WorldEvent.chat(entityId: sim.entity(a), name: "P1", text: "hello")
        #expect(try sim.events(for: a) == [line])
        #expect(try sim.events(for: b) == [line])
        #expect(try sim.events(for: edge) == [line])
        #expect(!sim.hasOutput(for: c))
        #expect(!sim.hasOutput(for: d))
    }

    @Test("the world does not rate-limit chat: every line a gateway forwards is delivered")
    func noRateLimitInTheWorld() throws {
        // Flood control is the gateway's (CHAT_RATE_LIMITED to its client); a burst that got
        // past it reaches the world's neighbours in full, in order.
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 110, y: 100))
        sim.step(now: .zero)

        for i in 0..<20 { sim.submit(.say("line \(i)"), from: a) }
        sim.step(now: .zero)
        let heard = try sim.events(for: b).compactMap { event -> String? in
            if case .chat(_, _, let text) = event { return text }
            return nil
        }
        #expect(heard == (0..<20).map { "line \($0)" })
        #expect(sim.counters == SimulationCounters())
    }

    @Test("empty and oversize lines are dropped and counted; the longest legal line is delivered")
    func invalidLines() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        sim.submit(.say(""), from: a)
        sim.submit(.say(String(repeating: "x", count: ProtocolLimits.maxChatBytes + 1)), from: a)
        sim.step(now: .seconds(1))
        #expect(!sim.hasOutput(for: a))
        #expect(sim.counters.chatInvalid == 2)

        // The longest legal line still goes through.
        let longest = String(repeating: "x", count: ProtocolLimits.maxChatBytes)
        sim.submit(.say(longest), from: a)
        sim.step(now: .seconds(2))
        #expect(try sim.events(for: a) == [.chat(entityId: sim.entity(a), name: "P1", text: longest)])
        #expect(sim.counters.chatInvalid == 2)
    }
}

@Suite("WorldSimulation: joins and leaves")
struct SessionTests {
    @Test("leaving makes neighbours see disappear and queues the position for saving")
    func leave() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.join(d, character: 4, at: Position(x: 600, y: 600))
        sim.step(now: .zero)
        let eB = sim.entity(b)

        sim.submit(.leave, from: b)
        sim.step(now: .seconds(1))
        #expect(try sim.events(for: a) == [.disappear(entityId: eB)])
        #expect(sim.outputs.filter { $0.key == b }.map(\.outcome) == [.left(.ok)])
        #expect(!sim.hasOutput(for: d))
        #expect(sim.player(b) == nil)
        #expect(sim.player(a)!.visibleEntityIDs.isEmpty)
        #expect(sim.departed.map(\.characterID) == [2])
        #expect(sim.departed.first?.zoneID == 1 && sim.departed.first?.position == Position(x: 130, y: 100))
        #expect((sim.departed.first?.version ?? 0) > 0)
        #expect(sim.playerCount == 2)
    }

    @Test("an unknown zone is rejected; zone 0 and positions outside the zone start at the spawn point")
    func zonesAndSpawn() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, zone: 99, at: Position(x: 1, y: 1))
        sim.join(b, character: 2, zone: 0, at: Position(x: 100, y: 100))
        sim.join(c, character: 3, zone: 1, at: Position(x: 1200, y: 100))
        sim.join(d, character: 4, zone: 1, at: Position(x: .nan, y: 100))
        sim.step(now: .zero)
        #expect(sim.outcomes(for: a) == [.rejected(.zoneUnavailable)])
        #expect(!sim.outputs.contains { $0.key == a && $0.outcome != .rejected(.zoneUnavailable) })
        for key in [b, c, d] {
            #expect(sim.player(key)?.position == Zone.greenvale.spawn)
            #expect(sim.player(key)?.zoneID == 1)
        }
        // A substituted position counts as changed, so the fix gets saved.
        #expect(Set(sim.takeChangedPositions().map(\.characterID)) == [2, 3, 4])
    }

    @Test("a full zone rejects joins with WORLD_FULL")
    func worldFull() {
        var config = WorldConfiguration()
        config.maxPlayersPerZone = 2
        var sim = WorldSimulation(configuration: config)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 200, y: 100))
        sim.join(c, character: 3, at: Position(x: 300, y: 100))
        sim.step(now: .zero)
        #expect(sim.outcomes(for: c) == [.rejected(.worldFull)])
        #expect(sim.outputs.filter { $0.key == c }.count == 1)
        #expect(sim.playerCount == 2)
    }

    @Test("a session joining twice is rejected with ALREADY_IN_WORLD")
    func doubleJoin() {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        sim.join(a, character: 2, at: Position(x: 100, y: 100))
        sim.step(now: .seconds(1))
        #expect(sim.outcomes(for: a) == [.rejected(.alreadyInWorld)])
        #expect(sim.player(a)?.characterID == 1)
    }

    @Test("the same character joining again replaces the old session at its live position")
    func newestSessionWins() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)
        let oldEntity = sim.entity(a)
        sim.submit(.move(seq: 1, to: Position(x: 105, y: 100)), from: a)
        sim.step(now: .seconds(1))

        // The new session's join carries a stale saved position.
        sim.join(c, character: 1, at: Position(x: 900, y: 900))
        sim.step(now: .seconds(2))
        #expect(sim.outcomes(for: a) == [.left(.loggedInElsewhere)])
        #expect(!sim.outputs.contains { $0.key == a && $0.outcome != .left(.loggedInElsewhere) })
        let newEntity = sim.entity(c)
        #expect(newEntity != oldEntity)
        #expect(sim.outcomes(for: c) == [.joined(entityID: newEntity, zoneID: 1, position: Position(x: 105, y: 100))])
        #expect(try sim.events(for: b) == [.disappear(entityId: oldEntity), appearance(sim, c, character: 1)])
        #expect(sim.player(a) == nil)
        #expect(sim.departed.map(\.characterID) == [1])
    }

    @Test("every entry into the world is a new entity, even for the same character")
    func newEntityPerEntry() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        let first = sim.entity(a)
        sim.submit(.leave, from: a)
        sim.step(now: .seconds(1))
        sim.join(a, character: 1, at: Position(x: 100, y: 100))  // same session, same character
        sim.step(now: .seconds(2))
        let second = sim.entity(a)
        #expect(second != first)
        #expect(sim.outcomes(for: a) == [.joined(entityID: second, zoneID: 1, position: Position(x: 100, y: 100))])
    }

    @Test("closing a link removes its players without telling them; neighbours see them go")
    func closeLink() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 110, y: 100))
        sim.join(c, character: 3, at: Position(x: 120, y: 100))
        sim.step(now: .zero)
        let eA = sim.entity(a), eB = sim.entity(b)

        sim.closeLink(1)
        sim.step(now: .seconds(1))
        #expect(!sim.hasOutput(for: a) && !sim.hasOutput(for: b))
        let seen = try sim.events(for: c)
        #expect(seen.count == 2)
        #expect(seen.contains(.disappear(entityId: eA)) && seen.contains(.disappear(entityId: eB)))
        #expect(Set(sim.departed.map(\.characterID)) == [1, 2])
        #expect(sim.playerCount == 1)
    }

    @Test("evictAll takes every player out, queued for saving, telling each the reason (or, with none, nobody)",
          arguments: [ResultCode?.some(.serverShuttingDown), nil])
    func evictAll(reason: ResultCode?) {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(c, character: 3, at: Position(x: 120, y: 100))
        sim.step(now: .zero)
        sim.evictAll(telling: reason)
        sim.step(now: .seconds(1))
        let told: [SessionOutcome] = reason.map { [.left($0)] } ?? []
        #expect(sim.outcomes(for: a) == told)
        #expect(sim.outcomes(for: c) == told)
        #expect(sim.playerCount == 0)
        #expect(Set(sim.departed.map(\.characterID)) == [1, 3])
    }

    @Test("only players that moved since the last autosave are collected, once")
    func changedPositions() {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 200, y: 100))
        sim.step(now: .zero)
        #expect(sim.takeChangedPositions().isEmpty)
        sim.submit(.move(seq: 1, to: Position(x: 104, y: 100)), from: a)
        sim.step(now: .seconds(1))
        #expect(sim.takeChangedPositions() == [CharacterPosition(characterID: 1, zoneID: 1, position: Position(x: 104, y: 100), version: 1)])
        #expect(sim.takeChangedPositions().isEmpty)
    }

    @Test("an autosave bucket collects only the changed players of its slots")
    func changedPositionsByBucket() {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        for i in 0..<6 { sim.join(SessionKey(link: 1, session: UInt64(i)), character: UInt64(i + 1), at: Position(x: 100, y: 100)) }
        sim.step(now: .zero)
        for i in [0, 1, 3, 4] { sim.submit(.move(seq: 1, to: Position(x: 101, y: 100)), from: SessionKey(link: 1, session: UInt64(i))) }
        sim.step(now: .seconds(1))
        // Slots 0...5 in 3 buckets: bucket 1 is slots 1 and 4, both moved; bucket 2 is 2 and 5, neither.
        var saved: [CharacterPosition] = []
        sim.takeChangedPositions(bucket: 1, of: 3, into: &saved)
        #expect(saved.map(\.characterID).sorted() == [2, 5])
        sim.takeChangedPositions(bucket: 2, of: 3, into: &saved)
        #expect(saved.count == 2)
        // The rest is still marked: a full sweep finds slots 0 and 3 only.
        #expect(sim.takeChangedPositions().map(\.characterID).sorted() == [1, 4])
    }

    @Test("slots freed by leaves are reused without mixing up players")
    func slotReuse() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 110, y: 100))
        sim.step(now: .zero)
        sim.submit(.leave, from: a)
        sim.join(c, character: 3, at: Position(x: 120, y: 100))  // same tick: must not take a's slot
        sim.step(now: .seconds(1))
        sim.join(d, character: 4, at: Position(x: 130, y: 100))  // next tick: may reuse it
        sim.step(now: .seconds(2))
        #expect(sim.player(b)!.visibleEntityIDs == [sim.entity(c), sim.entity(d)])
        #expect(sim.player(d)!.visibleEntityIDs == [sim.entity(b), sim.entity(c)])
        #expect(sim.player(d)!.characterID == 4)
    }
}
