import DatabaseService
import DevTools
import Foundation
import Logging
import MMOClient
import MMOProtocol
import MMOServer
import MMOTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// The whole server (`mmo serve`'s assembly) in this test process, on a temporary SQLite file
/// and the in-memory cache, with the packet service on a free loopback port.
struct InProcessServer {
    let handles: ServerHandles
    let group: ServiceGroup
    let runTask: Task<Void, any Error>
    let port: Int
    let databasePath: String

    var database: GameDatabase { handles.database! }

    static func with<T>(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (InProcessServer) async throws -> T
    ) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-e2e-\(UUID().uuidString).sqlite").path
        var configuration = ServerConfiguration()
        configuration.admin = nil
        configuration.database.backend = .sqlite(path: path)
        configuration.packet.host = "127.0.0.1"
        configuration.packet.port = 0
        configure(&configuration)
        let logger = Logger(label: "e2e")
        let (services, handles) = try ServerAssembly.build(configuration, logger: logger)
        let group = ServiceGroup(services: services, logger: logger)
        let task = Task { try await group.run() }
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        do {
            let port = try await waitForStart(handles)
            let server = InProcessServer(handles: handles, group: group, runTask: task, port: port, databasePath: path)
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    private static func waitForStart(_ handles: ServerHandles) async throws -> Int {
        for _ in 0..<200 {
            if let port = handles.packet?.localPort, await handles.database?.isReady() == true,
               handles.packet?.isWorldLinkConnected == true {
                return port
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("server did not start")
    }

    /// Graceful shutdown, as on SIGTERM; returns when every service has stopped.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
    }

    /// Plays the web app: a better-auth user with a session; returns the token.
    func createUser(_ name: String) async throws -> String {
        let id = try await database.createAuthUser(name: name, email: "\(name.lowercased())@example.test", password: "password123")
        return try await database.createAuthSession(userId: id)
    }

    func connect(_ name: String = "e2e") async throws -> GameClient {
        try await GameClient.connect(host: "127.0.0.1", port: port, clientName: name)
    }

    /// Logs in, creates `name` and enters the world.
    func player(_ name: String) async throws -> (GameClient, WorldEntry) {
        let client = try await connect()
        let login = try await client.login(token: try await createUser(name))
        #expect(login.code == .ok)
        let character = try await client.createCharacter(name: name, classId: 1)
        let entry = try await client.enterWorld(characterId: character.id)
        return (client, entry)
    }
}

/// Consumes a client's events in the background into a `WorldView` and an event log that
/// tests poll (one consumer per stream, never cancelled mid-`next()`).
final class EventRecorder: Sendable {
    private final class Store: Sendable {
        let mutex = Mutex<(view: WorldView, events: [ClientEvent])>((WorldView(), []))
    }
    private let store: Store
    private let task: Task<Void, Never>

    init(_ client: GameClient, entry: WorldEntry? = nil) {
        let store = Store()
        if let entry { store.mutex.withLock { $0.view = WorldView(entry: entry) } }
        self.store = store
        task = Task {
            for await event in client.events {
                store.mutex.withLock {
                    $0.view.apply(event)
                    $0.events.append(event)
                }
            }
        }
    }

    deinit { task.cancel() }

    var view: WorldView { store.mutex.withLock { $0.view } }
    var events: [ClientEvent] { store.mutex.withLock { $0.events } }

    /// Polls until `predicate` holds, or throws after `timeout`.
    func wait(_ what: String, timeout: Duration = .seconds(10), until predicate: (WorldView, [ClientEvent]) -> Bool) async throws {
        try await eventually(what, timeout: timeout, interval: .milliseconds(20)) {
            store.mutex.withLock { predicate($0.view, $0.events) }
        }
    }
}
