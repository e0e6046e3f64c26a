/// How many client connections fit in the process's open-file limit (RLIMIT_NOFILE). Every
/// connection is a descriptor; `reserve` more are kept for everything else (listening sockets,
/// gRPC and database connections, event loops, logs). Pure: `PacketServer.start()` reads and
/// raises the real limit.
///
/// Without this, a gateway configured for more connections than the limit allows hits EMFILE in
/// `accept`: new clients hang in the backlog instead of being told the server is full.
public struct FileDescriptorBudget: Sendable, Equatable {
    /// Raise the soft limit to this first (nil: leave it).
    public var raiseSoftLimitTo: UInt64?
    /// The connection limit to use: the configured one, or lower if the limit cannot hold it.
    public var maxConnections: Int
    /// True if `maxConnections` is below the configured limit (warn the operator).
    public var lowered: Bool { maxConnections < configuredMaxConnections }
    public let configuredMaxConnections: Int

    public struct TooLow: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - soft, hard: the current RLIMIT_NOFILE (`UInt64.max` for unlimited).
    public init(maxConnections: Int, reserve: Int, soft: UInt64, hard: UInt64) throws {
        configuredMaxConnections = maxConnections
        let needed = UInt64(max(maxConnections, 0)) + UInt64(max(reserve, 0))
        var limit = soft
        if soft < needed, hard > soft {
            limit = min(hard, needed)
            raiseSoftLimitTo = limit
        }
        guard limit > UInt64(max(reserve, 0)) else {
            throw TooLow(description: "the open-file limit (\(limit)) leaves no descriptor for client connections after the reserve of \(reserve): raise it (ulimit -n, LimitNOFILE=) to at least \(needed)")
        }
        self.maxConnections = Int(min(UInt64(maxConnections), limit - UInt64(reserve)))
    }
}
