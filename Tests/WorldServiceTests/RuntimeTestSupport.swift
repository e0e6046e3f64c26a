import MMOTestSupport
import Logging
import MMOProtocol
import NIOCore
import Synchronization
import WorldService

/// Collects a link's batches in the background so tests can wait for them with a timeout
/// instead of hanging on a stream that never delivers.
final class BatchCollector: Sendable {
    private final class Box: Sendable {
        let received = Mutex<[TickBatch]>([])
        let ended = Mutex(false)
    }

    private let box = Box()
    private let task: Task<Void, Never>

    init(_ link: GatewayLink) {
        let box = self.box
        task = Task {
            for await batch in link.batches { box.received.withLock { $0.append(batch) } }
            box.ended.withLock { $0 = true }
        }
    }

    deinit { task.cancel() }

    /// Waits until at least `count` batches arrived (or fails after `timeout`), then removes and
    /// returns everything received so far.
    func take(atLeast count: Int = 1, timeout: Duration = .seconds(5)) async throws -> [TickBatch] {
        try await eventually(timeout: timeout) { box.received.withLock { $0.count } >= count }
        return takeAll()
    }

    /// Waits for the stream to end, returning whatever was still unread.
    func drainToEnd(timeout: Duration = .seconds(5)) async throws -> [TickBatch] {
        try await eventually(timeout: timeout) { box.ended.withLock { $0 } }
        return takeAll()
    }

    /// Removes and returns what arrived so far, without waiting.
    func takeAll() -> [TickBatch] {
        box.received.withLock { r in
            defer { r.removeAll() }
            return r
        }
    }
}

extension GatewayInput {
    static func join(_ session: UInt64, character: UInt64, name: String? = nil, zone: UInt32 = 1, x: Float, y: Float) -> Self {
        let profile = PlayerProfile(
            characterID: character, accountID: "acct-\(character)", name: name ?? "P\(character)", classID: 2, appearance: 7,
            level: 3)
        return GatewayInput(session: session, command: .join(profile, zoneID: zone, position: Position(x: x, y: y)))
    }

    static func move(_ session: UInt64, seq: UInt32, x: Float, y: Float) -> Self {
        GatewayInput(session: session, command: .move(seq: seq, to: Position(x: x, y: y)))
    }

    static func say(_ session: UInt64, _ text: String) -> Self {
        GatewayInput(session: session, command: .say(text))
    }

    static func leave(_ session: UInt64) -> Self {
        GatewayInput(session: session, command: .leave)
    }
}

extension TickBatch {
    /// This batch's outcomes for one session, updates included.
    func outcomes(for session: UInt64) -> [SessionOutcome] {
        outputs.filter { $0.session == session }.map(\.outcome)
    }

    /// Decoded events of every update in this batch for one session.
    func events(for session: UInt64) throws -> [WorldEvent] {
        var events: [WorldEvent] = []
        for case .update(let body) in outcomes(for: session) {
            let decoded = try decodeUpdate(body)
            guard decoded.tick == tick else { throw TestFailure("update tick \(decoded.tick) in batch \(tick)") }
            events += decoded.events
        }
        return events
    }
}

extension Array where Element == TickBatch {
    func events(for session: UInt64) throws -> [WorldEvent] {
        try flatMap { try $0.events(for: session) }
    }

    func outcomes(for session: UInt64) -> [SessionOutcome] {
        flatMap { $0.outcomes(for: session) }
    }
}

/// A store whose saves take a while and fail if the saving task is cancelled, to prove the
/// final save is shielded from the cancellation of the task running the world.
final class SlowStore: CharacterStateStore {
    let inner = InMemoryCharacterStateStore()

    func save(_ states: [CharacterPosition]) async throws {
        try await Task.sleep(for: .milliseconds(100))
        try await inner.save(states)
    }
}

/// A runtime that logs nowhere, so test output stays readable.
func makeRuntime(
    configuration: WorldConfiguration = WorldConfiguration(), store: any CharacterStateStore
) throws -> WorldRuntime {
    try WorldRuntime(
        configuration: configuration, store: store,
        logger: Logger(label: "test.world", factory: { _ in SwiftLogNoOpLogHandler() }))
}
