import MMOTestSupport
import MMOProtocol
import NIOCore
import WorldService

/// Decodes a WORLD_UPDATE body the way a client would.
func decodeUpdate(_ body: ByteBuffer) throws -> (tick: UInt64, events: [WorldEvent]) {
    let message = try ServerMessage.decode(Frame(opcode: Opcode.worldUpdate.rawValue, body: body))
    guard case .worldUpdate(let tick, let events) = message else {
        throw TestFailure("not a world update: \(message)")
    }
    return (tick, events)
}

extension WorldSimulation {
    /// The decoded events `key` received in the last step (empty when it got no update).
    func events(for key: SessionKey) throws -> [WorldEvent] {
        var events: [WorldEvent] = []
        for output in outputs where output.key == key {
            if case .update(let body) = output.outcome {
                let decoded = try decodeUpdate(body)
                guard decoded.tick == tick else { throw TestFailure("update for tick \(decoded.tick) in step \(tick)") }
                events += decoded.events
            }
        }
        return events
    }

    /// The non-update outcomes `key` received in the last step.
    func outcomes(for key: SessionKey) -> [SessionOutcome] {
        outputs.filter { $0.key == key }.map(\.outcome).filter {
            if case .update = $0 { return false }
            return true
        }
    }

    /// True when `key` got any output in the last step.
    func hasOutput(for key: SessionKey) -> Bool {
        outputs.contains { $0.key == key }
    }

    /// Queues a join with test defaults.
    mutating func join(_ key: SessionKey, character: UInt64, name: String? = nil, zone: UInt32 = 1, at position: Position) {
        submit(
            .join(
                PlayerProfile(characterID: character, name: name ?? "P\(character)", classID: 2, appearance: 7, level: 3),
                zoneID: zone, position: position),
            from: key)
    }

    /// Queues a RESUME join (see `PlayerCommand.join`'s `resume`).
    mutating func resume(_ key: SessionKey, character: UInt64, zone: UInt32 = 1, at position: Position) {
        submit(
            .join(
                PlayerProfile(characterID: character, name: "P\(character)", classID: 2, appearance: 7, level: 3),
                zoneID: zone, position: position, resume: true),
            from: key)
    }

    func entity(_ key: SessionKey) -> UInt64 { player(key)!.entityID }
}
