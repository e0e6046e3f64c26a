import Logging
import MMOContracts
import MMOProtocol
import Synchronization
import NIOCore
import WorldService

/// Decodes a WORLD_UPDATE body the way a client would.
func decodeUpdate(_ body: ByteBuffer) throws -> (tick: UInt64, events: [WorldEvent]) {
    let message = try ServerMessage.decode(Frame(opcode: Opcode.worldUpdate.rawValue, body: body))
    guard case .worldUpdate(let tick, let events) = message else {
        throw TestFailure("not a world update: \(message)")
    }
    return (tick, events)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension WorldSimulation {
    /// The decoded events `key` received in the last step (empty when it got no update).
    func events(for key: SessionKey) throws -> [WorldEvent] {
        var events: [WorldEvent] = []
        for output in outputs where output.key == key {
            if case .update(let body) = output.outcome {
                let decoded = try decodeUpdate(body)
                guard decoded.tick == tick else { throw TestFailure("update for tick \(decoded.tick) in step \(tick)") }
                events += decoded.events
            }
        }
        return events
    }

    /// The non-update outcomes `key` received in the last step.
    func outcomes(for key: SessionKey) -> [SessionOutcome] {
        outputs.filter { $0.key == key }.map(\.outcome).filter {
            if case .update = $0 { return false }
            return true
        }
    }

    /// True when `key` got any output in the last step.
    func hasOutput(for key: SessionKey) -> Bool {
        outputs.contains { $0.key == key }
    }

    /// Queues a join with test defaults.
    mutating func join(_ key: SessionKey, character: UInt64, name: String? = nil, zone: UInt32 = 1, at position: Position) {
        submit(
            .join(
                PlayerProfile(characterID: character, name: name ?? "P\(character)", classID: 2, appearance: 7, level: 3),
                zoneID: zone, position: position),
            from: key)
    }

    func entity(_ key: SessionKey) -> UInt64 { player(key)!.entityID }
}

/// Collects a link's batches in the background so tests can wait for them with a timeout
/// instead of hanging on a stream that never delivers.
final class BatchCollector: Sendable {
    private final class Box: Sendable {
        let received = Mutex<[Mmo_WorldBatch]>([])
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
    func take(atLeast count: Int = 1, timeout: Duration = .seconds(5)) async throws -> [Mmo_WorldBatch] {
        try await eventually(timeout: timeout) { box.received.withLock { $0.count } >= count }
        return takeAll()
    }

    /// Waits for the stream to end, returning whatever was still unread.
    func drainToEnd(timeout: Duration = .seconds(5)) async throws -> [Mmo_WorldBatch] {
        try await eventually(timeout: timeout) { box.ended.withLock { $0 } }
        return takeAll()
    }

    /// Removes and returns what arrived so far, without waiting.
    func takeAll() -> [Mmo_WorldBatch] {
        box.received.withLock { r in
            defer { r.removeAll() }
            return r
        }
    }
}

extension Mmo_GatewayInput {
    static func join(_ session: UInt64, character: UInt64, name: String? = nil, zone: UInt32 = 1, x: Float, y: Float) -> Self {
        var join = Mmo_PlayerJoin()
        join.characterID = character
        join.accountID = "acct-\(character)"
        join.name = name ?? "P\(character)"
        join.classID = 2
        join.appearance = 7
        join.level = 3
        join.zoneID = zone
        join.x = x
        join.y = y
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .join(join)
        return input
    }

    static func move(_ session: UInt64, seq: UInt32, x: Float, y: Float) -> Self {
        var move = Mmo_PlayerMove()
        move.seq = seq
        move.x = x
        move.y = y
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .move(move)
        return input
    }

    static func say(_ session: UInt64, _ text: String) -> Self {
        var say = Mmo_PlayerSay()
        say.text = text
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .say(say)
        return input
    }

    static func leave(_ session: UInt64) -> Self {
        var input = Mmo_GatewayInput()
        input.sessionID = session
        input.kind = .leave(Mmo_PlayerLeave())
        return input
    }
}

extension Mmo_GatewayBatch {
    init(_ inputs: [Mmo_GatewayInput], gateway: String = "gw-test") {
        self.init()
        gatewayID = gateway
        self.inputs = inputs
    }
}

extension Mmo_WorldBatch {
    /// This batch's outputs for one session.
    func outputs(for session: UInt64) -> [Mmo_SessionOutput.OneOf_Kind] {
        outputs.filter { $0.sessionID == session }.compactMap(\.kind)
    }

    /// Decoded events of every update in this batch for one session.
    func events(for session: UInt64) throws -> [WorldEvent] {
        var events: [WorldEvent] = []
        for case .update(let data) in outputs(for: session) {
            let decoded = try decodeUpdate(ByteBuffer(bytes: data))
            guard decoded.tick == tick else { throw TestFailure("update tick \(decoded.tick) in batch \(tick)") }
            events += decoded.events
        }
        return events
    }
}

extension Array where Element == Mmo_WorldBatch {
    func events(for session: UInt64) throws -> [WorldEvent] {
        try flatMap { try $0.events(for: session) }
    }

    func outputs(for session: UInt64) -> [Mmo_SessionOutput.OneOf_Kind] {
        flatMap { $0.outputs(for: session) }
    }
}

/// A store whose saves take a while and fail if the saving task is cancelled, to prove the
/// final save is shielded from the cancellation of the task running the world.
final class SlowStore: CharacterStateStore {
    let inner = InMemoryCharacterStateStore()

    func save(_ states: [Mmo_CharacterState]) async throws {
        try await Task.sleep(for: .milliseconds(100))
        try await inner.save(states)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("condition not met in time") }
        try await Task.sleep(for: .milliseconds(5))
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
