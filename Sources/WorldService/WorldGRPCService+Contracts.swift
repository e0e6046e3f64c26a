import Foundation
import GRPCCore
import MMOContracts
import MMOProtocol

// The one place the world service speaks protobuf: wire messages to and from the world's own
// types, runtime errors to gRPC statuses, and the gRPC-backed `CharacterStateStore`. A change to
// protos/mmo/world.proto or the database contract stops here; the simulation, the runtime and
// their tests never see a generated type.

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
            command = .join(profile, zoneID: join.zoneID, position: Position(x: join.x, y: join.y))
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
    /// The wire form of one tick's batch for a gateway. Update bodies are copied as they are
    /// (already in the client protocol's encoding); `tickRateHz` goes into every JoinAccepted.
    public init(_ batch: TickBatch, tickRateHz: UInt32) {
        self.init()
        tick = batch.tick
        outputs.reserveCapacity(batch.outputs.count)
        for output in batch.outputs { outputs.append(Mmo_SessionOutput(output, tickRateHz: tickRateHz)) }
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

// MARK: storage

extension Mmo_CharacterState {
    /// The wire form of a saved position.
    public init(_ state: CharacterPosition) {
        self.init()
        characterID = state.characterID
        zoneID = state.zoneID
        x = state.position.x
        y = state.position.y
    }
}

/// Saves through the database service's `SaveCharacterStates` RPC.
public struct DatabaseCharacterStateStore: CharacterStateStore {
    private let client: any Mmo_DatabaseService.ClientProtocol

    /// - Parameter client: a database service client. Its transport's service config
    ///   (`RPCDeadlines`) bounds every call, so a hung database cannot hold shutdown forever.
    public init(client: any Mmo_DatabaseService.ClientProtocol) {
        self.client = client
    }

    /// Wraps a running `GRPCClient` connected to the database service.
    public init<Transport: ClientTransport>(grpcClient: GRPCClient<Transport>) {
        self.init(client: Mmo_DatabaseService.Client(wrapping: grpcClient))
    }

    public func save(_ states: [CharacterPosition]) async throws {
        var request = Mmo_SaveCharacterStatesRequest()
        request.states = states.map(Mmo_CharacterState.init)
        _ = try await client.saveCharacterStates(request)
    }
}
