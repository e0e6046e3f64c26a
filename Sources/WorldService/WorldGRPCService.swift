import GRPCCore
import MMOContracts

/// The world's gRPC edge: each `Connect` stream is one gateway link. Inputs from the stream go
/// into the runtime's queue; the runtime's per-tick batches for the link are written back until
/// either side ends. When the stream ends, all of the gateway's players leave (and are saved).
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
        let link = try runtime.openLink(peer: context.remotePeer)
        defer { runtime.closeLink(link, reason: .gatewayDisconnected) }

        let end = try await withThrowingTaskGroup(of: StreamEnd.self) { group in
            group.addTask {
                for try await batch in request { runtime.submit(batch, from: link) }
                return .gatewayFinished
            }
            group.addTask {
                for await batch in link.batches { try await response.write(batch) }
                return .worldClosed
            }
            let first = try await group.next() ?? .gatewayFinished
            group.cancelAll()
            return first
        }

        guard end == .worldClosed else { return }
        switch link.closeReason {
        case .tooSlow?:
            throw RPCError(code: .resourceExhausted, message: "gateway fell too far behind the world's ticks")
        case .worldStopping?:
            throw RPCError(code: .unavailable, message: "the world is shutting down")
        case .gatewayDisconnected?, nil:
            return
        }
    }
}
