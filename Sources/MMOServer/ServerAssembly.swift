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
        var builder = Builder(configuration: configuration, logger: logger)
        try builder.build()
        return (builder.services, builder.handles)
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
    var readiness: [ReadinessCheck] = []
    var inProcess: [ServiceKind: InProcessTransport] = [:]

    init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Which services the services of this process call.
    var consumed: Set<ServiceKind> {
        var needed = Set<ServiceKind>()
        for kind in configuration.services {
            switch kind {
            case .auth, .character, .world: needed.insert(.database)
            case .packet: needed.formUnion([.auth, .character, .world])
            case .database: break
            }
        }
        return needed
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
            services.append(AdminServer(configuration: admin, checks: readiness, logger: logger))
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
            readiness.append(ReadinessCheck("database") { await database.isReady() })
            implementation = DatabaseGRPCService(database: database, logger: log)
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
                logger: log)
            handles.packet = server
            services.append(PacketLifecycle(server: server))
            readiness.append(ReadinessCheck("world-link") { server.isWorldLinkConnected })
            return
        }
        addServers(kind, implementation, deadlines: deadlines)
    }

    private mutating func addServers(_ kind: ServiceKind, _ implementation: any RegistrableRPCService, deadlines: ServiceConfig) {
        if consumed.contains(kind) {
            let transport = InProcessTransport(serviceConfig: deadlines)
            inProcess[kind] = transport
            services.append(GRPCServerService(GRPCServer(transport: transport.server, services: [implementation])))
        }
        if configuration.exposeGRPC, let port = configuration.grpcPorts[kind] {
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: configuration.grpcHost, port: port),
                transportSecurity: .plaintext)
            services.append(GRPCServerService(GRPCServer(transport: transport, services: [implementation])))
            logger.info("gRPC listening", metadata: ["service": "\(kind.rawValue)", "port": "\(port)"])
        }
    }

    // MARK: consuming

    private mutating func connect(_ kind: ServiceKind) throws {
        if let transport = inProcess[kind] {
            attach(kind, GRPCClient(transport: transport.client))
        } else {
            guard let peer = configuration.peers[kind] else { throw ServerConfigurationError("\(kind.rawValue).address is not set") }
            attach(kind, GRPCClient(transport: try peer.makeTransport(serviceConfig: deadlines)))
            logger.info("using remote service", metadata: ["service": "\(kind.rawValue)", "address": "\(peer)"])
        }
    }

    private mutating func attach<T: ClientTransport>(_ kind: ServiceKind, _ client: GRPCClient<T>) {
        services.append(GRPCClientService(client))
        switch kind {
        case .database:
            let database = Mmo_DatabaseService.Client(wrapping: client)
            clients.database = database
            if !configuration.runs(.database) {
                readiness.append(ReadinessCheck("database-service") {
                    await Probe.answers { _ = try await database.getSession(Mmo_GetSessionRequest()) }
                })
            }
        case .auth:
            let auth = Mmo_AuthService.Client(wrapping: client)
            clients.auth = auth
            readiness.append(ReadinessCheck("auth-service") {
                await Probe.answers { _ = try await auth.validateSession(Mmo_ValidateSessionRequest()) }
            })
        case .character:
            let character = Mmo_CharacterService.Client(wrapping: client)
            clients.character = character
            readiness.append(ReadinessCheck("character-service") {
                await Probe.answers { _ = try await character.listCharacters(Mmo_CharacterListRequest()) }
            })
        case .world:
            clients.world = Mmo_WorldService.Client(wrapping: client)
        case .packet:
            break
        }
    }

    private func required<T>(_ value: T?, _ name: String) throws -> T {
        guard let value else { throw ServerConfigurationError("internal: no client for the \(name) service") }
        return value
    }
}

/// Readiness probes: a peer "answers" when an RPC completes or fails with anything but
/// unavailable / deadline exceeded (an invalid-argument reply still proves it is up).
enum Probe {
    static func answers(_ call: @Sendable () async throws -> Void) async -> Bool {
        do {
            try await call()
            return true
        } catch let error as RPCError {
            return ![.unavailable, .deadlineExceeded, .cancelled].contains(error.code)
        } catch {
            return false
        }
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
