import Foundation
import GRPCCore
import MMOContracts

// The gRPC-backed `CharacterStateStore`: the world's saved states to and from the database
// contract. Kept apart from WorldGRPCService+Contracts.swift (the gateway stream's mapping).

extension Mmo_CharacterState {
    /// The wire form of a saved position, with its version (the database applies it only over
    /// an older one).
    public init(_ state: CharacterPosition) {
        self.init()
        characterID = state.characterID
        zoneID = state.zoneID
        x = state.position.x
        y = state.position.y
        version = state.version
    }
}

/// Saves through the database service's `SaveCharacterStates` RPC.
public struct DatabaseCharacterStateStore: CharacterStateStore {
    private let client: any Mmo_DatabaseService.ClientProtocol

    /// - Parameter client: a database service client. Its transport's service config
    ///   (`RPCDeadlines`) bounds every call, so a hung database cannot hold shutdown forever.
    public init(client: any Mmo_DatabaseService.ClientProtocol) {
        self.client = client
    }

    /// Wraps a running `GRPCClient` connected to the database service.
    public init<Transport: ClientTransport>(grpcClient: GRPCClient<Transport>) {
        self.init(client: Mmo_DatabaseService.Client(wrapping: grpcClient))
    }

    public func save(_ states: [CharacterPosition]) async throws {
        var request = Mmo_SaveCharacterStatesRequest()
        request.states = states.map(Mmo_CharacterState.init)
        _ = try await client.saveCharacterStates(request)
    }
}
