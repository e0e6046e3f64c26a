import Synchronization

/// Where the world persists character positions. Called off the tick, from the runtime's saver.
/// The database-backed store is `DatabaseCharacterStateStore`.
public protocol CharacterStateStore: Sendable {
    /// Persists `states` (at most `WorldConfiguration.maxStatesPerSave` at a time), each only
    /// over an older version of the character's state (`CharacterPosition.version`). Throwing
    /// means none of them may be assumed saved: the runtime retries them.
    func save(_ states: [CharacterPosition]) async throws
}

/// Keeps the latest saved state per character in memory, applying versions as the database
/// does. For tests and for running without a database; `failNextSaves` simulates an
/// unavailable database.
public final class InMemoryCharacterStateStore: CharacterStateStore {
    /// What a save made to fail by `failNextSaves` throws.
    public struct SimulatedOutage: Error, Sendable, Equatable {}

    private struct State {
        var latest: [UInt64: CharacterPosition] = [:]
        var calls: [[CharacterPosition]] = []
        var failures = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func save(_ states: [CharacterPosition]) async throws {
        try state.withLock { s throws(SimulatedOutage) in
            if s.failures > 0 {
                s.failures -= 1
                throw SimulatedOutage()
            }
            s.calls.append(states)
            // Like the database: only over an older version (0 only over an unversioned one).
            for st in states where s.latest[st.characterID].map({ st.version == 0 ? $0.version == 0 : $0.version < st.version }) ?? true {
                s.latest[st.characterID] = st
            }
        }
    }

    /// The last saved state of each character.
    public var saved: [UInt64: CharacterPosition] { state.withLock { $0.latest } }

    /// Every successful `save` call's states, in order.
    public var saveCalls: [[CharacterPosition]] { state.withLock { $0.calls } }

    /// Makes the next `count` saves throw.
    public func failNextSaves(_ count: Int) { state.withLock { $0.failures = count } }
}
