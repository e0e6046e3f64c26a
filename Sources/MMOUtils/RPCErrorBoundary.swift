import GRPCCore

/// A server interceptor that makes every failed RPC end with a clean status: whatever a handler
/// throws, the status sent is its own code and message with only the handler's own metadata.
///
/// An `RPCError` received from a client call carries the upstream response's headers (`:status`,
/// `content-type`, `grpc-status`, ...) as metadata. A handler that rethrows it would make the
/// server write them as trailers, and a pseudo-header in trailers is an HTTP/2 protocol error
/// that closes the whole connection, failing every other caller's RPCs on it (issue 7). Handlers
/// re-issue such errors themselves; this boundary makes forgetting it harmless. Errors that are
/// not `RPCError`s become `internalError` (grpc-swift would send `unknown`).
public struct RPCErrorBoundary: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            throw Self.clean(error)
        }
        switch response.accepted {
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    return try await producer(writer)
                } catch {
                    throw Self.clean(error)
                }
            }
            response.accepted = .success(contents)
        case .failure(let error):
            response.accepted = .failure(Self.clean(error))
        }
        return response
    }

    /// `error` as an `RPCError` whose metadata holds no transport headers.
    public static func clean(_ error: any Error) -> RPCError {
        guard let error = error as? RPCError else {
            if let convertible = error as? any RPCErrorConvertible { return clean(RPCError(convertible)) }
            if error is CancellationError { return RPCError(code: .cancelled, message: "cancelled") }
            return RPCError(code: .internalError, message: "internal error")
        }
        var metadata = Metadata()
        for (key, value) in error.metadata where !isTransportHeader(key) {
            switch value {
            case .string(let text): metadata.addString(text, forKey: key)
            case .binary(let bytes): metadata.addBinary(bytes, forKey: key)
            }
        }
        return RPCError(code: error.code, message: error.message, metadata: metadata)
    }

    /// HTTP/2 pseudo-headers and the headers gRPC itself writes.
    static func isTransportHeader(_ key: String) -> Bool {
        let key = key.lowercased()
        return key.hasPrefix(":") || key.hasPrefix("grpc-") || ["content-type", "te", "user-agent"].contains(key)
    }
}
