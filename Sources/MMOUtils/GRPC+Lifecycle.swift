import GRPCCore
import Logging
import ServiceLifecycle

/// Runs a `GRPCServer` inside a ServiceGroup: graceful shutdown stops accepting new RPCs and
/// lets in-flight ones finish (GRPCServer is not a `Service` itself).
public struct GRPCServerService<Transport: ServerTransport>: Service {
    public let server: GRPCServer<Transport>

    public init(_ server: GRPCServer<Transport>) {
        self.server = server
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

/// Runs a `GRPCClient`'s connections inside a ServiceGroup.
public struct GRPCClientService<Transport: ClientTransport>: Service {
    public let client: GRPCClient<Transport>

    public init(_ client: GRPCClient<Transport>) {
        self.client = client
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// Default deadlines for the request/response services. The world stream is long-lived and
/// gets none.
public enum RPCDeadlines {
    public static func serviceConfig(timeout: Duration) -> ServiceConfig {
        let names = ["mmo.AuthService", "mmo.CharacterService", "mmo.DatabaseService"].map {
            MethodConfig.Name(service: $0)
        }
        return ServiceConfig(methodConfig: [MethodConfig(names: names, timeout: timeout)])
    }
}
