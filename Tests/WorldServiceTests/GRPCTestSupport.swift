import MMOTestSupport
import MMOContracts
import MMOProtocol
import NIOCore

// Wire-message builders for the tests of the gRPC edge only; every other test speaks the
// world's own types.

extension Mmo_GatewayInput {
    static func join(_ session: UInt64, character: UInt64, name: String? = nil, zone: UInt32 = 1, x: Float, y: Float) -> Self {
        var join = Mmo_PlayerJoin()
        join.characterID = character
        join.accountID = "acct-\(character)"
        join.name = name ?? "P\(character)"
        join.classID = 2
        join.appearance = 7
        join.level = 3
        join.zoneID = zone
        join.x = x
        join.y = y
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .join(join)
        return input
    }

    static func move(_ session: UInt64, seq: UInt32, x: Float, y: Float) -> Self {
        var move = Mmo_PlayerMove()
        move.seq = seq
        move.x = x
        move.y = y
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .move(move)
        return input
    }

    static func say(_ session: UInt64, _ text: String) -> Self {
        var say = Mmo_PlayerSay()
        say.text = text
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .say(say)
        return input
    }

    static func leave(_ session: UInt64) -> Self {
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .leave(Mmo_PlayerLeave())
        return input
    }
}

extension Mmo_GatewayBatch {
    init(_ inputs: [Mmo_GatewayInput], gateway: String = "gw-test") {
        self.init()
        gatewayID = gateway
        self.inputs = inputs
    }
}

extension Mmo_WorldBatch {
    /// Decoded events of every update in this batch for one session.
    func events(for session: UInt64) throws -> [WorldEvent] {
        var events: [WorldEvent] = []
        for output in outputs where output.sessionID == session {
            guard case .update(let data)? = output.kind else { continue }
            let decoded = try decodeUpdate(ByteBuffer(bytes: data))
            guard decoded.tick == tick else { throw TestFailure("update tick \(decoded.tick) in batch \(tick)") }
            events += decoded.events
        }
        return events
    }
}
