import AuthService
import CharacterService
import DatabaseService
import Logging
import MMOUtils
import PacketService
import WorldService

/// Everything one server process needs. Built from configuration keys by
/// `ServerConfiguration(reader:)` (see ServerConfiguration+ConfigReader.swift and
/// docs/configuration.md) or directly in tests.
public struct ServerConfiguration: Sendable {
    /// Which services run in this process.
    public var services: [ServiceKind]
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .human
    /// Admin HTTP (`/metrics`, `/health/*`); nil disables it.
    public var admin: AdminServerConfiguration?
    /// Address the gRPC servers bind to. Loopback unless configured: any other address needs
    /// `grpcSecret` (see `ServerAssembly.checkInternalCallSecurity`).
    public var grpcHost: String = "127.0.0.1"
    /// The shared secret of internal gRPC calls: servers require it on every call, clients send
    /// it. Nil: no check (loopback only).
    public var grpcSecret: InternalCallSecret?
    /// Mutual TLS on every TCP gRPC server and client of this process (`grpc.tls.*`); nil:
    /// plaintext. Independent of `grpcSecret`: both may be on.
    public var grpcTLS: InternalTLS?
    /// gRPC port per service run here.
    public var grpcPorts: [ServiceKind: Int] = [:]
    /// Where the services NOT run here are reached (`host:port`, DNS names allowed).
    public var peers: [ServiceKind: PeerAddress] = [:]
    /// Serve this process's services on TCP gRPC ports too. Off when every service runs in this
    /// process (they talk over the in-process transport and nobody else needs them).
    public var exposeGRPC: Bool
    /// Deadline of every request/response RPC between services.
    public var rpcTimeout: Duration = .seconds(5)
    /// How often peer addresses (`<service>.address`, names and lists) are resolved again.
    public var resolveInterval: Duration = .seconds(10)
    public var database = DatabaseConfiguration()
    public var auth = AuthConfiguration()
    public var character = CharacterConfiguration()
    public var world = WorldConfiguration()
    public var packet = PacketServerConfiguration()

    public init(services: [ServiceKind] = ServiceKind.allCases) {
        self.services = services.sorted()
        self.exposeGRPC = Set(services) != Set(ServiceKind.allCases)
        for kind in ServiceKind.allCases where kind != .packet {
            grpcPorts[kind] = kind.defaultGRPCPort
            peers[kind] = PeerAddress(host: "127.0.0.1", port: kind.defaultGRPCPort)
        }
        let onlyOne = services.count == 1 ? services.first : nil
        admin = AdminServerConfiguration(host: "0.0.0.0", port: onlyOne?.defaultAdminPort ?? 9100)
    }

    public func runs(_ kind: ServiceKind) -> Bool { services.contains(kind) }
}
