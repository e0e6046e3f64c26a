import MMOTestSupport
import Foundation
import GRPCCore
import MMOContracts
import MMOProtocol
import NIOCore
import Testing
@testable import WorldService

@Suite("World gRPC contracts adapter")
struct WorldContractsTests {
    @Test("each kind of gateway input becomes the matching command for its session")
    func inputs() throws {
        #expect(
            GatewayInput(.join(3, character: 9, name: "Ann", zone: 2, x: 1.5, y: 2.5))
                == GatewayInput(
                    session: 3,
                    command: .join(
                        PlayerProfile(characterID: 9, accountID: "acct-9", name: "Ann", classID: 2, appearance: 7, level: 3),
                        zoneID: 2, position: Position(x: 1.5, y: 2.5))))
        #expect(GatewayInput(.move(4, seq: 77, x: -1, y: 8)) == GatewayInput(session: 4, command: .move(seq: 77, to: Position(x: -1, y: 8))))
        #expect(GatewayInput(.say(5, "hello")) == GatewayInput(session: 5, command: .say("hello")))
        #expect(GatewayInput(.leave(6)) == GatewayInput(session: 6, command: .leave))
    }

    @Test("an input without a kind is skipped; class and level are clamped, not wrapped")
    func oddInputs() throws {
        var empty = Mmo_GatewayInput()
        empty.sessionID = 1
        #expect(GatewayInput(empty) == nil)

        var input = Mmo_GatewayInput.join(1, character: 2, x: 0, y: 0)
        guard case .join(var join)? = input.kind else { throw TestFailure("not a join") }
        join.classID = 300
        join.level = 70_000
        input.kind = .join(join)
        guard case .join(let profile, _, _, _, _)? = GatewayInput(input)?.command else { throw TestFailure("not a join") }
        #expect(profile.classID == .max && profile.level == .max)
    }

    @Test("a tick batch becomes one WorldBatch with every output in order, update bytes untouched")
    func batch() throws {
        var body = ByteBuffer()
        WorldEvent.disappear(entityId: 12).encode(into: &body)
        let batch = TickBatch(
            tick: 42,
            outputs: [
                GatewayOutput(session: 1, outcome: .joined(entityID: 12, zoneID: 3, position: Position(x: 4, y: 5))),
                GatewayOutput(session: 2, outcome: .rejected(.worldFull)),
                GatewayOutput(session: 1, outcome: .update(body)),
                GatewayOutput(session: 3, outcome: .left(.loggedInElsewhere)),
            ])
        let wire = Mmo_WorldBatch(batch, tickRateHz: 25)
        #expect(wire.tick == 42)
        #expect(wire.outputs.map(\.sessionID) == [1, 2, 1, 3])

        var joined = Mmo_JoinAccepted()
        joined.entityID = 12
        joined.zoneID = 3
        joined.x = 4
        joined.y = 5
        joined.tickRateHz = 25
        #expect(wire.outputs[0].kind == .joined(joined))
        var rejected = Mmo_JoinRejected()
        rejected.resultCode = UInt32(ResultCode.worldFull.rawValue)
        #expect(wire.outputs[1].kind == .rejected(rejected))
        #expect(wire.outputs[2].kind == .update(Data(body.readableBytesView)))
        var left = Mmo_LeftWorld()
        left.resultCode = UInt32(ResultCode.loggedInElsewhere.rawValue)
        #expect(wire.outputs[3].kind == .left(left))
    }

    @Test("a saved position becomes a CharacterState")
    func characterState() {
        let state = Mmo_CharacterState(CharacterPosition(characterID: 8, zoneID: 2, position: Position(x: 1.25, y: -0)))
        var expected = Mmo_CharacterState()
        expected.characterID = 8
        expected.zoneID = 2
        expected.x = 1.25
        expected.y = 0
        #expect(state == expected)
    }

    @Test("runtime errors and link closes map to the gRPC status a gateway sees")
    func errors() {
        #expect(RPCError(WorldRuntimeError.shuttingDown).code == .unavailable)
        #expect(RPCError(WorldRuntimeError.alreadyRunning).code == .failedPrecondition)
        #expect(RPCError(closing: .tooSlow)?.code == .resourceExhausted)
        #expect(RPCError(closing: .worldStopping)?.code == .unavailable)
        #expect(RPCError(closing: .gatewayDisconnected) == nil)
    }
}
