import AuthService
import CharacterService
import DatabaseService
import GRPCCore
import GRPCInProcessTransport
import GRPCNIOTransportHTTP2Posix
import Logging
import MMOContracts
import MMOUtils
import PacketService
import ServiceLifecycle
import WorldService

/// Handles on the parts of a built server that callers (tests, `mmo`) may need.
public struct ServerHandles: Sendable {
    public var database: GameDatabase?
    public var world: WorldRuntime?
    public var packet: PacketServer?
}

/// Builds the services of one process: each selected service's implementation, served over the
/// in-process transport to co-located consumers and, when `exposeGRPC`, on its TCP port; clients
/// to services run elsewhere; the admin port. Services are returned in dependency order, so a
/// ServiceGroup shuts them down consumers-first (packet, then world with its final save, ...,
/// database last).
public enum ServerAssembly {
    public static func build(_ configuration: ServerConfiguration, logger: Logger) throws -> (services: [any Service], handles: ServerHandles) {
        try checkInternalCallSecurity(configuration)
        var builder = Builder(configuration: configuration, logger: logger)
        try builder.build()
        return (builder.services, builder.handles)
    }

    /// Refuses a process whose gRPC ports would be reachable from the network without
    /// authentication: serving gRPC on anything but a loopback address needs `grpc.secret` or
    /// mutual TLS (`grpc.tls.*`: only holders of a certificate from the trusted CA get in).
    static func checkInternalCallSecurity(_ configuration: ServerConfiguration) throws {
        let servesGRPC = configuration.exposeGRPC && configuration.services.contains { $0.grpcServiceName != nil }
        guard servesGRPC, configuration.grpcSecret == nil, configuration.grpcTLS == nil, !isLoopback(configuration.grpcHost) else { return }
        throw ServerConfigurationError(
            "grpc.secret: required when gRPC is served on \(configuration.grpcHost), which is not a loopback address; "
                + "set the same secret (16+ characters) in every service (GRPC_SECRET or MMO_GRPC_SECRET), "
                + "and/or mutual TLS (grpc.tls.certificate, grpc.tls.privateKey, grpc.tls.trustRoots), or bind gRPC to 127.0.0.1 (grpc.host)")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Bootstraps logging and metrics, builds, and runs until SIGTERM/SIGINT.
    public static func run(_ configuration: ServerConfiguration) async throws {
        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        MetricsSetup.bootstrap()
        let logger = Logger(label: "mmo")
        let (services, _) = try build(configuration, logger: logger)
        logger.info("starting", metadata: ["services": "\(configuration.services.map(\.rawValue).joined(separator: ","))"])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// The clients one process holds, one per service it consumes.
struct ServiceClients {
    var database: (any Mmo_DatabaseService.ClientProtocol)?
    var auth: (any Mmo_AuthService.ClientProtocol)?
    var character: (any Mmo_CharacterService.ClientProtocol)?
    var world: (any Mmo_WorldService.ClientProtocol)?
}

private struct Builder {
    let configuration: ServerConfiguration
    let logger: Logger
    var services: [any Service] = []
    var handles = ServerHandles()
    var clients = ServiceClients()
    /// Every readiness check, per service: `/health/ready` and the gRPC health service ask it.
    let readiness = ReadinessRegistry()
    var inProcess: [ServiceKind: InProcessTransport] = [:]

    init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Which services the services of this process call.
    var consumed: Set<ServiceKind> {
        Set(configuration.services.flatMap(\.dependencies))
    }

    /// Deadlines for every request/response RPC, on every transport (see `RPCDeadlines`).
    var deadlines: ServiceConfig {
        RPCDeadlines.serviceConfig(
            timeout: configuration.rpcTimeout, services: ServiceKind.requestResponse.compactMap(\.grpcServiceName))
    }

    mutating func build() throws {
        let deadlines = self.deadlines
        for kind in ServiceKind.allCases {
            if configuration.runs(kind) {
                try serve(kind, deadlines: deadlines)
            }
            if consumed.contains(kind) {
                try connect(kind)
            }
        }
        if let admin = configuration.admin {
            services.append(AdminServer(configuration: admin, checks: readiness.checks(of: ""), logger: logger))
        }
    }

    // MARK: serving

    private mutating func serve(_ kind: ServiceKind, deadlines: ServiceConfig) throws {
        let log = Logger(label: "mmo.\(kind.rawValue)")
        let implementation: any RegistrableRPCService
        switch kind {
        case .database:
            let database = GameDatabase(configuration: configuration.database, logger: log)
            handles.database = database
            services.append(DatabaseLifecycle(database: database))
            // The store answers a real query (`SELECT 1`) and the cache a PING.
            readiness.add(ReadinessCheck("database") { await database.isReady() }, to: kind.healthName)
            // Its lines are caused by callers' requests: rate-limited.
            implementation = DatabaseGRPCService(database: database, logger: RateLimitedLogHandler.wrap(log))
        case .auth:
            let validator = SessionValidator(
                source: DatabaseSessionSource(database: try required(clients.database, "database")),
                configuration: configuration.auth, logger: log)
            implementation = AuthGRPCService(validator: validator)
        case .character:
            // One truth for the spawn point: the world's first zone, where the world also puts
            // characters saved without a zone.
            guard let zone = configuration.world.zones.first else { throw ServerConfigurationError("world: at least one zone is required") }
            implementation = CharacterGRPCService(
                database: try required(clients.database, "database"), configuration: configuration.character,
                spawn: SpawnPoint(zoneID: zone.id, x: zone.spawn.x, y: zone.spawn.y))
        case .world:
            let store = DatabaseCharacterStateStore(client: try required(clients.database, "database"))
            let runtime: WorldRuntime
            do { runtime = try WorldRuntime(configuration: configuration.world, store: store, logger: log) } catch {
                throw ServerConfigurationError("world: \(error)")
            }
            handles.world = runtime
            implementation = WorldGRPCService(runtime: runtime)
            addServers(kind, implementation, deadlines: deadlines)
            // After its servers: shut down first, so the final save runs while the database
            // client (earlier in the list) is still up.
            services.append(WorldLifecycle(runtime: runtime))
            return
        case .packet:
            let auth = try required(clients.auth, "auth")
            let character = try required(clients.character, "character")
            let world = try required(clients.world, "world")
            let server = PacketServer(
                configuration: configuration.packet,
                authenticator: GRPCSessionAuthenticator(client: auth),
                characters: GRPCCharacterDirectory(client: character),
                world: world,
                // Clients can make the gateway log (failed backend calls, refusals): rate-limited.
                logger: RateLimitedLogHandler.wrap(log))
            handles.packet = server
            services.append(PacketLifecycle(server: server))
            // SIGHUP re-reads the client port's certificate and key (packet.tls.*).
            if configuration.packet.tls != nil { services.append(ClientTLSReloader(server: server)) }
            readiness.add(ReadinessCheck("world-link") { server.isWorldLinkConnected }, to: kind.healthName)
            return
        }
        addServers(kind, implementation, deadlines: deadlines)
    }

    /// Every gRPC server's interceptors: no failure leaves an RPC with transport headers in its
    /// trailers (`RPCErrorBoundary`).
    var serverInterceptors: [any ServerInterceptor] { [RPCErrorBoundary()] }

    private mutating func addServers(_ kind: ServiceKind, _ implementation: any RegistrableRPCService, deadlines: ServiceConfig) {
        let served: [any RegistrableRPCService] = [implementation, HealthGRPCService(registry: readiness)]
        if consumed.contains(kind) {
            let transport = InProcessTransport(serviceConfig: deadlines)
            inProcess[kind] = transport
            services.append(GRPCServerService(GRPCServer(transport: transport.server, services: served, interceptors: serverInterceptors)))
        }
        if configuration.exposeGRPC, let port = configuration.grpcPorts[kind] {
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: configuration.grpcHost, port: port),
                // Mutual TLS when `grpc.tls.*` is set (docs/adr/0006-internal-mtls.md).
                transportSecurity: configuration.grpcTLS?.serverSecurity ?? .plaintext,
                // Explicit, not gRPC's default: the world link's messages are sized against it.
                config: .defaults { [logger] in
                    $0.rpc.maxRequestPayloadSize = WorldLinkLimits.maxMessageBytes
                    // At the open-file limit the listener would spin a core on `accept`.
                    $0.channelDebuggingCallbacks.onBindTCPListener = { ListenerAcceptPause.install(on: $0, listener: "gRPC \(kind.rawValue)", logger: logger) }
                })
            // Only the TCP port checks the secret: in-process callers are this process.
            var interceptors = serverInterceptors
            if let secret = configuration.grpcSecret { interceptors.append(InternalCallAuthentication(secret: secret)) }
            services.append(GRPCServerService(GRPCServer(transport: transport, services: served, interceptors: interceptors)))
            logger.info("gRPC listening", metadata: ["service": "\(kind.rawValue)", "port": "\(port)", "tls": "\(configuration.grpcTLS != nil ? "mutual" : "off")"])
        }
    }

    // MARK: consuming

    private mutating func connect(_ kind: ServiceKind) throws {
        if let transport = inProcess[kind] {
            attach(kind, GRPCClient(transport: transport.client))
        } else {
            guard let peer = configuration.peers[kind] else { throw ServerConfigurationError("\(kind.rawValue).address is not set") }
            let credentials = configuration.grpcSecret.map { [InternalCallCredentials(secret: $0)] } ?? []
            attach(kind, GRPCClient(transport: try peer.makeTransport(serviceConfig: deadlines, tls: configuration.grpcTLS, resolveInterval: configuration.resolveInterval), interceptors: credentials))
            logger.info("using remote service", metadata: ["service": "\(kind.rawValue)", "address": "\(peer)"])
        }
    }

    private mutating func attach<T: ClientTransport>(_ kind: ServiceKind, _ client: GRPCClient<T>) {
        services.append(GRPCClientService(client))
        // Each service run here that calls `kind` is ready only while `kind` says SERVING.
        let health = HealthProbe.check(
            "\(kind.rawValue)-service", service: kind.healthName, client: Grpc_Health_V1_Health.Client(wrapping: client))
        for consumer in configuration.services where consumer.dependencies.contains(kind) {
            readiness.add(health, to: consumer.healthName)
        }
        switch kind {
        case .database: clients.database = Mmo_DatabaseService.Client(wrapping: client)
        case .auth: clients.auth = Mmo_AuthService.Client(wrapping: client)
        case .character: clients.character = Mmo_CharacterService.Client(wrapping: client)
        case .world: clients.world = Mmo_WorldService.Client(wrapping: client)
        case .packet: break
        }
    }

    private func required<T>(_ value: T?, _ name: String) throws -> T {
        guard let value else { throw ServerConfigurationError("internal: no client for the \(name) service") }
        return value
    }
}

/// Runs the database (its connection pool) and prepares the schema; a failed preparation
/// (e.g. a missing column with migrations off) stops the process with that message.
struct DatabaseLifecycle: Service {
    let database: GameDatabase

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.run() }
                try await database.prepare()
                try await group.next()
            }
        }
    }
}

struct WorldLifecycle: Service {
    let runtime: WorldRuntime

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await runtime.run()
        } onGracefulShutdown: {
            runtime.stop()
        }
        // The final save was given up (world.finalSaveTimeoutSeconds): fail, so the process
        // exits non-zero (ServiceMain) and says how many characters' progress is lost.
        if let lost = runtime.lostAtShutdown, lost > 0 { throw WorldProgressLost(characters: lost) }
    }
}

struct PacketLifecycle: Service {
    let server: PacketServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.shutdown()
        }
    }
}
