import DatabaseService
import Foundation
import MMOClient
import MMOProtocol
import Testing

/// The saved state's version, end to end: database record → character service → gateway →
/// the world's join. The world keeps a departed character's live state and starts a quick
/// return from it unless the record is newer; with several world processes (zone shards) a
/// record another world saved after the leave must win, which the world can only see if the
/// version arrives in the join.
@Suite(.timeLimit(.minutes(1))) struct StateVersionTests {
    @Test func aNewerRecordFromAnotherWorldWinsOverTheRetainedState() async throws {
        try await InProcessServer.with { server in
            let client = try await server.connect()
            _ = try await client.login(token: try await server.createUser("Sharded"))
            let character = try await client.createCharacter(name: "Sharded", classId: 1)
            let entry = try await client.enterWorld(characterId: character.id)
            // The world now retains the live state it left with (for 30 s, see RecentDepartures).
            try await client.leaveWorld()

            // Another world process saves the character elsewhere, later: a version above any
            // this world gave (its versions are wall-clock microseconds), so it also beats the
            // leave's own save whenever that lands.
            let elsewhere = (x: entry.x + 3, y: entry.y)
            let later = UInt64(Date().timeIntervalSince1970 * 1_000_000) + 5_000_000
            let newer = CharacterStateUpdate(
                characterID: character.id, zoneID: entry.zoneId, x: elsewhere.x, y: elsewhere.y, version: later)
            let saved = try await server.database.saveCharacterStates([newer])
            #expect(saved == 1)

            let again = try await client.enterWorld(characterId: character.id)
            #expect(
                again.zoneId == entry.zoneId && again.x == elsewhere.x && again.y == elsewhere.y,
                "entered at \(again.x), \(again.y); the newer record says \(elsewhere.x), \(elsewhere.y)")
            await client.logout()
        }
    }
}
