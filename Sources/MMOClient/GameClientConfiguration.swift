import Logging
import NIOCore
import NIOPosix
import MMOProtocol

/// Connection settings. The defaults suit an interactive client or a scenario bot; a load
/// generator shares one `statistics` and an `eventObserver` across its clients instead of
/// consuming `events`.
public struct GameClientConfiguration: Sendable {
    /// How long any request waits for its answer before failing with `.timedOut`.
    public var requestTimeout: Duration = .seconds(10)
    /// A PING is sent after this long without any frame sent, so the server's idle timeout
    /// does not close a client that only listens. nil turns keep-alive off.
    public var keepAliveInterval: Duration? = .seconds(15)
    /// Event loops the connection runs on. Thousands of clients in one process share these.
    public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// Buffering of `GameClient.events`. `.unbounded` loses nothing; a client that never reads
    /// the stream (e.g. one using `eventObserver` only) should use `.bufferingNewest(0)`.
    public var eventBuffering: AsyncStream<ClientEvent>.Continuation.BufferingPolicy = .unbounded
    /// Called on the connection's event loop for every event, before it is put on the stream.
    /// Must not block. Timestamps taken here exclude any task-scheduling delay.
    public var eventObserver: (@Sendable (ClientEvent) -> Void)?
    /// Counters to add this connection's traffic to; nil gives the client its own.
    public var statistics: ClientStatistics?
    /// Largest server frame accepted (opcode + body).
    public var maxServerFrame: Int = ProtocolLimits.maxServerFrame
    public var logger = Logger(label: "mmo.client")
    /// TLS to the client port (a server written `mmos://host:port`); nil: plain TCP, for
    /// development servers without `packet.tls.*`.
    public var tls: GameClientTLS?
    /// Reconnect and resume after a drop in the world, heartbeat and dead-link detection
    /// (docs/protocol.md "Reconnecting"); on by default.
    public var resume = GameClientResume()

    public init() {}
}
