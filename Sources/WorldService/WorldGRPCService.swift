import GRPCCore
import MMOContracts

/// The world's gRPC edge: each `Connect` stream is one gateway link. Inputs from the stream go
/// into the runtime's queue; the runtime's per-tick batches for the link are written back, each
/// split into messages under `WorldLinkLimits.worldBatchTargetBytes` (the gateway refuses any
/// message over `WorldLinkLimits.maxMessageBytes`), until either side ends. When the stream
/// ends, all of the gateway's players leave (and are saved); the gateway re-admits them when it
/// reconnects.
///
/// All translation between wire messages and the world's own types happens here and in
/// `WorldGRPCService+Contracts.swift`, in the stream's reader and writer tasks, off the tick.
public struct WorldGRPCService: Mmo_WorldService.SimpleServiceProtocol {
    private let runtime: WorldRuntime

    public init(runtime: WorldRuntime) {
        self.runtime = runtime
    }

    private enum StreamEnd: Sendable {
        case gatewayFinished
        case worldClosed
    }

    public func connect(
        request: RPCAsyncSequence<Mmo_GatewayBatch, any Error>,
        response: RPCWriter<Mmo_WorldBatch>,
        context: ServerContext
    ) async throws {
        let link: GatewayLink
        do { link = try runtime.openLink(peer: context.remotePeer) } catch { throw RPCError(error) }
        defer { runtime.closeLink(link, reason: .gatewayDisconnected) }
        let tickRateHz = UInt32(runtime.configuration.tickRateHz)

        let end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
            group.addTask {
                for try await batch in request {
                    runtime.submit(batch.inputs.compactMap(GatewayInput.init), gatewayID: batch.gatewayID, from: link)
                }
                return .gatewayFinished
            }
            group.addTask {
                // Each write waits for the gateway (HTTP/2 flow control): a slow gateway slows
                // this loop, and its batches wait in the link's bounded outbox, never the tick.
                for await batch in link.batches {
                    for message in Mmo_WorldBatch.messages(for: batch, tickRateHz: tickRateHz) {
                        try await response.write(message)
                    }
                }
                return .worldClosed
            }
            let first = try await group.next() ?? .gatewayFinished
            group.cancelAll()
            return first
        }

        guard end == .worldClosed, let reason = link.closeReason, let error = RPCError(closing: reason) else { return }
        throw error
    }
}
