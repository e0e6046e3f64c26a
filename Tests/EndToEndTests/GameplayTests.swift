import DatabaseService
import Foundation
import Logging
import MMOClient
import MMOProtocol
import NIOCore
import NIOPosix
import MMOTestSupport
import Testing

/// Real clients over real TCP against the whole server in this process.
@Suite(.timeLimit(.minutes(2))) struct GameplayTests {
    @Test func twoPlayersSeeEachOtherMoveAndChat() async throws {
        try await InProcessServer.with { server in
            let (alice, aliceEntry) = try await server.player("Alice")
            let aliceEvents = EventRecorder(alice, entry: aliceEntry)
            let (bob, bobEntry) = try await server.player("Bob")
            let bobEvents = EventRecorder(bob, entry: bobEntry)

            try await aliceEvents.wait("Alice sees Bob appear") { view, _ in view.sees("Bob") }
            try await bobEvents.wait("Bob sees Alice appear") { view, _ in view.sees("Alice") }

            try alice.move(x: aliceEntry.x + 1, y: aliceEntry.y)
            try await bobEvents.wait("Bob sees Alice move") { view, _ in
                view.position(of: "Alice").map { $0.x == aliceEntry.x + 1 } ?? false
            }
            try bob.say("well met")
            try await aliceEvents.wait("Alice hears Bob") { _, events in
                events.contains { event in
                    guard case .world(_, let list) = event else { return false }
                    return list.contains(.chat(entityId: bobEntry.entityId, name: "Bob", text: "well met"))
                }
            }
            await alice.logout()
            try await bobEvents.wait("Bob sees Alice disappear") { view, _ in !view.sees("Alice") }
            await bob.logout()
        }
    }

    @Test func secondLoginTakesOverTheFirst() async throws {
        try await InProcessServer.with { server in
            let token = try await server.createUser("Carol")
            let first = try await server.connect()
            _ = try await first.login(token: token)
            let firstEvents = EventRecorder(first)
            let second = try await server.connect()
            let login = try await second.login(token: token)
            #expect(login.code == .ok)
            try await firstEvents.wait("first connection told why") { _, events in
                events.contains { if case .disconnected(.loggedInElsewhere, _) = $0 { return true } else { return false } }
            }
            await first.waitUntilClosed()
            #expect(!first.isConnected)
            // The new connection works.
            _ = try await second.listCharacters()
            await second.logout()
        }
    }

    @Test func opcodesOutsideTheirStateAreRefusedWithoutClosing() async throws {
        try await InProcessServer.with { server in
            let client = try await server.connect()
            let events = EventRecorder(client)
            try client.move(x: 1, y: 1)  // not in world, not even logged in
            try await events.wait("ILLEGAL_STATE") { _, events in
                events.contains(.refused(requestOpcode: Opcode.move.rawValue, code: .illegalState))
            }
            await #expect(throws: GameClientError.self) { _ = try await client.listCharacters() }
            #expect(client.isConnected)
            _ = try await client.ping()
            await client.logout()
        }
    }

    @Test func garbageClosesOnlyThatConnection() async throws {
        try await InProcessServer.with { server in
            let (alice, _) = try await server.player("Alice")
            for payload: [UInt8] in [
                [0x7F, 0xFF, 0xFF, 0xFF],                       // 2 GiB length prefix
                [0, 0, 0, 2, 0x7A, 0xBC],                      // unknown opcode
                [0, 0, 0, 6, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF],    // HELLO with bad magic, truncated
                Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), // wrong protocol entirely
            ] {
                let reply = try await rawExchange(port: server.port, payload)
                #expect(reply.count >= 8, "expected a DISCONNECT frame before the close")
                #expect(reply.count >= 6 && reply[4] == 0x80 && reply[5] == 0x03, "DISCONNECT opcode")
            }
            // Alice never noticed.
            _ = try await alice.ping()
            try alice.say("still here")
            await alice.logout()
        }
    }

    @Test func positionsAreSavedOnGracefulShutdown() async throws {
        try await InProcessServer.with { server in
            let token = try await server.createUser("Dora")
            let client = try await server.connect()
            let accountId = try await client.login(token: token).accountId
            let character = try await client.createCharacter(name: "Dora", classId: 2)
            let entry = try await client.enterWorld(characterId: character.id)
            for step in 1...5 {
                try client.move(x: entry.x + Float(step), y: entry.y)
                try await Task.sleep(for: .milliseconds(250))
            }
            _ = try await client.ping()  // the moves were read before the PONG was written
            try await Task.sleep(for: .milliseconds(200))  // and reached the world within a tick
            // Stop the server with Dora still in the world: the final save must catch her.
            await server.stop()
            let saved = try await GameDatabase.withRunning(
                configuration: DatabaseConfiguration(backend: .sqlite(path: server.databasePath)), logger: Logger(label: "check")
            ) { database in
                try await database.character(account: accountId, id: character.id)
            }
            #expect(saved?.x == entry.x + 5)
            #expect(saved?.y == entry.y)
        }
    }
}

/// Sends raw bytes on a fresh TCP connection and returns everything received until the server
/// closes it (or 5 s pass).
func rawExchange(port: Int, _ payload: [UInt8]) async throws -> [UInt8] {
    try await Task.detached {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect failed") }
        _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        return received
    }.value
}
