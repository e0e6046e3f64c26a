import MMOProtocol
import NIOCore
import Testing
import WorldService

@Suite("WORLD_UPDATE encoding")
struct EncodingTests {
    @Test("update bodies are byte-for-byte what ServerMessage.worldUpdate encodes")
    func matchesProtocolEncoding() throws {
        var sim = WorldSimulation(configuration: WorldConfiguration())
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
        var sim = WorldSimulation(configuration: WorldConfiguration())
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
        var sim = WorldSimulation(configuration: WorldConfiguration())
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

    @Test("a player with more events than fit in one update gets several, in order, each within the limit")
    func splitUpdates() throws {
        var config = WorldConfiguration()
        config.maxUpdateBodyBytes = 512
        var sim = WorldSimulation(configuration: config)
        let keys = (1...30).map { SessionKey(link: 1, session: UInt64($0)) }
        for (i, key) in keys.enumerated() {
            sim.join(key, character: UInt64(i + 1), at: Position(x: 100 + Float(i) * 0.1, y: 100))
        }
        sim.step(now: .zero)

        let bodies = sim.outputs.compactMap { output -> ByteBuffer? in
            guard output.key == keys[0], case .update(let body) = output.outcome else { return nil }
            return body
        }
        #expect(bodies.count == 2)
        #expect(bodies.allSatisfy { $0.readableBytes <= 512 })
        let events = try bodies.flatMap { try decodeUpdate($0).events }
        #expect(events.count == 30)
        guard case .appear(let first)? = events.first else {
            Issue.record("first event is not the self appear")
            return
        }
        #expect(first.entityId == sim.entity(keys[0]))
        let appeared = Set(events.compactMap { event -> UInt64? in
            if case .appear(let a) = event { return a.entityId }
            return nil
        })
        #expect(appeared == Set(keys.map { sim.entity($0) }))
    }
}
