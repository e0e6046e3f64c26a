import Testing
import WorldService

private let a = SessionKey(link: 1, session: 1)
private let b = SessionKey(link: 1, session: 2)

@Suite("WorldSimulation: the live state of characters that left")
struct RecentDeparturesTests {
    /// Character 1 joins at (100, 100), walks to (105, 100) and leaves at 1 s.
    func leftAfterWalking(_ configuration: WorldConfiguration = WorldConfiguration()) -> (WorldSimulation, CharacterPosition) {
        var sim = WorldSimulation(configuration: configuration)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        sim.submit(.move(seq: 1, to: Position(x: 105, y: 100)), from: a)
        sim.step(now: .seconds(1))
        sim.submit(.leave, from: a)
        sim.step(now: .milliseconds(1050))
        return (sim, sim.departed[0])
    }

    @Test("entering again starts from the live state, not the stale record the join carries")
    func reenterFromLiveState() {
        var (sim, departed) = leftAfterWalking()
        #expect(departed.position == Position(x: 105, y: 100) && departed.version > 0)
        sim.join(b, character: 1, at: Position(x: 100, y: 100))  // the record, read before the save landed
        sim.step(now: .milliseconds(1100))
        #expect(sim.player(b)?.position == Position(x: 105, y: 100))
        #expect(sim.retainedDepartureCount == 0)  // live again: the world holds it as a player
        // Its position is saved already (or queued): re-entering alone does not save it again.
        #expect(sim.takeChangedPositions().isEmpty)
    }

    @Test("leaving and entering again keeps the movement budget: no refilled teleport")
    func budgetSurvivesReentry() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        sim.submit(.move(seq: 1, to: Position(x: 121, y: 100)), from: a)  // the whole 22-unit burst, after 10 s idle
        sim.step(now: .seconds(10))
        #expect(sim.player(a)?.position == Position(x: 121, y: 100))
        sim.submit(.leave, from: a)
        sim.step(now: .milliseconds(10_050))
        sim.join(b, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .milliseconds(10_100))
        sim.submit(.move(seq: 1, to: Position(x: 125, y: 100)), from: b)  // 4 units; about 2 left
        sim.step(now: .milliseconds(10_150))
        #expect(try sim.events(for: b) == [.correction(seq: 1, x: 121, y: 100, reason: .moveTooFast)])

        // And what was banked is kept too: idle for 10 s, leave, enter again, walk 20 units at once.
        sim.submit(.leave, from: b)
        sim.step(now: .seconds(20))
        let c = SessionKey(link: 1, session: 3)
        sim.join(c, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .milliseconds(20_050))
        sim.submit(.move(seq: 2, to: Position(x: 141, y: 100)), from: c)
        sim.step(now: .milliseconds(20_100))
        #expect(try sim.events(for: c).isEmpty)
        #expect(sim.player(c)?.position == Position(x: 141, y: 100))
    }

    @Test("a record newer than the live state wins (another world saved the character since)")
    func newerRecordWins() {
        var (sim, departed) = leftAfterWalking()
        sim.submit(
            .join(PlayerProfile(characterID: 1, name: "P1"), zoneID: 1, position: Position(x: 300, y: 300), stateVersion: departed.version + 1),
            from: b)
        sim.step(now: .milliseconds(1100))
        #expect(sim.player(b)?.position == Position(x: 300, y: 300))
    }

    @Test("the live state is kept until its save landed and the retention passed")
    func retention() {
        var (sim, departed) = leftAfterWalking()
        sim.step(now: .seconds(100))
        #expect(sim.retainedDepartureCount == 1, "forgotten before its save landed")

        sim.confirmSaved(characterID: 1, version: departed.version - 1)  // an older save landing proves nothing
        sim.step(now: .seconds(101))
        #expect(sim.retainedDepartureCount == 1)

        sim.confirmSaved(characterID: 1, version: departed.version)
        sim.step(now: .seconds(102))  // left at 1.05 s, retention 30 s: due
        #expect(sim.retainedDepartureCount == 0)
        sim.join(b, character: 1, at: Position(x: 100, y: 100))
        sim.step(now: .seconds(103))
        #expect(sim.player(b)?.position == Position(x: 100, y: 100))  // the record: the save has landed
    }

    @Test("a saved departure is still kept for the retention window")
    func savedButRecent() {
        var (sim, departed) = leftAfterWalking()
        sim.confirmSaved(characterID: 1, version: departed.version)
        sim.step(now: .seconds(20))
        #expect(sim.retainedDepartureCount == 1)
        sim.join(b, character: 1, at: Position(x: 100, y: 100))  // a record cached before the save
        sim.step(now: .seconds(21))
        #expect(sim.player(b)?.position == Position(x: 105, y: 100))
    }

    @Test("at most maxRetainedDepartures are kept, the oldest forgotten first")
    func bounded() {
        var config = WorldConfiguration()
        config.maxRetainedDepartures = 2
        var sim = WorldSimulation(configuration: config)
        for i in 1...3 { sim.join(SessionKey(link: 1, session: UInt64(i)), character: UInt64(i), at: Position(x: 100, y: 100)) }
        sim.step(now: .zero)
        for i in 1...3 {
            sim.submit(.leave, from: SessionKey(link: 1, session: UInt64(i)))
            sim.step(now: .seconds(i))
        }
        #expect(sim.retainedDepartureCount == 2)
    }

    @Test("versions of captured states only increase")
    func versionsIncrease() {
        var sim = WorldSimulation(configuration: WorldConfiguration())
        sim.advanceVersionClock(toWallClockMicros: 1_000)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 110, y: 100))
        sim.step(now: .zero)
        sim.submit(.move(seq: 1, to: Position(x: 100.5, y: 100)), from: a)
        sim.step(now: .seconds(1))
        let autosaved = sim.takeChangedPositions()
        sim.advanceVersionClock(toWallClockMicros: 500)  // the wall clock stepped back
        sim.submit(.leave, from: a)
        sim.submit(.leave, from: b)
        sim.step(now: .seconds(2))
        let versions = autosaved.map(\.version) + sim.departed.map(\.version)
        #expect(versions == [1_000, 1_001, 1_002])
    }
}
