import Foundation
import MMOContracts
import MMOProtocol
import NIOCore
import Synchronization
@testable import PacketService

/// Tokens "token-<account>" are valid for account "<account>" (display name "Name <account>");
/// "expired", "banned", "malformed", "bad-signature" and anything else (unknown) fail;
/// "outage" throws like an unreachable service.
struct FakeAuthenticator: SessionAuthenticator {
    struct Outage: Error {}

    func validate(token: String) async throws -> Mmo_ValidateSessionResponse {
        var response = Mmo_ValidateSessionResponse()
        switch token {
        case "outage": throw Outage()
        case "expired": response.status = .expired
        case "banned": response.status = .banned
        case "malformed": response.status = .malformed
        case "bad-signature": response.status = .badSignature
        case let t where t.hasPrefix("token-"):
            let account = String(t.dropFirst("token-".count))
            response.status = .valid
            response.accountID = account
            response.displayName = "Name \(account)"
        default: response.status = .unknown
        }
        return response
    }
}

/// Every account owns characters 1 and 2 (zone 7); other ids are not found. Creating "Taken" is
/// NAME_TAKEN, "x" NAME_INVALID with a detail.
struct FakeCharacters: CharacterDirectory {
    static func character(_ id: UInt64, account: String) -> Mmo_Character {
        var c = Mmo_Character()
        c.id = id
        c.accountID = account
        c.name = "Hero\(id)"
        c.classID = 2
        c.appearance = 0xABCD
        c.level = 3
        c.zoneID = 7
        c.x = 10.5
        c.y = -4
        return c
    }

    func list(accountId: String) async throws -> Mmo_CharacterListResponse {
        var r = Mmo_CharacterListResponse()
        r.maxCharacters = 8
        r.characters = [Self.character(1, account: accountId), Self.character(2, account: accountId)]
        return r
    }

    func create(accountId: String, name: String, classId: UInt32, appearance: UInt32) async throws -> Mmo_CharacterCreateResponse {
        var r = Mmo_CharacterCreateResponse()
        switch name {
        case "Taken": r.status = .nameTaken
        case "x":
            r.status = .nameInvalid
            r.detail = "name must be 3 to 16 letters"
        default:
            r.status = .ok
            var c = Self.character(3, account: accountId)
            c.name = name
            c.classID = classId
            c.appearance = appearance
            r.character = c
        }
        return r
    }

    func delete(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterDeleteResponse {
        var r = Mmo_CharacterDeleteResponse()
        r.status = characterId <= 2 ? .ok : .notFound
        return r
    }

    func select(accountId: String, characterId: UInt64) async throws -> Mmo_CharacterSelectResponse {
        var r = Mmo_CharacterSelectResponse()
        if characterId <= 2 {
            r.status = .ok
            r.character = Self.character(characterId, account: accountId)
        } else {
            r.status = .notFound
        }
        return r
    }
}

/// Records what connections send to the world.
final class FakeWorldLink: WorldSessionLink, Sendable {
    enum Input: Equatable, Sendable {
        case join(session: UInt64, Mmo_PlayerJoin)
        case move(session: UInt64, seq: UInt32, x: Float, y: Float)
        case say(session: UInt64, text: String)
        case leave(session: UInt64)
    }

    private let state = Mutex<(inputs: [Input], up: Bool)>(([], true))

    var inputs: [Input] { state.withLock { $0.inputs } }
    func setUp(_ up: Bool) { state.withLock { $0.up = up } }

    func join(session: UInt64, _ join: Mmo_PlayerJoin) -> UInt64? {
        state.withLock { s in
            guard s.up else { return nil }
            s.inputs.append(.join(session: session, join))
            return 1
        }
    }
    func move(session: UInt64, seq: UInt32, x: Float, y: Float) {
        state.withLock { $0.inputs.append(.move(session: session, seq: seq, x: x, y: y)) }
    }
    func say(session: UInt64, text: String) {
        state.withLock { $0.inputs.append(.say(session: session, text: text)) }
    }
    func leave(session: UInt64) {
        state.withLock { $0.inputs.append(.leave(session: session)) }
    }
}

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
                    var builder = WorldUpdateBuilder(tick: tick)
                    builder.append(.move(entityId: input.sessionID, x: move.x, y: move.y))
                    o.kind = .update(Data(builder.buffer.readableBytesView))
                case .leave, .say, nil:
                    continue
                }
                out.outputs.append(o)
            }
            if !out.outputs.isEmpty { try await response.write(out) }
        }
    }
}

/// Splits server bytes into messages (the server may coalesce frames into one buffer).
struct ServerFrameReader {
    private var pending = ByteBuffer()
    private let parser = FrameParser(maxFrameSize: ProtocolLimits.maxServerFrame)

    mutating func feed(_ buffer: ByteBuffer) {
        var buffer = buffer
        pending.writeBuffer(&buffer)
    }

    mutating func next() throws -> ServerMessage? {
        guard let frame = try parser.parse(&pending) else { return nil }
        return try ServerMessage.decode(frame)
    }
}

extension ClientMessage {
    var bytes: ByteBuffer {
        var b = ByteBuffer()
        encode(into: &b)
        return b
    }
}

extension PacketServerConfiguration {
    static var test: PacketServerConfiguration {
        PacketServerConfiguration(host: "127.0.0.1", port: 0, gatewayId: "test-gateway")
    }
}
