import MMOProtocol
import Testing
import WorldService

private let a = SessionKey(link: 1, session: 1)
private let b = SessionKey(link: 1, session: 2)
private let resumed = SessionKey(link: 1, session: 7)
private let otherGateway = SessionKey(link: 2, session: 3)

/// RESUME in the simulation: a join with `resume` moves a character that is in the world to the
/// new session, keeping its entity; only the resumed session hears about it.
@Suite("WorldSimulation: resume")
struct ResumeSimulationTests {
    private func world() -> WorldSimulation {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .zero)
        return sim
    }

    private func appear(_ sim: WorldSimulation, _ key: SessionKey, character: UInt64) -> WorldEvent {
        let p = sim.player(key)!
        return .appear(WorldEvent.EntityAppearance(
            entityId: p.entityID, name: "P\(character)", classId: 2, appearance: 7, level: 3, x: p.position.x, y: p.position.y))
    }

    @Test("a resume of a character in the world re-binds it: same entity and live position, a fresh snapshot, observers see nothing", arguments: [resumed, otherGateway])
    func rebind(to key: SessionKey) throws {
        var sim = world()
        let entity = sim.entity(a)
        sim.submit(.move(seq: 1, to: Position(x: 104, y: 100)), from: a)
        sim.step(now: .seconds(1))
        _ = try sim.events(for: b)

        // The join carries a stale saved position: the live one wins.
        sim.resume(key, character: 1, at: Position(x: 10, y: 10))
        sim.step(now: .seconds(2))

        #expect(sim.player(a) == nil)
        #expect(sim.player(key)?.entityID == entity)
        #expect(sim.player(key)?.position == Position(x: 104, y: 100))
        #expect(sim.playerCount == 2)
        #expect(sim.outcomes(for: key) == [.joined(entityID: entity, zoneID: 1, position: Position(x: 104, y: 100))])
        #expect(sim.outcomes(for: a) == [.left(.loggedInElsewhere)])
        #expect(try sim.events(for: key) == [appear(sim, key, character: 1), appear(sim, b, character: 2)])
        #expect(!sim.hasOutput(for: b))
        #expect(sim.counters.resumes == 1)

        // The new session drives the character; the old one is unknown to the world.
        sim.submit(.move(seq: 2, to: Position(x: 106, y: 100)), from: key)
        sim.submit(.move(seq: 3, to: Position(x: 200, y: 200)), from: a)
        sim.step(now: .seconds(3))
        #expect(try sim.events(for: b) == [.move(entityId: entity, x: 106, y: 100)])
        #expect(sim.counters.inputsForUnknownSessions == 1)

        // A leave from the old session (its gateway's grace timer) does nothing.
        sim.submit(.leave, from: a)
        sim.step(now: .seconds(4))
        #expect(sim.player(key) != nil)
        #expect(sim.departed.isEmpty)
    }

    @Test("a resume of a character not in the world is an ordinary join")
    func resumeAbsent() throws {
        var sim = world()
        sim.resume(resumed, character: 9, at: Position(x: 120, y: 100))
        sim.step(now: .seconds(1))
        let entity = sim.entity(resumed)
        #expect(sim.outcomes(for: resumed) == [.joined(entityID: entity, zoneID: 1, position: Position(x: 120, y: 100))])
        #expect(try sim.events(for: resumed).first == appear(sim, resumed, character: 9))
        #expect(try sim.events(for: a) == [appear(sim, resumed, character: 9)])
        #expect(sim.counters.resumes == 0)
    }

    @Test("a resume from a session already in the world is refused like any second join")
    func resumeTwice() {
        var sim = world()
        sim.resume(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .seconds(1))
        #expect(sim.outcomes(for: a) == [.rejected(.alreadyInWorld)])
    }

    @Test("a re-bound player leaves under its new session and is saved where it stood")
    func leaveAfterResume() throws {
        var sim = world()
        sim.resume(resumed, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .seconds(1))
        sim.submit(.leave, from: resumed)
        sim.step(now: .seconds(2))
        #expect(sim.player(resumed) == nil)
        #expect(sim.departed.map(\.characterID) == [1])
        #expect(sim.outcomes(for: resumed) == [.left(.ok)])
        // A link closing removes the player by its new link.
        sim.resume(otherGateway, character: 2, at: Position(x: 130, y: 100))
        sim.step(now: .seconds(3))
        sim.closeLink(2)
        sim.step(now: .seconds(4))
        #expect(sim.playerCount == 0)
    }
}
