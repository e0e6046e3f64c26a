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

/// The one place RPC deadlines are set: a gRPC service config applied to every client transport
/// (TCP and in-process), so no call site sets its own timeout. Long-lived streams (the world
/// link) are simply not listed.
public enum RPCDeadlines {
    /// Every method of `services` (fully qualified gRPC service names) gets `timeout`.
    public static func serviceConfig(timeout: Duration, services: [String]) -> ServiceConfig {
        let names = services.map { MethodConfig.Name(service: $0) }
        return ServiceConfig(methodConfig: [MethodConfig(names: names, timeout: timeout)])
    }
}
