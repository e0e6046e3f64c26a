import MMOProtocol
import NIOCore
import NIOEmbedded
import Testing
@testable import PacketService

/// Issue 7: every close the server starts says why first, with DISCONNECT(code, reason), even
/// when the client's socket is backed up; a client that never reads is still closed after the
/// short grace period.
@Suite(.timeLimit(.minutes(1))) struct ServerInitiatedCloseTests {
    /// A client in the world, with its socket stalled from here on (see `StalledSocket`).
    private static func stalledClientInWorld(registry: SessionRegistry) async throws -> TestConnection {
        let world = FakeWorldLink()
        var c = try await TestConnection(id: 7, services: TestConnection.services(registry: registry, world: world))
        try await c.logIn()
        try await c.send(.enterWorld(characterId: 1))
        while world.inputs.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        deliver([accepted], to: 7, via: registry)
        #expect(try await c.receive() == .enterWorldResult(code: .ok, entry: entry))
        try await c.channel.testingEventLoop.executeInContext { [channel = c.channel] in
            try channel.pipeline.syncOperations.addHandler(StalledSocket(), position: .first)
        }
        return c
    }

    private static func drain(_ c: TestConnection) async throws {
        try await c.channel.testingEventLoop.executeInContext { [channel = c.channel] in
            try channel.pipeline.syncOperations.handler(type: StalledSocket.self).drain()
        }
    }

    private static let update = worldUpdateBody(tick: 1, events: [.move(entityId: 5, x: 1, y: 2)])
    private static let limit = PacketServerConfiguration.test.maxUnwritableWorldUpdates

    /// The "not reading" kick used to close the channel right after queueing its DISCONNECT,
    /// which dropped the frame: the client saw its updates, then a bare close.
    @Test func notReadingKickSendsItsDisconnectOnceTheSocketDrains() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        var c = try await Self.stalledClientInWorld(registry: registry)
        c.channel.isWritable = false
        deliver(Array(repeating: .update(Self.update), count: Self.limit + 1), to: 7, via: registry)
        #expect(try await !c.isClosed, "the DISCONNECT behind the backlog gets its grace period")
        deliver([.update(Self.update)], to: 7, via: registry)

        try await Self.drain(c)
        for _ in 0..<Self.limit {
            guard case .worldUpdate = try await c.receive() else { Issue.record("expected the backlog first"); return }
        }
        #expect(try await c.receive() == .disconnect(code: .rateLimited, message: "not reading"))
        #expect(try await c.nothingWritten(), "no update after the kick")
        #expect(try await c.isClosed)
        #expect(registry.connectionCount == 0)
    }

    /// A client that never reads again is closed at the end of the grace period all the same.
    @Test func notReadingClientIsClosedAfterTheGracePeriod() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        let c = try await Self.stalledClientInWorld(registry: registry)
        c.channel.isWritable = false
        deliver(Array(repeating: .update(Self.update), count: Self.limit + 1), to: 7, via: registry)
        #expect(try await !c.isClosed)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(try await c.isClosed)
        #expect(registry.connectionCount == 0)
    }

    /// The idle timeout of a client whose socket is backed up: DISCONNECT(IDLE_TIMEOUT) follows
    /// what was queued before it, then the close.
    @Test func idleTimeoutWithABackedUpSocketStillSaysWhy() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        var c = try await Self.stalledClientInWorld(registry: registry)
        deliver([.update(Self.update)], to: 7, via: registry)
        await c.channel.testingEventLoop.advanceTime(by: .seconds(60))
        #expect(try await !c.isClosed)
        try await Self.drain(c)
        guard case .worldUpdate = try await c.receive() else { Issue.record("expected the queued update"); return }
        #expect(try await c.receive() == .disconnect(code: .idleTimeout, message: "no frame in time"))
        #expect(try await c.isClosed)
    }

    /// Graceful shutdown of a client whose socket is backed up.
    @Test func shutdownKickWithABackedUpSocketStillSaysWhy() async throws {
        let registry = SessionRegistry(maxConnections: 10)
        var c = try await Self.stalledClientInWorld(registry: registry)
        deliver([.update(Self.update)], to: 7, via: registry)
        for handle in registry.beginShutdown() {
            try await handle.kick(.serverShuttingDown, reason: "server is shutting down").get()
        }
        #expect(try await !c.isClosed)
        try await Self.drain(c)
        guard case .worldUpdate = try await c.receive() else { Issue.record("expected the queued update"); return }
        #expect(try await c.receive() == .disconnect(code: .serverShuttingDown, message: "server is shutting down"))
        #expect(try await c.isClosed)
    }
}
