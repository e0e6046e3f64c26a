import GRPCCore
import GRPCInProcessTransport
import Logging
import MMOContracts
import MMOProtocol
import Synchronization
import Testing
import MMOTestSupport
@testable import PacketService

/// The gateway's upstream queue to the world while its stream cannot take inputs (a world that
/// stopped reading, HTTP/2 flow control, or joins being re-read after a reconnect): it stays
/// bounded however fast a client sends, keeps each session's newest move, and never drops a
/// join or a leave.
@Suite(.timeLimit(.minutes(1))) struct WorldLinkQueueTests {
    /// A link whose writer never runs: `nextInputs()` is what it would send once the stream
    /// moves again. The client is never used.
    private static func link(
        maxQueuedInputs: Int = 1000, maxQueuedMovesPerSession: Int = 1, maxQueuedChatPerSession: Int = 4,
        refresh: WorldLink.JoinRefresher? = nil
    ) -> WorldLink {
        WorldLink(
            client: Mmo_WorldService.Client(wrapping: GRPCClient(transport: InProcessTransport().client)),
            gatewayId: "gw-test",
            registry: SessionRegistry(maxConnections: 10),
            metrics: PacketMetrics(),
            flushInterval: .milliseconds(2),
            backoff: .milliseconds(10) ... .milliseconds(20),
            queueLimits: .init(maxInputs: maxQueuedInputs, maxMovesPerSession: maxQueuedMovesPerSession, maxChatPerSession: maxQueuedChatPerSession),
            refresh: refresh,
            logger: Logger(label: "world-link-queue-test"))
    }

    private static func join(_ id: UInt64) -> WorldJoin {
        WorldJoin(character: FakeCharacters.character(id <= 2 ? id : 1), accountId: "acc-\(id)")
    }

    private static func moveSeq(_ input: Mmo_GatewayInput) -> UInt32? {
        if case .move(let m) = input.kind { return m.seq }
        return nil
    }

    private static func describe(_ inputs: [Mmo_GatewayInput]) -> [String] {
        inputs.map { input in
            switch input.kind {
            case .join: "join \(input.sessionID)"
            case .leave: "leave \(input.sessionID)"
            case .move(let m): "move \(input.sessionID) \(m.seq)"
            case .say(let s): "say \(input.sessionID) \(s.text)"
            case nil: "?"
            }
        }
    }

    @Test func aFloodOfMovesWhileTheStreamIsStalledKeepsOnlyTheNewest() async {
        let link = Self.link()
        link.linkEstablished()
        #expect(link.join(session: 1, Self.join(1)) != nil)
        #expect(link.join(session: 2, Self.join(2)) != nil)
        for seq in 1...100_000 as ClosedRange<UInt32> {
            link.move(session: 1, seq: seq, x: Float(seq % 100), y: 0)
            if seq % 1000 == 0 { link.say(session: 1, text: "line \(seq)") }
        }
        link.move(session: 2, seq: 7, x: 1, y: 1)
        link.leave(session: 2)
        // Session 2 comes back: its next move belongs after the new join, not in the old slot.
        #expect(link.join(session: 2, Self.join(2)) != nil)
        link.move(session: 2, seq: 8, x: 2, y: 2)

        #expect(link.queuedInputCount < 20)
        let (inputs, _) = await link.nextInputs()
        #expect(Self.describe(inputs) == [
            "join 1", "join 2", "move 1 100000",
            "say 1 line 1000", "say 1 line 2000", "say 1 line 3000", "say 1 line 4000",
            "move 2 7", "leave 2", "join 2", "move 2 8",
        ])
        #expect(link.queuedInputCount == 0)
        // Once taken, the next move is queued afresh.
        link.move(session: 1, seq: 100_001, x: 0, y: 0)
        #expect(Self.describe(await link.nextInputs().0) == ["move 1 100001"])
    }

    /// Below its cap a session's moves all go out (an ordinary burst); past it the newest
    /// replaces the last, so the world still gets the newest position.
    @Test func movesPastTheSessionCapReplaceTheLast() async {
        let link = Self.link(maxQueuedMovesPerSession: 3)
        link.linkEstablished()
        #expect(link.join(session: 1, Self.join(1)) != nil)
        for seq in 1...3 as ClosedRange<UInt32> { link.move(session: 1, seq: seq, x: 0, y: 0) }
        #expect(Self.describe(await link.nextInputs().0) == ["join 1", "move 1 1", "move 1 2", "move 1 3"])
        for seq in 4...1000 as ClosedRange<UInt32> { link.move(session: 1, seq: seq, x: 0, y: 0) }
        #expect(Self.describe(await link.nextInputs().0) == ["move 1 4", "move 1 5", "move 1 1000"])
    }

    @Test func theTotalCapDropsMovesAndChatButNeverJoinsOrLeaves() async {
        let link = Self.link(maxQueuedInputs: 10, maxQueuedChatPerSession: 100)
        link.linkEstablished()
        for session in 1...20 as ClosedRange<UInt64> {
            #expect(link.join(session: session, Self.join(session)) != nil)
            link.move(session: session, seq: 1, x: 0, y: 0)
            link.say(session: session, text: "hi")
        }
        for session in 1...20 as ClosedRange<UInt64> { link.leave(session: session) }
        let inputs = await link.nextInputs().0
        let kinds = Self.describe(inputs)
        #expect(kinds.filter { $0.hasPrefix("join") }.count == 20)
        #expect(kinds.filter { $0.hasPrefix("leave") }.count == 20)
        #expect(kinds.filter { $0.hasPrefix("move") || $0.hasPrefix("say") }.count == 10)
        // A session whose move was dropped still gets a newer one through once there is room.
        link.move(session: 20, seq: 2, x: 1, y: 1)
        #expect(Self.describe(await link.nextInputs().0) == ["move 20 2"])
    }

    /// After a reconnect the joins are re-read first and inputs wait in `held`: the same bounds
    /// apply there, and the newest move goes out after the replayed join.
    @Test func inputsHeldDuringTheRejoinAreBoundedToo() async throws {
        let gate = AsyncStream<Void>.makeStream()
        let link = Self.link(refresh: { join in
            for await _ in gate.stream { break }
            return join
        })
        link.linkEstablished()
        #expect(link.join(session: 1, Self.join(1)) != nil)
        _ = await link.nextInputs()
        link.linkLost()
        link.linkEstablished()  // refreshing: inputs are held until the join is re-read
        for seq in 1...50_000 as ClosedRange<UInt32> { link.move(session: 1, seq: seq, x: 0, y: 0) }
        #expect(link.queuedInputCount < 5)
        gate.continuation.yield()
        gate.continuation.finish()
        var sent: [String] = []
        while sent.count < 2 { sent += Self.describe(await link.nextInputs().0) }
        #expect(sent == ["join 1", "move 1 50000"])
    }
}

/// A world service client whose request stream takes nothing while `stalled` (as HTTP/2 flow
/// control does when the world stops reading), and records what it takes once released.
private final class StallingWorldClient: Mmo_WorldService.ClientProtocol, Sendable {
    private struct State {
        var stalled = true
        var waiters: [CheckedContinuation<Void, Never>] = []
        var received: [Mmo_GatewayInput] = []
    }
    private let state = Mutex(State())

    var received: [Mmo_GatewayInput] { state.withLock { $0.received } }

    func release() {
        let waiters = state.withLock { state in
            state.stalled = false
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    fileprivate func take(_ batch: Mmo_GatewayBatch) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.stalled { state.waiters.append(continuation) }
                return !state.stalled
            }
            if now { continuation.resume() }
        }
        state.withLock { $0.received += batch.inputs }
    }

    private struct Writer: RPCWriterProtocol {
        let client: StallingWorldClient
        func write(_ element: Mmo_GatewayBatch) async throws { await client.take(element) }
        func write(contentsOf elements: some Sequence<Mmo_GatewayBatch>) async throws {
            for element in elements { await client.take(element) }
        }
    }

    func connect<Result>(
        request: StreamingClientRequest<Mmo_GatewayBatch>,
        serializer: some MessageSerializer<Mmo_GatewayBatch>,
        deserializer: some MessageDeserializer<Mmo_WorldBatch>,
        options: CallOptions,
        onResponse handleResponse: @Sendable @escaping (StreamingClientResponse<Mmo_WorldBatch>) async throws -> Result
    ) async throws -> Result where Result: Sendable {
        // The world never answers: the response stays open until the link is cancelled.
        let (parts, continuation) = AsyncThrowingStream<StreamingClientResponse<Mmo_WorldBatch>.Contents.BodyPart, any Error>.makeStream()
        let response = StreamingClientResponse(of: Mmo_WorldBatch.self, metadata: [:], bodyParts: RPCAsyncSequence(wrapping: parts))
        return try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await request.producer(RPCWriter(wrapping: Writer(client: self)))
                    return nil
                }
                group.addTask { try await handleResponse(response) }
                while let result = try await group.next() {
                    if let result { group.cancelAll(); return result }
                }
                throw CancellationError()
            }
        } onCancel: {
            continuation.finish(throwing: CancellationError())
            self.release()
        }
    }
}

extension WorldLinkQueueTests {
    /// The real writer on a stream that takes nothing: memory stays bounded while a session
    /// floods moves, and once the stream moves again the world gets the joins, the leave and
    /// the newest move.
    @Test func aStalledStreamStaysBoundedAndDeliversTheNewestMoveWhenItMovesAgain() async throws {
        let client = StallingWorldClient()
        let link = WorldLink(
            client: client, gatewayId: "gw-test", registry: SessionRegistry(maxConnections: 10), metrics: PacketMetrics(),
            flushInterval: .milliseconds(1), backoff: .milliseconds(10) ... .milliseconds(20),
            queueLimits: .init(maxInputs: 1000, maxMovesPerSession: 8, maxChatPerSession: 4),
            logger: Logger(label: "world-link-queue-test"))
        let running = Task { await link.run() }
        defer { running.cancel() }
        while !link.isConnected { try await Task.sleep(for: .milliseconds(1)) }
        #expect(link.join(session: 1, Self.join(1)) != nil)
        #expect(link.join(session: 2, Self.join(2)) != nil)
        for seq in 1...100_000 as ClosedRange<UInt32> {
            link.move(session: 1, seq: seq, x: 0, y: 0)
            link.say(session: 1, text: "spam")
        }
        link.leave(session: 2)
        // The writer took the first inputs into a batch it cannot send; the rest wait, bounded.
        #expect(link.queuedInputCount <= 8 + 4 + 3)
        #expect(client.received.isEmpty)

        client.release()
        try await eventually { Self.describe(client.received).contains("leave 2") }
        // The newest move went out in place of the session's last waiting one, in order.
        #expect(Self.describe(client.received).filter { $0.hasPrefix("move") }.last == "move 1 100000")
        let sent = Self.describe(client.received)
        #expect(sent.filter { $0.hasPrefix("join") } == ["join 1", "join 2"])
        #expect(sent.filter { $0.hasPrefix("leave") } == ["leave 2"])
        #expect(sent.filter { $0.hasPrefix("move") }.count <= 2 * 8)
        #expect(sent.filter { $0.hasPrefix("say") }.count <= 2 * 4)
    }
}
