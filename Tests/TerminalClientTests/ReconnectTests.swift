import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

/// A drop in the world while the SDK resumes the character: the status line says so, keys keep
/// working (steps wait), and the view is rebuilt from the snapshot after the resume.
@Suite("Reconnecting")
struct ReconnectTests {
    @Test("connection lost shows reconnecting; resumed redraws from the fresh snapshot")
    func reconnectingThenResumed() throws {
        var h = Harness.inWorld()
        h.world(.player(9, "Bob", x: 503, y: 504), .player(10, "Cid", x: 500, y: 490))
        #expect(h.frame().contains("Nearby players (2)"))

        h.send(.server(.reconnecting(reason: .connectionClosed)))
        #expect(h.model.status?.text == "Connection lost — reconnecting…")
        #expect(h.frame().contains("Connection lost — reconnecting…"))
        #expect(h.model.screen == .inWorld)
        #expect(h.model.world?.reconnecting == true)
        // The keyboard still works, but no MOVE goes out while link-dead; chat says why it waits.
        #expect(Harness.moves(h.press(.right) + h.advance(.seconds(1))).isEmpty)
        h.press(.enter)
        h.type("hello")
        #expect(!h.sent.contains(.say("hello")))
        #expect(h.model.status?.text.contains("reconnecting") == true)
        // The sticky status outlives the usual few seconds.
        h.advance(.seconds(10))
        #expect(h.frame().contains("Connection lost — reconnecting…"))

        let session = ResumedSession(
            accountId: "u1", displayName: "Ann", characterId: 7, entry: WorldEntry(entityId: 70, zoneId: 1, x: 501, y: 500, tickRateHz: 20))
        h.send(.server(.resumed(session)))
        #expect(h.model.status?.text == "Resumed: you are back in the world.")
        #expect(h.model.world?.reconnecting == false)
        #expect(h.model.world?.view.selfEntityId == 70)
        // Everything seen before the drop is gone until the snapshot says otherwise.
        #expect(h.model.world?.view.others.isEmpty == true)
        #expect(h.frame().contains("Nearby players: nobody in sight"))
        h.world(.player(70, "Arthas", x: 501, y: 500), .player(11, "Dee", x: 505, y: 500), tick: 5)
        let frame = h.frame()
        #expect(frame.contains("Nearby players (1)"))
        #expect(frame.contains("Dee") && !frame.contains("Bob") && !frame.contains("Cid"))
        #expect(frame.lines[0].contains("(501.0, 500.0)"))

        // Steps go out again, from the resumed position.
        let moves = Harness.moves(h.press(.right) + h.advance(.milliseconds(500)))
        #expect(moves.first.map { $0.x == 502 && $0.y == 500 } == true)
    }

    @Test("a refused resume that logged in again says so; a failed resume ends with the reason")
    func reenteredAndFailed() {
        var h = Harness.inWorld(mode: .plain)
        h.send(.server(.reconnecting(reason: .disconnected(.idleTimeout, message: ""))))
        h.send(.server(.reentered(characterId: 7, entry: WorldEntry(entityId: 71, zoneId: 1, x: 500, y: 500, tickRateHz: 20),
                                  resumeCode: .resumeRejected)))
        let transcript = h.model.takeTranscript()
        #expect(transcript.contains("! Connection lost — reconnecting…"))
        #expect(transcript.contains { $0.contains("logging in again") && $0.contains("RESUME_REJECTED") })
        #expect(h.model.world?.view.selfEntityId == 71)

        h.send(.server(.reconnecting(reason: .connectionClosed)))
        h.send(.server(.resumeFailed(.refused(.tokenExpired))))
        h.send(.server(.connectionClosed))
        #expect(h.model.screen == .ended)
        #expect(h.model.ending?.code == ExitStatus.connectionLost)
        #expect(h.model.ending?.message.contains("could not be resumed") == true)
    }

    @Test("VIEW_RESET forgets the players around and takes the new entity id")
    func viewReset() {
        var h = Harness.inWorld()
        h.world(.player(9, "Bob", x: 503, y: 504))
        h.send(.server(.viewReset(entityId: 99, zoneId: 1, x: 500, y: 500)))
        #expect(h.model.world?.view.selfEntityId == 99)
        #expect(h.model.world?.view.others.isEmpty == true)
        h.world(.player(99, "Arthas", x: 500, y: 500), .player(12, "Bob", x: 503, y: 504), tick: 3)
        #expect(h.frame().contains("Nearby players (1)"))
        #expect(h.model.world?.view.entity(named: "Bob")?.id == 12)
    }
}
