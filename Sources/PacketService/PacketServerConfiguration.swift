import Foundation
import MMOProtocol
import MMORedis

/// Everything that tunes a packet service (the client-facing TCP gateway).
///
/// All limits have defaults sized for one gateway on a small machine; see docs/packet-service.md.
public struct PacketServerConfiguration: Sendable {
    /// Address to listen on.
    public var host: String
    /// TCP port; 0 picks a free port (read it back from `PacketServer.localPort`).
    public var port: Int
    /// Names this gateway to the world service (first `GatewayBatch`) and in logs.
    public var gatewayId: String
    /// Largest client frame (opcode + body) accepted; announced in HELLO_ACK. A length prefix
    /// above it closes the connection before any of the body is buffered.
    public var maxFrameSize: Int
    /// HELLO must arrive within this long after the TCP connection opens.
    public var helloTimeout: Duration
    /// LOGIN must succeed within this long after HELLO, else DISCONNECT(LOGIN_TIMEOUT): PING
    /// keeps a connection from going idle, but not from holding a slot without logging in.
    public var loginTimeout: Duration
    /// Some frame (clients send PING) must arrive within this long, else DISCONNECT(IDLE_TIMEOUT).
    public var idleTimeout: Duration
    /// A logged-in connection's session is validated again this often, so a sign-out, expiry or
    /// ban on the web site disconnects a player already playing (with TOKEN_UNKNOWN,
    /// TOKEN_EXPIRED or ACCOUNT_BANNED). Zero turns re-checks off. An auth outage is not a
    /// verdict: the player stays and the next check comes one interval later.
    public var sessionRecheckInterval: Duration
    /// How long the world may take to answer a join. (Deadlines on the auth and character RPCs
    /// are the client transports' service config, `grpc.timeoutMs`; `MMOServer` sets both from
    /// that one key.)
    public var requestTimeout: Duration
    /// Token bucket per connection: sustained frames per second ...
    public var rateLimitFramesPerSecond: Double
    /// ... and burst size. Every client frame costs one token.
    public var rateLimitBurst: Int
    /// Frames dropped for rate limiting (each answered with ERROR(RATE_LIMITED)) before the
    /// connection is closed with DISCONNECT(RATE_LIMITED).
    public var maxRateLimitedFrames: Int
    /// Frames sent in a state where their opcode is illegal (each answered with
    /// ERROR(ILLEGAL_STATE)) tolerated before DISCONNECT(ILLEGAL_STATE).
    public var maxIllegalFrames: Int
    /// Failed logins per connection: the one that reaches this count is answered, then the
    /// connection is closed with DISCONNECT(RATE_LIMITED).
    public var maxFailedLogins: Int
    /// Chat flood control per connection: at most this many SAY lines per
    /// `chatRateLimitPeriod`, all of them usable at once (a token bucket). A line over the limit
    /// is answered ERROR(CHAT_RATE_LIMITED) and not sent to the world.
    public var chatRateLimitLines: Int
    /// The period of `chatRateLimitLines`.
    public var chatRateLimitPeriod: Duration
    /// Open client connections; one more is accepted, told DISCONNECT(SERVICE_UNAVAILABLE) and closed.
    public var maxConnections: Int
    /// Open connections from one address (IPv6: one /64); one more is told
    /// DISCONNECT(TOO_MANY_CONNECTIONS) and closed.
    public var maxConnectionsPerAddress: Int
    /// Failed logins from one address within `failedLoginWindow` (over all its connections)
    /// that block it for `addressPenalty`: its new connections and LOGINs get
    /// DISCONNECT(ADDRESS_BLOCKED).
    public var maxFailedLoginsPerAddress: Int
    public var failedLoginWindow: Duration
    public var addressPenalty: Duration
    /// Addresses no per-address limit applies to. Loopback by default, so that `mmo-bot load`
    /// and local tests (thousands of connections from 127.0.0.1) are not limited; behind a TCP
    /// load balancer, list its addresses (or every client shares its limit).
    public var addressLimitExempt: [AddressRange]
    /// World updates that may arrive for a client whose socket stays unwritable (it is not
    /// reading) before the connection is closed. Bounds per-connection outbound memory.
    public var maxUnwritableWorldUpdates: Int
    /// Coalescing window of the world link: inputs from all connections are sent as one
    /// `GatewayBatch` at most this often.
    public var worldFlushInterval: Duration
    /// First and largest delay between world link reconnect attempts (doubling in between).
    public var worldReconnectBackoff: ClosedRange<Duration>
    /// How long graceful shutdown waits for clients to close and the world link to drain.
    public var shutdownTimeout: Duration
    /// TCP listen backlog.
    public var backlog: Int32
    /// Open files kept for everything but client connections when `maxConnections` is fitted to
    /// the process's open-file limit at start (see `FileDescriptorBudget`).
    public var fileDescriptorReserve: Int
    /// TLS on the client port (`packet.tls.certificate` + `packet.tls.privateKey`): set, the
    /// port speaks TLS 1.2+ only, reloadable with `PacketServer.reloadTLS()` (SIGHUP); nil
    /// (the default, for development), plain TCP.
    public var tls: ClientTLSFiles? = nil
    /// How long a character whose connection dropped stays in the world link-dead, resumable
    /// with its resume token (`packet.resumeGraceSeconds`; docs/protocol.md "Reconnecting").
    /// Zero: no link-dead characters, no resume tokens; a drop leaves the world at once.
    public var resumeGrace: Duration = .seconds(60)
    /// Where resume tokens are kept: nil, in this process (one gateway); set (the packet
    /// service's `redis.url`), in Redis, so any gateway of the deployment accepts them.
    public var resumeTokenRedis: RedisClientConfiguration? = nil
    /// A store to use instead (tests: several gateways sharing one in-memory store).
    public var resumeTokenStore: (any ResumeTokenStore)? = nil
    /// How long the world link may stay down before its players are told they are out of the
    /// world (`packet.worldRejoinSeconds`): long enough for a world process to restart. The
    /// 30 seconds are in docs/protocol.md ("Reconnecting"); keep the default in step.
    public var worldRejoinTimeout: Duration = .seconds(30)
    /// Moves and chat lines waiting for the world link, all players together, beyond which
    /// more are dropped (`packet.worldQueueInputs`; `WorldInputQueue`). Joins and leaves are
    /// never dropped.
    public var worldQueueMaxInputs: Int = 65_536
    /// Moves one player may have waiting for the world link before a newer one replaces its
    /// last (`packet.worldQueueMovesPerSession`): only the newest position matters.
    public var worldQueueMaxMovesPerSession: Int = 64
    /// Chat lines one player may have waiting for the world link; more are dropped
    /// (`packet.worldQueueChatPerSession`).
    public var worldQueueMaxChatPerSession: Int = 16

    /// Every limit defaults to the value documented on its property.
    public init(
        host: String = "0.0.0.0",
        port: Int = 7777,
        gatewayId: String = PacketServerConfiguration.defaultGatewayId(),
        maxFrameSize: Int = ProtocolLimits.defaultMaxClientFrame,
        helloTimeout: Duration = .seconds(10),
        loginTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        sessionRecheckInterval: Duration = .seconds(30),
        requestTimeout: Duration = .seconds(5),
        rateLimitFramesPerSecond: Double = 30,
        rateLimitBurst: Int = 60,
        maxRateLimitedFrames: Int = 200,
        maxIllegalFrames: Int = 20,
        maxFailedLogins: Int = 5,
        chatRateLimitLines: Int = 5,
        chatRateLimitPeriod: Duration = .seconds(10),
        maxConnections: Int = 20_000,
        maxConnectionsPerAddress: Int = 50,
        maxFailedLoginsPerAddress: Int = 20,
        failedLoginWindow: Duration = .seconds(60),
        addressPenalty: Duration = .seconds(300),
        addressLimitExempt: [AddressRange] = PacketServerConfiguration.loopback,
        maxUnwritableWorldUpdates: Int = 200,
        worldFlushInterval: Duration = .milliseconds(2),
        worldReconnectBackoff: ClosedRange<Duration> = .milliseconds(100) ... .seconds(5),
        shutdownTimeout: Duration = .seconds(5),
        backlog: Int32 = 1024,
        fileDescriptorReserve: Int = 256
    ) {
        self.host = host
        self.port = port
        self.gatewayId = gatewayId
        self.maxFrameSize = maxFrameSize
        self.helloTimeout = helloTimeout
        self.loginTimeout = loginTimeout
        self.idleTimeout = idleTimeout
        self.sessionRecheckInterval = sessionRecheckInterval
        self.requestTimeout = requestTimeout
        self.rateLimitFramesPerSecond = rateLimitFramesPerSecond
        self.rateLimitBurst = rateLimitBurst
        self.maxRateLimitedFrames = maxRateLimitedFrames
        self.maxIllegalFrames = maxIllegalFrames
        self.maxFailedLogins = maxFailedLogins
        self.chatRateLimitLines = chatRateLimitLines
        self.chatRateLimitPeriod = chatRateLimitPeriod
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxFailedLoginsPerAddress = maxFailedLoginsPerAddress
        self.failedLoginWindow = failedLoginWindow
        self.addressPenalty = addressPenalty
        self.addressLimitExempt = addressLimitExempt
        self.maxUnwritableWorldUpdates = maxUnwritableWorldUpdates
        self.worldFlushInterval = worldFlushInterval
        self.worldReconnectBackoff = worldReconnectBackoff
        self.shutdownTimeout = shutdownTimeout
        self.backlog = backlog
        self.fileDescriptorReserve = fileDescriptorReserve
    }

    /// 127.0.0.0/8 and ::1: the default `addressLimitExempt`.
    public static let loopback: [AddressRange] = try! AddressRange.parseList(loopbackText)
    /// `loopback` as configuration text.
    public static let loopbackText = "127.0.0.0/8,::1"

    /// `hostname-pid`: unique per process on a host, stable for the process's lifetime.
    public static func defaultGatewayId() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
