import MMOContracts
import Testing

@testable import CharacterService

/// The gRPC edge's mapping (`CharacterGRPCService.swift`): the only place the core's values meet
/// the contract, so every field and status must cross unchanged.
@Suite struct CharacterContractTests {
    @Test func charactersRoundTrip() {
        let character = PlayerCharacter(
            id: 7, accountID: "acct", name: "Arthas", classID: 1, appearance: 0x0F0F_0F07, level: 3, zoneID: 2, x: 1.5,
            y: -2.25, createdAtMs: 1_700_000_000_001)
        let message = Mmo_Character(character)
        #expect(message.id == 7 && message.accountID == "acct" && message.name == "Arthas" && message.classID == 1)
        #expect(message.appearance == 0x0F0F_0F07 && message.level == 3 && message.zoneID == 2)
        #expect(message.x == 1.5 && message.y == -2.25 && message.createdAtMs == 1_700_000_000_001)
        #expect(PlayerCharacter(message) == character)
    }

    /// The saved state's version crosses the character service unchanged in both directions:
    /// the world keeps the newer of a join's record and its retained state, so a version lost
    /// here makes every record look older than the live state (issue 7, zone shards).
    @Test func theStateVersionCrossesTheEdge() {
        var record = Mmo_Character()
        record.id = 7
        record.zoneID = 2
        record.stateVersion = 1_764_000_000_000_123
        let character = PlayerCharacter(record)
        #expect(Mmo_Character(character).stateVersion == 1_764_000_000_000_123)
        #expect(Mmo_Character(character) == record)
    }

    @Test func eachRefusalHasItsWireStatus() {
        #expect(Mmo_CharacterStatus(CreateRefusal.nameInvalid(.reserved)) == .nameInvalid)
        #expect(Mmo_CharacterStatus(CreateRefusal.classInvalid(9)) == .classInvalid)
        #expect(Mmo_CharacterStatus(CreateRefusal.appearanceInvalid) == .appearanceInvalid)
        #expect(Mmo_CharacterStatus(CreateRefusal.nameTaken) == .nameTaken)
        #expect(Mmo_CharacterStatus(CreateRefusal.slotLimit(max: 8)) == .slotLimit)
    }
}
