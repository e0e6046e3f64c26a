/// What one gateway gets from one tick: every output for its sessions, in the order the
/// simulation produced them (join results and leaves as processed, then updates). Only
/// gateways with output get a batch. The gRPC edge turns it into as many wire messages as keep
/// each under `WorldLinkLimits.worldBatchTargetBytes` (in order, all with this tick).
public struct TickBatch: Sendable, Equatable {
    /// The simulation step that produced the batch.
    public var tick: UInt64
    /// The outputs, each addressed to one of the gateway's sessions.
    public var outputs: [GatewayOutput]

    public init(tick: UInt64, outputs: [GatewayOutput] = []) {
        self.tick = tick
        self.outputs = outputs
    }

    /// The bytes this batch holds: what the gateway's outbox counts against its byte bound.
    public var payloadBytes: Int {
        var total = 0
        for output in outputs { total += output.payloadBytes }
        return total
    }
}

/// One output of a tick for one of a gateway's sessions.
public struct GatewayOutput: Sendable, Equatable {
    /// The gateway's connection id.
    public var session: UInt64
    /// Joined, rejected, a pre-encoded WORLD_UPDATE body, or left.
    public var outcome: SessionOutcome

    public init(session: UInt64, outcome: SessionOutcome) {
        self.session = session
        self.outcome = outcome
    }
}

extension GatewayOutput {
    /// The bytes this output carries: an update's body, or a small constant for a join result
    /// or a leave (a few numbers). Wire framing comes on top (the gRPC edge adds it).
    public var payloadBytes: Int {
        if case .update(let body) = outcome { return body.readableBytes }
        return 32
    }
}
