import MMOProtocol
import NIOCore
import Testing
import WorldService

@Suite("WORLD_UPDATE encoding")
struct EncodingTests {
    @Test("update bodies are byte-for-byte what ServerMessage.worldUpdate encodes")
    func matchesProtocolEncoding() throws {
        let sim = WorldSimulation(configuration: WorldConfiguration())
        let a = SessionKey(link: 1, session: 1)
        let b = SessionKey(link: 1, session: 2)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        sim.join(b, character: 2, at: Position(x: 120, y: 100))
        sim.step(now: .zero)
        sim.submit(.move(seq: 1, to: Position(x: 125.5, y: 99.25)), from: b)
        sim.submit(.say("hi there"), from: a)
        sim.step(now: .seconds(1))

        let updates = sim.outputs.compactMap { output -> ByteBuffer? in
            guard output.key == a, case .update(let body) = output.outcome else { return nil }
            return body
        }
        #expect(updates.count == 1)
        let body = try #require(updates.first)

        let expectedEvents: [WorldEvent] = [
            .move(entityId: sim.entity(b), x: 125.5, y: 99.25),
            .chat(entityId: sim.entity(a), name: "P1", text: "hi there"),
        ]
        var frame = ByteBuffer()
        ServerMessage.worldUpdate(tick: sim.tick, events: expectedEvents).encode(into: &frame)
        let expectedBody = frame.getSlice(at: ProtocolLimits.frameHeaderSize, length: frame.readableBytes - ProtocolLimits.frameHeaderSize)
        #expect(body == expectedBody)

        let decoded = try decodeUpdate(body)
        #expect(decoded.tick == 2)
        #expect(decoded.events == expectedEvents)
    }

    @Test("each update carries the tick it was produced in")
    func tickNumbers() throws {
        let sim = WorldSimulation(configuration: WorldConfiguration())
        let a = SessionKey(link: 1, session: 1)
        sim.join(a, character: 1, at: Position(x: 100, y: 100))
        for t in 1...3 {
            if t > 1 { sim.submit(.move(seq: UInt32(t), to: Position(x: -1, y: 0)), from: a) }
            sim.step(now: .seconds(t))
            let body = try #require(sim.outputs.compactMap { output -> ByteBuffer? in
                if case .update(let b) = output.outcome { return b }
                return nil
            }.first)
            #expect(try decodeUpdate(body).tick == UInt64(t))
        }
    }

    @Test("names longer than the protocol allows are truncated so clients can still decode")
    func longNames() throws {
        let sim = WorldSimulation(configuration: WorldConfiguration())
        let a = SessionKey(link: 1, session: 1)
        let long = String(repeating: "é", count: 40)  // 80 bytes of UTF-8
        sim.join(a, character: 1, name: long, at: Position(x: 100, y: 100))
        sim.step(now: .zero)
        let events = try sim.events(for: a)
        guard case .appear(let me)? = events.first else {
            Issue.record("expected a self appear, got \(events)")
            return
        }
        #expect(me.name == String(repeating: "é", count: 32))
    }
}
