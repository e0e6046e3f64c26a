import Foundation
import GRPCCore
import MMOContracts
import MMOProtocol
import Synchronization

// The live tests' world, at the gRPC edge: the only test fake that speaks protobuf.

/// A world service for live tests: accepts every join (entity id = 1000 + character id),
/// answers each move with a WORLD_UPDATE holding a `.move` event, and records every batch.
final class FakeWorldService: Mmo_WorldService.SimpleServiceProtocol, Sendable {
    private let state = Mutex<(batches: [Mmo_GatewayBatch], streams: Int)>(([], 0))
    /// When set, the stream fails on the next batch it receives (tests link loss and reconnect).
    let breakOnNextBatch = Atomic<Bool>(false)

    var batches: [Mmo_GatewayBatch] { state.withLock { $0.batches } }
    var inputs: [Mmo_GatewayInput] { batches.flatMap(\.inputs) }
    var streams: Int { state.withLock { $0.streams } }

    func connect(
        request: RPCAsyncSequence<Mmo_GatewayBatch, any Error>,
        response: RPCWriter<Mmo_WorldBatch>,
        context: ServerContext
    ) async throws {
        state.withLock { $0.streams += 1 }
        var tick: UInt64 = 0
        for try await batch in request {
            if breakOnNextBatch.exchange(false, ordering: .relaxed) {
                throw RPCError(code: .unavailable, message: "world restarting")
            }
            state.withLock { $0.batches.append(batch) }
            var out = Mmo_WorldBatch()
            tick += 1
            out.tick = tick
            for input in batch.inputs {
                var o = Mmo_SessionOutput()
                o.sessionID = input.sessionID
                switch input.kind {
                case .join(let join):
                    var accepted = Mmo_JoinAccepted()
                    accepted.entityID = 1000 + join.characterID
                    accepted.zoneID = join.zoneID
                    accepted.x = join.x
                    accepted.y = join.y
                    accepted.tickRateHz = 20
                    o.kind = .joined(accepted)
                case .move(let move):
                    o.kind = .update(worldUpdateBody(tick: tick, events: [.move(entityId: input.sessionID, x: move.x, y: move.y)]))
                case .leave, .say, nil:
                    continue
                }
                out.outputs.append(o)
            }
            if !out.outputs.isEmpty { try await response.write(out) }
        }
    }
}
