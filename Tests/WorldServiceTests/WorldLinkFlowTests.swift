import MMOContracts
import MMOProtocol
import NIOCore
import Testing
@testable import WorldService

/// Issue 7: one tick's output for a gateway was one `WorldBatch` of any size, and gRPC's
/// receiver fails a stream on a message over its limit (4 MiB). These check the two halves of
/// the fix that need no transport: the split into messages and the outbox's byte bound. The
/// whole path over TCP is `EndToEndTests/WorldLinkTests`.
@Suite("world link: size-aware batches and a bounded outbox")
struct WorldLinkFlowTests {
    /// An update body of `bytes` bytes for `session` (its content does not matter here).
    private func update(_ session: UInt64, bytes: Int, tick: UInt64 = 7) -> GatewayOutput {
        var body = ByteBuffer()
        body.writeInteger(tick)
        body.writeInteger(UInt16(0))
        body.writeRepeatingByte(0x2A, count: bytes - body.readableBytes)
        return GatewayOutput(session: session, outcome: .update(body))
    }

    @Test("a tick's batch is split into messages under the target size, in order, all with its tick")
    func splitsLargeBatches() throws {
        var outputs = [GatewayOutput(session: 99, outcome: .joined(entityID: 5, zoneID: 1, position: Position(x: 1, y: 2)))]
        for session in 1...40 { outputs.append(update(UInt64(session), bytes: 150_000)) }  // ~6 MB in all
        let batch = TickBatch(tick: 7, outputs: outputs)

        let messages = Mmo_WorldBatch.messages(for: batch, tickRateHz: 20)
        #expect(messages.count >= 6)
        for message in messages {
            #expect(message.tick == 7)
            let size = try message.serializedBytes() as [UInt8]
            #expect(size.count <= WorldLinkLimits.worldBatchTargetBytes)
        }
        // Nothing lost, nothing reordered: the same outputs as the unsplit form.
        #expect(messages.flatMap(\.outputs) == Mmo_WorldBatch(batch, tickRateHz: 20).outputs)
    }

    @Test("a small batch is one message; an empty one still goes out (it carries its tick)")
    func smallBatches() {
        let small = TickBatch(tick: 3, outputs: [update(1, bytes: 100), GatewayOutput(session: 2, outcome: .left(.ok))])
        #expect(Mmo_WorldBatch.messages(for: small, tickRateHz: 20).count == 1)
        #expect(Mmo_WorldBatch.messages(for: TickBatch(tick: 4), tickRateHz: 20).map(\.tick) == [4])
    }

    @Test("an output larger than the target travels alone, and no message nears the receive limit")
    func oversizeOutputAlone() throws {
        let largest = ProtocolLimits.maxServerFrame - 2  // the largest update body the world makes
        let batch = TickBatch(tick: 1, outputs: [update(1, bytes: 1000), update(2, bytes: largest), update(3, bytes: 1000)])
        let messages = Mmo_WorldBatch.messages(for: batch, tickRateHz: 20, maxBytes: 4096)
        #expect(messages.map { $0.outputs.map(\.sessionID) } == [[1], [2], [3]])
        for message in messages {
            let bytes = try message.serializedBytes() as [UInt8]
            #expect(bytes.count < WorldLinkLimits.maxMessageBytes / 2)
        }
    }

    @Test("the outbox is bounded in bytes: a gateway that does not read is refused, one that reads is not")
    func outboxByteBound() async {
        let link = GatewayLink(id: 1, peer: "test", maxQueuedInputs: 10, maxPendingBatches: 100, maxPendingBytes: 10_000)
        #expect(link.deliver(TickBatch(tick: 1, outputs: [update(1, bytes: 6000)])))
        #expect(link.pendingOutputBytes == 6000)
        // 6,000 + 6,000 > 10,000: the tick is told at once, without waiting.
        #expect(!link.deliver(TickBatch(tick: 2, outputs: [update(1, bytes: 6000)])))

        var reader = link.batches.makeAsyncIterator()
        #expect(await reader.next()?.tick == 1)
        #expect(link.pendingOutputBytes == 0)
        // Read: room again. An empty outbox takes even a batch over the bound.
        #expect(link.deliver(TickBatch(tick: 3, outputs: [update(1, bytes: 50_000)])))
        #expect(!link.deliver(TickBatch(tick: 4, outputs: [update(1, bytes: 100)])))
        #expect(await reader.next()?.tick == 3)
    }
}
