import GRPCCore
import MMOContracts
import Synchronization

/// Where the world persists character positions. Called off the tick, from the runtime's saver.
public protocol CharacterStateStore: Sendable {
    /// Persists `states` (at most `WorldConfiguration.maxStatesPerSave` at a time). Throwing
    /// means none of them may be assumed saved: the runtime retries them.
    func save(_ states: [Mmo_CharacterState]) async throws
}

/// Saves through the database service's `SaveCharacterStates` RPC.
public struct DatabaseCharacterStateStore: CharacterStateStore {
    private let client: any Mmo_DatabaseService.ClientProtocol
    private let timeout: Duration

    /// - Parameters:
    ///   - client: a database service client.
    ///   - timeout: deadline per call, so a hung database cannot hold shutdown forever.
    public init(client: any Mmo_DatabaseService.ClientProtocol, timeout: Duration = .seconds(5)) {
        self.client = client
        self.timeout = timeout
    }

    /// Wraps a running `GRPCClient` connected to the database service.
    public init<Transport: ClientTransport>(grpcClient: GRPCClient<Transport>, timeout: Duration = .seconds(5)) {
        self.init(client: Mmo_DatabaseService.Client(wrapping: grpcClient), timeout: timeout)
    }

    public func save(_ states: [Mmo_CharacterState]) async throws {
        var request = Mmo_SaveCharacterStatesRequest()
        request.states = states
        var options = CallOptions.defaults
        options.timeout = timeout
        _ = try await client.saveCharacterStates(request, options: options)
    }
}

/// Keeps the latest saved state per character in memory. For tests and for running without a
/// database; `failNextSaves` simulates an unavailable database.
public final class InMemoryCharacterStateStore: CharacterStateStore {
    private struct State {
        var latest: [UInt64: Mmo_CharacterState] = [:]
        var calls: [[Mmo_CharacterState]] = []
        var failures = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func save(_ states: [Mmo_CharacterState]) async throws {
        try state.withLock { s in
            if s.failures > 0 {
                s.failures -= 1
                throw RPCError(code: .unavailable, message: "simulated database outage")
            }
            s.calls.append(states)
            for st in states { s.latest[st.characterID] = st }
        }
    }

    /// The last saved state of each character.
    public var saved: [UInt64: Mmo_CharacterState] { state.withLock { $0.latest } }

    /// Every successful `save` call's states, in order.
    public var saveCalls: [[Mmo_CharacterState]] { state.withLock { $0.calls } }

    /// Makes the next `count` saves throw.
    public func failNextSaves(_ count: Int) { state.withLock { $0.failures = count } }
}
