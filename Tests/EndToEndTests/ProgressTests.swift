import MMOClient
import MMOProtocol
import MMOTestSupport
import Testing

/// "Progress lost in normal play": entering the world again — at once, or after logging in
/// again — must start where the character was, not at its last saved position, although the
/// gateway reads the character's record before the leave's save may have landed.
@Suite(.timeLimit(.minutes(1))) struct ProgressTests {
    /// Walks 10 units along x within the speed limit (5 units/s), and waits until the world has
    /// applied every move.
    private func walk10Units(_ client: GameClient, from entry: WorldEntry) async throws {
        for step in 1...20 {
            _ = try client.move(x: entry.x + 0.5 * Float(step), y: entry.y)
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try await client.ping()  // the moves were read before the PONG was written
        try await Task.sleep(for: .milliseconds(150))  // and applied within a tick
    }

    @Test func leaveAndEnterAgainAtOnceKeepsTheWalk() async throws {
        try await InProcessServer.with { server in
            let (client, entry) = try await server.player("Walker")
            try await walk10Units(client, from: entry)
            try await client.leaveWorld()
            let again = try await client.enterWorld(characterId: try await client.listCharacters().characters[0].id)
            #expect(again.x == entry.x + 10 && again.y == entry.y, "entered at \(again.x), walked to \(entry.x + 10)")
            await client.logout()
        }
    }

    @Test func loggingInAgainKeepsTheWalk() async throws {
        try await InProcessServer.with { server in
            let token = try await server.createUser("Returner")
            let first = try await server.connect()
            _ = try await first.login(token: token)
            let character = try await first.createCharacter(name: "Returner", classId: 1)
            let entry = try await first.enterWorld(characterId: character.id)
            try await walk10Units(first, from: entry)

            // The same account from a new connection takes over (the first is disconnected).
            let second = try await server.connect()
            _ = try await second.login(token: token)
            let again = try await second.enterWorld(characterId: character.id)
            #expect(again.x == entry.x + 10 && again.y == entry.y, "entered at \(again.x), walked to \(entry.x + 10)")
            await second.logout()
        }
    }
}
