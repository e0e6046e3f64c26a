/// Why the runtime refused a request. The gRPC edge maps these to status codes
/// (`WorldGRPCService+Contracts.swift`).
public enum WorldRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The world is stopping or stopped: no new gateway link is accepted.
    case shuttingDown
    /// `run()` was called on a runtime that already ran.
    case alreadyRunning

    public var description: String {
        switch self {
        case .shuttingDown: "the world is shutting down"
        case .alreadyRunning: "the world runtime runs only once"
        }
    }
}
