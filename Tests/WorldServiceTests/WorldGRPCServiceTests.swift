import MMOTestSupport
import GRPCCore
import GRPCInProcessTransport
import MMOContracts
import MMOProtocol
import NIOCore
import Testing
import WorldService

@Suite("WorldGRPCService over the in-process transport", .timeLimit(.minutes(1)))
struct WorldGRPCServiceTests {
    @Test("a fake gateway joins two players, moves one, and the other sees the move in a later batch")
    func moveReachesNeighbour() async throws {
        let store = InMemoryCharacterStateStore()
        let runtime = try makeRuntime(store: store)
        let world = Task { try await runtime.run() }
        defer { world.cancel() }

        let inProcess = InProcessTransport()
        try await withGRPCServer(transport: inProcess.server, services: [WorldGRPCService(runtime: runtime)]) { _ in
            try await withGRPCClient(transport: inProcess.client) { grpcClient in
                let client = Mmo_WorldService.Client(wrapping: grpcClient)
                // The producer waits for the response side's cues; ending it would end the stream.
                let (cues, cue) = AsyncStream.makeStream(of: Cue.self)

                let moverEntity = try await client.connect(
                    requestProducer: { writer in
                        try await writer.write(
                            Mmo_GatewayBatch([
                                .join(1, character: 101, name: "Mover", x: 100, y: 100),
                                .join(2, character: 102, name: "Watcher", x: 120, y: 100),
                            ]))
                        for await next in cues {
                            switch next {
                            case .bothJoined:
                                try await writer.write(Mmo_GatewayBatch([.move(1, seq: 1, x: 100.3, y: 100)]))
                            case .done:
                                return
                            }
                        }
                    },
                    onResponse: { response in
                        var entities: [UInt64: UInt64] = [:]
                        var moveRequested = false
                        for try await batch in response.messages {
                            for output in batch.outputs {
                                if case .joined(let joined)? = output.kind {
                                    #expect(joined.tickRateHz == 20)
                                    entities[output.sessionID] = joined.entityID
                                }
                            }
                            // Move only after both joins came back, so the move lands in a later tick
                            // (a pair made in the same tick would get an appear instead).
                            if !moveRequested {
                                if entities.count == 2 {
                                    moveRequested = true
                                    cue.yield(.bothJoined)
                                }
                                continue
                            }
                            let mover = try #require(entities[1])
                            if try batch.events(for: 2).contains(.move(entityId: mover, x: 100.3, y: 100)) {
                                cue.yield(.done)
                                return mover
                            }
                        }
                        throw TestFailure("stream ended before the move arrived")
                    })
                #expect(moverEntity != 0)
            }
        }
        runtime.stop()
        try await world.value
        #expect(store.saved[101]?.position.x == 100.3)
    }

    @Test("a gateway connecting to a world that is shutting down gets UNAVAILABLE")
    func connectWhileStopping() async throws {
        let runtime = try makeRuntime(store: InMemoryCharacterStateStore())
        await runtime.shutdown(now: .zero)

        let inProcess = InProcessTransport()
        try await withGRPCServer(transport: inProcess.server, services: [WorldGRPCService(runtime: runtime)]) { _ in
            try await withGRPCClient(transport: inProcess.client) { grpcClient in
                let client = Mmo_WorldService.Client(wrapping: grpcClient)
                let error = await #expect(throws: RPCError.self) {
                    try await client.connect(
                        requestProducer: { writer in try await writer.write(Mmo_GatewayBatch([])) },
                        onResponse: { response in for try await _ in response.messages {} })
                }
                #expect(error?.code == .unavailable)
            }
        }
    }
}

private enum Cue: Sendable {
    case bothJoined
    case done
}
