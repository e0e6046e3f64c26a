import Foundation
import MMOProtocol
import NIOCore
import Synchronization
@testable import PacketService

/// Tokens "token-<account>" are valid for account "<account>" (display name "Name <account>");
/// "expired", "banned", "malformed", "bad-signature" and anything else (unknown) fail;
/// "outage" throws like an unreachable service.
struct FakeAuthenticator: SessionAuthenticator {
    struct Outage: Error {}

    func validate(token: String) async throws -> SessionValidation {
        switch token {
        case "outage": throw Outage()
        case "expired": return SessionValidation(status: .expired)
        case "banned": return SessionValidation(status: .banned)
        case "malformed": return SessionValidation(status: .malformed)
        case "bad-signature": return SessionValidation(status: .badSignature)
        case let t where t.hasPrefix("token-"):
            let account = String(t.dropFirst("token-".count))
            return SessionValidation(status: .valid, accountId: account, displayName: "Name \(account)")
        default: return SessionValidation(status: .unknown)
        }
    }
}

/// Every account owns characters 1 and 2 (zone 7); other ids are not found. Creating "Taken" is
/// NAME_TAKEN, "x" NAME_INVALID with a detail.
struct FakeCharacters: CharacterDirectory {
    static func character(_ id: UInt64) -> CharacterRecord {
        CharacterRecord(id: id, name: "Hero\(id)", classId: 2, appearance: 0xABCD, level: 3, zoneId: 7, x: 10.5, y: -4)
    }

    func list(accountId: String) async throws -> CharacterList {
        CharacterList(maxCharacters: 8, characters: [Self.character(1), Self.character(2)])
    }

    func create(accountId: String, name: String, classId: UInt8, appearance: UInt32) async throws -> CharacterCreation {
        switch name {
        case "Taken": return CharacterCreation(status: .nameTaken)
        case "x": return CharacterCreation(status: .nameInvalid, detail: "name must be 3 to 16 letters")
        default:
            var c = Self.character(3)
            c.name = name
            c.classId = UInt32(classId)
            c.appearance = appearance
            return CharacterCreation(status: .ok, character: c)
        }
    }

    func delete(accountId: String, characterId: UInt64) async throws -> CharacterStatus {
        characterId <= 2 ? .ok : .notFound
    }

    func select(accountId: String, characterId: UInt64) async throws -> CharacterSelection {
        characterId <= 2 ? CharacterSelection(status: .ok, character: Self.character(characterId)) : CharacterSelection(status: .notFound)
    }
}

/// Records what connections send to the world.
final class FakeWorldLink: WorldSessionLink, Sendable {
    enum Input: Equatable, Sendable {
        case join(session: UInt64, WorldJoin)
        case move(session: UInt64, seq: UInt32, x: Float, y: Float)
        case say(session: UInt64, text: String)
        case leave(session: UInt64)
    }

    private let state = Mutex<(inputs: [Input], up: Bool)>(([], true))

    var inputs: [Input] { state.withLock { $0.inputs } }
    func setUp(_ up: Bool) { state.withLock { $0.up = up } }

    func join(session: UInt64, _ join: WorldJoin) -> UInt64? {
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
        // Session re-checks off: most tests are not about them, and the 30 s default would move
        // the timer they observe (SessionRecheckTests turns them on).
        PacketServerConfiguration(host: "127.0.0.1", port: 0, gatewayId: "test-gateway", sessionRecheckInterval: .zero)
    }
}

/// A WORLD_UPDATE body (`u64 tick | u16 count | events`) as the world sends it over the link:
/// the encoded frame without its 6-byte header.
func worldUpdateBody(tick: UInt64, events: [WorldEvent]) -> Data {
    var frame = ByteBuffer()
    ServerMessage.worldUpdate(tick: tick, events: events).encode(into: &frame)
    frame.moveReaderIndex(forwardBy: ProtocolLimits.frameHeaderSize)
    return Data(frame.readableBytesView)
}
