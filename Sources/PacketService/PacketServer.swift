#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRPCCore
import Logging
import MMOContracts
import MMOProtocol
import MMOUtils
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The packet service: accepts game clients over TCP and drives each through the protocol
/// (docs/packet-service.md), talking to the auth and character services per request and to the
/// world over one shared stream.
///
/// ```swift
/// let server = PacketServer(
///     configuration: .init(port: 7777),
///     authenticator: GRPCSessionAuthenticator(wrapping: authClient),
///     characters: GRPCCharacterDirectory(wrapping: characterClient),
///     world: Mmo_WorldService.Client(wrapping: worldClient))
/// try await server.run()          // until shutdown() or cancellation
/// ```
public final class PacketServer: Sendable {
    public let configuration: PacketServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let registry: SessionRegistry
    private let metrics: PacketMetrics
    private let worldLink: WorldLink
    private let services: GatewayServices
    private let nextConnectionId = Atomic<UInt64>(1)
    /// The client port's TLS context (`configuration.tls`), loaded by `start()`.
    private let tls = Mutex<ClientTLS?>(nil)

    private struct State {
        var serverChannel: (any Channel)?
        var localPort: Int?
        var shutdownRequested = false
        var shutdownStarted = false
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - authenticator: session validation for LOGIN (`GRPCSessionAuthenticator`).
    ///   - characters: character operations (`GRPCCharacterDirectory`).
    ///   - world: the world service client; the server keeps one `Connect` stream open on it.
    ///   - eventLoopGroup: where client connections run.
    public init(
        configuration: PacketServerConfiguration = PacketServerConfiguration(),
        authenticator: some SessionAuthenticator,
        characters: some CharacterDirectory,
        world: some Mmo_WorldService.ClientProtocol,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mmo.packet")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        var logger = logger
        logger[metadataKey: "gateway"] = "\(configuration.gatewayId)"
        self.logger = logger
        let registry = SessionRegistry(
            maxConnections: configuration.maxConnections,
            addressLimits: AddressLimiter.Configuration(configuration))
        let metrics = PacketMetrics()
        let worldLink = WorldLink(
            client: world,
            gatewayId: configuration.gatewayId,
            registry: registry,
            metrics: metrics,
            flushInterval: configuration.worldFlushInterval,
            backoff: configuration.worldReconnectBackoff,
            rejoinTimeout: configuration.worldRejoinTimeout,
            queueLimits: .init(
                maxInputs: configuration.worldQueueMaxInputs, maxMovesPerSession: configuration.worldQueueMaxMovesPerSession,
                maxChatPerSession: configuration.worldQueueMaxChatPerSession),
            refresh: { join in
                // The character as the database has it now (autosaved since ENTER_WORLD).
                guard let selection = try? await characters.select(accountId: join.accountId, characterId: join.character.id),
                      selection.status == .ok, let character = selection.character else { return nil }
                var fresh = join
                fresh.character = character
                return fresh
            },
            logger: logger)
        self.registry = registry
        self.metrics = metrics
        self.worldLink = worldLink
        self.services = GatewayServices(
            authenticator: authenticator,
            characters: characters,
            world: worldLink,
            registry: registry,
            resumeTokens: configuration.makeResumeTokenStore(logger: logger),
            metrics: metrics,
            limits: ConnectionStateMachine.Limits(configuration),
            joinTimeout: TimeAmount(configuration.requestTimeout),
            maxUnwritableWorldUpdates: configuration.maxUnwritableWorldUpdates,
            logger: logger)
    }

    /// Convenience: every dependency from running `GRPCClient`s (one per service, or the same
    /// client for all in all-in-one mode).
    public convenience init<AuthTransport: ClientTransport, CharacterTransport: ClientTransport, WorldTransport: ClientTransport>(
        configuration: PacketServerConfiguration = PacketServerConfiguration(),
        auth: GRPCClient<AuthTransport>,
        characters: GRPCClient<CharacterTransport>,
        world: GRPCClient<WorldTransport>,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mmo.packet")
    ) {
        self.init(
            configuration: configuration,
            authenticator: GRPCSessionAuthenticator(wrapping: auth),
            characters: GRPCCharacterDirectory(wrapping: characters),
            world: Mmo_WorldService.Client(wrapping: world),
            eventLoopGroup: eventLoopGroup,
            logger: logger)
    }

    /// The port actually bound (useful with port 0), once `start()` returned.
    public var localPort: Int? { state.withLock { $0.localPort } }

    /// Open client connections.
    public var connectionCount: Int { registry.connectionCount }

    /// Characters left link-dead by dropped connections, awaiting RESUME (docs/packet-service.md).
    public var linkDeadCount: Int { registry.linkDeadCount }

    /// True while the stream to the world service is established.
    public var isWorldLinkConnected: Bool { worldLink.isConnected }

    /// Binds the listening socket. Idempotent; `run()` calls it if needed.
    public func start() async throws {
        if state.withLock({ $0.serverChannel != nil }) { return }
        try fitConnectionsToOpenFileLimit()
        let services = self.services
        let maxFrameSize = configuration.maxFrameSize
        // Loaded before binding: a missing or broken file stops the start with its name.
        let tls: ClientTLS? = try configuration.tls.map { files throws(ClientTLSError) in try ClientTLS(files: files) }
        self.tls.withLock { $0 = tls }
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelInitializer { channel in
                // Out of descriptors (EMFILE/ENFILE), accept fails while the client stays in the
                // backlog; without a pause the loop would retry at once, forever (a spinning core).
                ListenerAcceptPause.install(on: channel, listener: "client port", logger: logger)
            }
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                let id = self.nextConnectionId.wrappingAdd(1, ordering: .relaxed).oldValue
                return channel.eventLoop.makeCompletedFuture {
                    // TLS first, so the frame decoder sees plaintext. The connection handler still
                    // registers (per-address limits) and arms the HELLO deadline at TCP accept, so
                    // a handshake that never completes is closed by that deadline like a silent
                    // plain-TCP client.
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)),
                        PacketConnectionHandler(id: id, services: services, eventLoop: channel.eventLoop))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let shutdownEarly = state.withLock { state in
            state.serverChannel = channel
            state.localPort = channel.localAddress?.port
            return state.shutdownRequested
        }
        logger.info("packet service listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        if shutdownEarly { shutdown() }
    }

    /// Fits `maxConnections` (+ `fileDescriptorReserve`) to RLIMIT_NOFILE: raises the soft limit
    /// towards the hard one if needed, else lowers the connection limit with a warning, so the
    /// gateway refuses clients with DISCONNECT(SERVICE_UNAVAILABLE) before `accept` fails.
    private func fitConnectionsToOpenFileLimit() throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        func wide(_ value: rlim_t) -> UInt64 { value == rlim_t.max ? .max : UInt64(value) }
        let budget = try FileDescriptorBudget(
            maxConnections: configuration.maxConnections, reserve: configuration.fileDescriptorReserve,
            soft: wide(limit.rlim_cur), hard: wide(limit.rlim_max))
        var maxConnections = budget.maxConnections
        if let raised = budget.raiseSoftLimitTo {
            var wanted = limit
            wanted.rlim_cur = raised == .max ? rlim_t.max : rlim_t(raised)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 {
                logger.info("raised the open-file limit", metadata: ["from": "\(limit.rlim_cur)", "to": "\(raised)"])
            } else {
                // Could not raise it after all: fit the connections into the current limit.
                maxConnections = try FileDescriptorBudget(
                    maxConnections: configuration.maxConnections, reserve: configuration.fileDescriptorReserve,
                    soft: wide(limit.rlim_cur), hard: wide(limit.rlim_cur)).maxConnections
            }
        }
        if maxConnections < configuration.maxConnections {
            logger.warning("the open-file limit cannot hold packet.maxConnections: lowering it; raise the limit (ulimit -n, LimitNOFILE=) to serve more", metadata: [
                "configured": "\(configuration.maxConnections)", "maxConnections": "\(maxConnections)",
                "reserve": "\(configuration.fileDescriptorReserve)",
            ])
        }
        registry.maxConnections = maxConnections
    }

    /// The client port's TLS (after `start()`, when `configuration.tls` is set).
    public var clientTLS: ClientTLS? { tls.withLock { $0 } }

    /// Reads the TLS certificate and key files again (SIGHUP): new connections get the new pair,
    /// open ones keep theirs. On failure the old pair stays in force and the error is logged.
    /// Nil when the client port has no TLS.
    @discardableResult
    public func reloadTLS() -> Result<Void, ClientTLSError>? {
        guard let tls = clientTLS else { return nil }
        let result = tls.reload()
        switch result {
        case .success:
            logger.notice("reloaded the client port's TLS certificate and key", metadata: ["certificate": "\(tls.files.certificateChain)"])
        case .failure(let error):
            logger.error("TLS reload failed; still serving the previous certificate", metadata: ["error": "\(error)"])
        }
        return result
    }

    /// The connection limit in force (after `start()`: fitted to the open-file limit).
    public var maxConnections: Int { registry.maxConnections }

    /// Serves clients and keeps the world link up until `shutdown()` (or cancellation, which
    /// shuts down the same way), then returns once clients are disconnected and the world link
    /// has drained.
    public func run() async throws {
        try await start()
        guard let channel = state.withLock({ $0.serverChannel }) else { return }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await self.worldLink.run()
                    return true
                }
                // Wait for the listener to close (shutdown), then for the clients and the link.
                try? await channel.closeFuture.get()
                await self.drainClients()
                self.worldLink.beginDraining()
                let timeout = self.configuration.shutdownTimeout
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return false
                }
                if await group.next() == false {
                    self.logger.warning("world link did not drain in time")
                }
                group.cancelAll()
            }
        } onCancel: {
            self.shutdown()
        }
        logger.info("packet service stopped")
    }

    /// Graceful shutdown: stop accepting, DISCONNECT(SERVER_SHUTTING_DOWN) everyone (their world
    /// leaves go out on the world link), then close. `run()` returns when done.
    public func shutdown() {
        let channel: (any Channel)? = state.withLock { state in
            state.shutdownRequested = true
            return state.serverChannel
        }
        channel?.close(promise: nil)
    }

    private func drainClients() async {
        let handles = registry.beginShutdown()
        logger.info("disconnecting clients for shutdown", metadata: ["count": "\(handles.count)"])
        let kicks = handles.map { $0.kick(.serverShuttingDown, reason: "server is shutting down") }
        for kick in kicks { try? await kick.get() }
        // Give the DISCONNECT frames a moment to leave and the sockets to close.
        let deadline = ContinuousClock.now + configuration.shutdownTimeout
        while registry.connectionCount > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
