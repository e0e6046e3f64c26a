import GRPCCore

/// Server side of internal-call authentication: every RPC must carry the shared secret in
/// `mmo-internal-secret` metadata, else it ends with `unauthenticated` before any handler runs.
///
/// The standard health service (`grpc.health.v1.Health`) is exempt, so orchestrators' gRPC
/// probes, which cannot send custom metadata, work; it reveals only SERVING / NOT_SERVING.
public struct InternalCallAuthentication: ServerInterceptor {
    /// Services callable without the secret.
    public static let exemptServices: Set<String> = ["grpc.health.v1.Health"]

    private let secret: InternalCallSecret

    public init(secret: InternalCallSecret) {
        self.secret = secret
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if Self.exemptServices.contains(context.descriptor.service.fullyQualifiedService) {
            return try await next(request, context)
        }
        // Exactly one value, compared in constant time; the value itself never appears in the reply.
        let values = Array(request.metadata[InternalCallSecret.metadataKey])
        guard values.count == 1, case .string(let presented) = values[0], secret.matches(presented.utf8) else {
            return StreamingServerResponse(
                error: RPCError(code: .unauthenticated, message: "missing or wrong internal call secret"))
        }
        return try await next(request, context)
    }
}

/// Client side of internal-call authentication: adds the shared secret to every RPC's metadata.
public struct InternalCallCredentials: ClientInterceptor {
    private let secret: InternalCallSecret

    public init(secret: InternalCallSecret) {
        self.secret = secret
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString(secret.text, forKey: InternalCallSecret.metadataKey)
        return try await next(request, context)
    }
}
