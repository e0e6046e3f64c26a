import Foundation
import MMOContracts
import MMOProtocol
import Testing
@testable import PacketService

/// The protobuf adapters (GRPCBackends.swift, WorldLink+Contracts.swift): the only place the
/// gateway translates between the services' messages and its own types.
@Suite struct ContractMappingTests {
    @Test(arguments: [
        (Mmo_SessionStatus.valid, SessionValidation.Status.valid), (.malformed, .malformed), (.unknown, .unknown),
        (.expired, .expired), (.badSignature, .badSignature), (.banned, .banned),
        (.unspecified, .unrecognized), (.UNRECOGNIZED(99), .unrecognized),
    ])
    func sessionStatuses(status: Mmo_SessionStatus, expected: SessionValidation.Status) {
        var response = Mmo_ValidateSessionResponse()
        response.status = status
        response.accountID = "acc"
        response.displayName = "Acc"
        #expect(SessionValidation(response) == SessionValidation(status: expected, accountId: "acc", displayName: "Acc"))
    }

    @Test(arguments: [
        (Mmo_CharacterStatus.ok, CharacterStatus.ok), (.nameInvalid, .nameInvalid), (.nameTaken, .nameTaken),
        (.slotLimit, .slotLimit), (.classInvalid, .classInvalid), (.appearanceInvalid, .appearanceInvalid),
        (.notFound, .notFound), (.unspecified, .unrecognized), (.UNRECOGNIZED(42), .unrecognized),
    ])
    func characterStatuses(status: Mmo_CharacterStatus, expected: CharacterStatus) {
        #expect(CharacterStatus(status) == expected)
    }

    static func character() -> Mmo_Character {
        var c = Mmo_Character()
        c.id = 4
        c.accountID = "acc"
        c.name = "Hero4"
        c.classID = 300
        c.appearance = 0xABCD
        c.level = 70000
        c.zoneID = 7
        c.x = 10.5
        c.y = -4
        return c
    }

    @Test func charactersKeepTheServicesWidths() {
        // Narrowing to the wire is the state machine's business (CharacterSummary.init).
        #expect(CharacterRecord(Self.character()) == CharacterRecord(
            id: 4, name: "Hero4", classId: 300, appearance: 0xABCD, level: 70000, zoneId: 7, x: 10.5, y: -4))

        var list = Mmo_CharacterListResponse()
        list.maxCharacters = 8
        list.characters = [Self.character()]
        #expect(CharacterList(list) == CharacterList(maxCharacters: 8, characters: [CharacterRecord(Self.character())]))
    }

    @Test func aCharacterIsOnlyThereWhenTheServiceSentOne() {
        var created = Mmo_CharacterCreateResponse()
        created.status = .nameInvalid
        created.detail = "too short"
        #expect(CharacterCreation(created) == CharacterCreation(status: .nameInvalid, character: nil, detail: "too short"))
        created.status = .ok
        created.detail = ""
        created.character = Self.character()
        #expect(CharacterCreation(created) == CharacterCreation(status: .ok, character: CharacterRecord(Self.character())))

        var selected = Mmo_CharacterSelectResponse()
        selected.status = .ok
        #expect(CharacterSelection(selected) == CharacterSelection(status: .ok, character: nil))
        selected.character = Self.character()
        #expect(CharacterSelection(selected) == CharacterSelection(status: .ok, character: CharacterRecord(Self.character())))
    }

    @Test func worldInputs() {
        let join = WorldJoin(character: CharacterRecord(Self.character()), accountId: "acc")
        let input = Mmo_GatewayInput(session: 9, join: join)
        #expect(input.sessionID == 9)
        guard case .join(let j) = input.kind else { Issue.record("\(input)"); return }
        #expect(j.characterID == 4 && j.accountID == "acc" && j.name == "Hero4" && j.classID == 300 && j.appearance == 0xABCD)
        #expect(j.level == 70000 && j.zoneID == 7 && j.x == 10.5 && j.y == -4)

        let move = Mmo_GatewayInput(session: 9, moveSeq: 3, x: 1, y: 2)
        guard case .move(let m) = move.kind else { Issue.record("\(move)"); return }
        #expect(move.sessionID == 9 && m.seq == 3 && m.x == 1 && m.y == 2)

        let say = Mmo_GatewayInput(session: 9, say: "hi")
        #expect(say.sessionID == 9 && say.kind == .say(Mmo_PlayerSay.with { $0.text = "hi" }))

        let leave = Mmo_GatewayInput(leaving: 9)
        #expect(leave.sessionID == 9 && leave.kind == .leave(Mmo_PlayerLeave()))
    }

    /// The saved state's version goes from the character service's record into the world's
    /// join: the world keeps the newer of the record and its retained live state, so a record
    /// saved by another world must arrive with its version (issue 7, zone shards).
    @Test func theStateVersionReachesTheJoin() {
        var c = Self.character()
        c.stateVersion = 1_764_000_000_000_123
        var selected = Mmo_CharacterSelectResponse()
        selected.status = .ok
        selected.character = c
        guard let record = CharacterSelection(selected).character else { Issue.record("no character"); return }
        let input = Mmo_GatewayInput(session: 9, join: WorldJoin(character: record, accountId: "acc"))
        guard case .join(let j) = input.kind else { Issue.record("\(input)"); return }
        #expect(j.stateVersion == 1_764_000_000_000_123)
        #expect(j.characterID == 4 && j.zoneID == 7)
    }

    @Test func worldOutputs() {
        var accepted = Mmo_JoinAccepted()
        accepted.entityID = 1001
        accepted.zoneID = 7
        accepted.x = 10.5
        accepted.y = -4
        accepted.tickRateHz = 70000
        #expect(WorldOutput(.joined(accepted)) == .joined(WorldEntry(entityId: 1001, zoneId: 7, x: 10.5, y: -4, tickRateHz: 65535)))

        var rejected = Mmo_JoinRejected()
        rejected.resultCode = UInt32(ResultCode.worldFull.rawValue)
        #expect(WorldOutput(.rejected(rejected)) == .rejected(.worldFull))

        var left = Mmo_LeftWorld()
        left.resultCode = 0x1_0000  // not a 16-bit code
        #expect(WorldOutput(.left(left)) == .left(.internalError))

        #expect(WorldOutput(.update(Data([1, 2, 3]))) == .update(Data([1, 2, 3])))
    }
}
