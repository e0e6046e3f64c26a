import Foundation
import GRPCCore
import MMOContracts
import MMOProtocol

// The world link's gRPC stream and the one place where world protobuf messages are translated
// to and from the gateway's own types (WorldSessionLink.swift). Connections, the registry and
// the state machine never see a `Mmo_` type.

extension WorldLink {
    /// The world service client the link keeps its `Connect` stream on.
    typealias Client = Mmo_WorldService.ClientProtocol
    /// One queued input. Built in the world's form on the connection's event loop, so the single
    /// writer task only gathers them into a batch.
    typealias Input = Mmo_GatewayInput

    /// The stream's call options: the largest message the gateway accepts from the world,
    /// explicit rather than gRPC's default. grpc-swift's HTTP/2 client checks received messages
    /// against `maxRequestMessageBytes` (it has no separate response limit); the world splits its
    /// batches well below it (`WorldLinkLimits`).
    static var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = WorldLinkLimits.maxMessageBytes
        return options
    }

    /// One stream: the first message names the gateway, then batches of inputs go up while
    /// world batches come down and are routed to their connections. A tick's output may come in
    /// several batches with the same tick; they are routed one after the other, in order.
    func connectOnce() async throws {
        try await client.connect(
            options: Self.callOptions,
            requestProducer: { writer in
                try await self.writeBatches(to: writer)
            },
            onResponse: { response in
                let batches = response.messages
                self.linkEstablished()
                for try await batch in batches {
                    self.metrics.worldBatchesReceived.increment()
                    if self.registry.deliver(batch.outputs.lazy.compactMap({ o in self.output(o) })) {
                        self.metrics.linkDeadSessions.record(self.registry.linkDeadCount)
                    }
                }
            }
        )
    }

    /// A wire output as the connection gets it; join results and leaves pass `route(_:for:)`,
    /// which turns the acceptance of a replayed join into `readmitted` (VIEW_RESET).
    private func output(_ o: Mmo_SessionOutput) -> (session: UInt64, output: WorldOutput)? {
        guard let kind = o.kind else { return nil }
        if case .update(let body) = kind { return (o.sessionID, .update(body)) }
        return route(WorldOutput(kind), for: o.sessionID).map { (o.sessionID, $0) }
    }

    private func writeBatches(to writer: RPCWriter<Mmo_GatewayBatch>) async throws {
        var hello = Mmo_GatewayBatch()
        hello.gatewayID = gatewayId
        try await writer.write(hello)
        let maxInputs = WorldLinkLimits.maxInputsPerGatewayBatch
        while true {
            let (inputs, draining) = await nextInputs()
            // Inputs pile up while the stream waits for the world (flow control), up to the
            // queue's bounds (`WorldInputQueue`); split them so no message nears the world's
            // receive limit.
            var start = inputs.startIndex
            while start < inputs.endIndex {
                let end = min(start + maxInputs, inputs.endIndex)
                var batch = Mmo_GatewayBatch()
                batch.inputs = start == inputs.startIndex && end == inputs.endIndex ? inputs : Array(inputs[start..<end])
                try await writer.write(batch)
                metrics.worldBatchesSent.increment()
                metrics.worldInputsSent.increment(by: Int64(end - start))
                start = end
            }
            if draining || Task.isCancelled { return }
            // The coalescing window: inputs arriving meanwhile go out together.
            try await Task.sleep(for: flushInterval)
        }
    }
}

// MARK: - Gateway types -> protobuf

extension Mmo_GatewayInput {
    init(session: UInt64, join: WorldJoin) {
        self.init()
        sessionID = session
        kind = .join(Mmo_PlayerJoin(join))
    }

    init(session: UInt64, moveSeq seq: UInt32, x: Float, y: Float) {
        var move = Mmo_PlayerMove()
        move.seq = seq
        move.x = x
        move.y = y
        self.init()
        sessionID = session
        kind = .move(move)
    }

    init(session: UInt64, say text: String) {
        var say = Mmo_PlayerSay()
        say.text = text
        self.init()
        sessionID = session
        kind = .say(say)
    }

    init(leaving session: UInt64) {
        self.init()
        sessionID = session
        kind = .leave(Mmo_PlayerLeave())
    }
}

extension Mmo_PlayerJoin {
    init(_ join: WorldJoin) {
        self.init()
        let c = join.character
        characterID = c.id
        accountID = join.accountId
        name = c.name
        classID = c.classId
        appearance = c.appearance
        level = c.level
        zoneID = c.zoneId
        x = c.x
        y = c.y
        stateVersion = c.stateVersion
        resume = join.resume
    }
}

// MARK: - Protobuf -> gateway types

extension WorldOutput {
    init(_ kind: Mmo_SessionOutput.OneOf_Kind) {
        switch kind {
        case .update(let body): self = .update(body)
        case .joined(let accepted): self = .joined(WorldEntry(accepted))
        case .rejected(let rejected): self = .rejected(ResultCode(worldCode: rejected.resultCode))
        case .left(let left): self = .left(ResultCode(worldCode: left.resultCode))
        }
    }
}

extension WorldEntry {
    /// The ENTER_WORLD_RESULT payload for the world's acceptance.
    init(_ a: Mmo_JoinAccepted) {
        self.init(entityId: a.entityID, zoneId: a.zoneID, x: a.x, y: a.y, tickRateHz: UInt16(clamping: a.tickRateHz))
    }
}

extension ResultCode {
    /// A code carried in a world message as `uint32`; out-of-range values become INTERNAL_ERROR.
    init(worldCode: UInt32) {
        self = UInt16(exactly: worldCode).map(ResultCode.init(rawValue:)) ?? .internalError
    }
}
