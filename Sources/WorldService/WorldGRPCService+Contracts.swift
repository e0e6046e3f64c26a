import Foundation
import GRPCCore
import MMOContracts
import MMOProtocol

// The one place the world service speaks protobuf: wire messages to and from the world's own
// types (a tick's batch split into messages under the link's size limit), runtime errors to
// gRPC statuses. A change to protos/mmo/world.proto stops here (the database contract stops in
// DatabaseCharacterStateStore.swift); the simulation, the runtime and their tests never see a
// generated type.

// MARK: gateway -> world

extension GatewayInput {
    /// The world's form of a gateway's input; nil for an input without a kind (a newer gateway
    /// sending something this world does not know), which is skipped.
    ///
    /// Class and level are clamped to what the client protocol carries (u8, u16), so an
    /// out-of-range value from a gateway shows as the largest one instead of wrapping.
    public init?(_ input: Mmo_GatewayInput) {
        let command: PlayerCommand
        switch input.kind {
        case .join(let join)?:
            let profile = PlayerProfile(
                characterID: join.characterID, accountID: join.accountID, name: join.name,
                classID: UInt8(clamping: join.classID), appearance: join.appearance, level: UInt16(clamping: join.level))
            command = .join(
                profile, zoneID: join.zoneID, position: Position(x: join.x, y: join.y), stateVersion: join.stateVersion,
                resume: join.resume)
        case .move(let move)?:
            command = .move(seq: move.seq, to: Position(x: move.x, y: move.y))
        case .say(let say)?:
            command = .say(say.text)
        case .leave?:
            command = .leave
        case nil:
            return nil
        }
        self.init(session: input.sessionID, command: command)
    }
}

// MARK: world -> gateway

extension Mmo_WorldBatch {
    /// The wire form of one tick's batch for a gateway, in one message whatever its size. Update
    /// bodies are copied as they are (already in the client protocol's encoding); `tickRateHz`
    /// goes into every JoinAccepted. The stream sends `messages(for:)` instead.
    public init(_ batch: TickBatch, tickRateHz: UInt32) {
        self.init(tick: batch.tick, outputs: batch.outputs[...], tickRateHz: tickRateHz)
    }

    private init(tick: UInt64, outputs slice: ArraySlice<GatewayOutput>, tickRateHz: UInt32) {
        self.init()
        self.tick = tick
        outputs.reserveCapacity(slice.count)
        for output in slice { outputs.append(Mmo_SessionOutput(output, tickRateHz: tickRateHz)) }
    }

    /// Bytes of protobuf framing one `SessionOutput` adds to its payload at most: the field's tag
    /// and length, the session id, the kind's tag and length.
    static let framingBytesPerOutput = 32

    /// A tick's batch as the messages the stream sends: its outputs in order, each message with
    /// the batch's tick and at most `maxBytes` of outputs (framing included). An output larger
    /// than `maxBytes` on its own (an update body near the 1 MiB frame limit, when `maxBytes` is
    /// set lower) travels alone. Nearly every batch is one message; splitting never reorders.
    public static func messages(
        for batch: TickBatch, tickRateHz: UInt32, maxBytes: Int = WorldLinkLimits.worldBatchTargetBytes
    ) -> [Mmo_WorldBatch] {
        var messages: [Mmo_WorldBatch] = []
        var start = batch.outputs.startIndex
        var bytes = 0
        for index in batch.outputs.indices {
            let size = batch.outputs[index].payloadBytes + framingBytesPerOutput
            if bytes + size > maxBytes, index > start {
                messages.append(Mmo_WorldBatch(tick: batch.tick, outputs: batch.outputs[start..<index], tickRateHz: tickRateHz))
                start = index
                bytes = 0
            }
            bytes += size
        }
        if start < batch.outputs.endIndex || messages.isEmpty {
            messages.append(Mmo_WorldBatch(tick: batch.tick, outputs: batch.outputs[start...], tickRateHz: tickRateHz))
        }
        return messages
    }
}

extension Mmo_SessionOutput {
    /// The wire form of one session's output.
    public init(_ output: GatewayOutput, tickRateHz: UInt32) {
        self.init()
        sessionID = output.session
        switch output.outcome {
        case .joined(let entityID, let zoneID, let position):
            var joined = Mmo_JoinAccepted()
            joined.entityID = entityID
            joined.zoneID = zoneID
            joined.x = position.x
            joined.y = position.y
            joined.tickRateHz = tickRateHz
            kind = .joined(joined)
        case .rejected(let code):
            var rejected = Mmo_JoinRejected()
            rejected.resultCode = UInt32(code.rawValue)
            kind = .rejected(rejected)
        case .update(let body):
            kind = .update(body.withUnsafeReadableBytes { Data($0) })
        case .left(let code):
            var left = Mmo_LeftWorld()
            left.resultCode = UInt32(code.rawValue)
            kind = .left(left)
        }
    }
}

// MARK: errors

extension RPCError {
    /// The status a gateway sees when the runtime refuses its stream.
    init(_ error: WorldRuntimeError) {
        switch error {
        case .shuttingDown: self.init(code: .unavailable, message: error.description)
        case .alreadyRunning: self.init(code: .failedPrecondition, message: error.description)
        }
    }

    /// The status a gateway's stream ends with when the world closed its link; nil when the
    /// stream ends normally (the gateway itself went away).
    init?(closing reason: GatewayLink.CloseReason) {
        switch reason {
        case .tooSlow: self.init(code: .resourceExhausted, message: "gateway fell too far behind the world's ticks")
        case .worldStopping: self.init(.shuttingDown)
        case .gatewayDisconnected: return nil
        }
    }
}
