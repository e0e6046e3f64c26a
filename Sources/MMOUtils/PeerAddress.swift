import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// A peer's `host:port` from configuration. Host may be a DNS name (a Kubernetes Service name
/// works; a headless one yields every pod), an IPv4 address, or a bracketed IPv6 address. A
/// comma-separated list names several replicas: `host`/`port` are the first, `more` the rest.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Further replicas after the first (`10.0.0.1:50051,10.0.0.2:50051`).
    public var more: [PeerAddress]

    public init(host: String, port: Int, more: [PeerAddress] = []) {
        self.host = host
        self.port = port
        self.more = more
    }

    /// Every replica, the first included, each a single `host:port`.
    public var all: [PeerAddress] { [PeerAddress(host: host, port: port)] + more.flatMap(\.all) }

    public struct ParseError: Error, CustomStringConvertible {
        public let input: String
        public var description: String { "invalid peer address '\(input)': expected host:port with port 1-65535" }
    }

    /// One `host:port` or a comma-separated list of them; the error names the bad entry.
    public init(parsing text: String) throws {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        guard entries.count > 1 else {
            try self.init(parsingOne: text)
            return
        }
        let parsed = try entries.map { try PeerAddress(parsingOne: String($0)) }
        self.init(host: parsed[0].host, port: parsed[0].port, more: Array(parsed.dropFirst()))
    }

    private init(parsingOne text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":") else { throw ParseError(input: text) }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
            throw ParseError(input: text)
        }
        self.host = host
        self.port = port
        self.more = []
    }

    public var description: String {
        all.map { $0.host.contains(":") ? "[\($0.host)]:\($0.port)" : "\($0.host):\($0.port)" }.joined(separator: ",")
    }

    /// A resolvable gRPC target: literal IPs directly, anything else through DNS.
    public var target: any ResolvableTarget {
        if host.split(separator: ".").count == 4, host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .ipv4(address: host, port: port)
        }
        if host.contains(":") { return .ipv6(address: host, port: port) }
        return .dns(host: host, port: port)
    }

    /// Every replica as one target for `ReplicaResolverFactory` (one endpoint per address).
    public var replicaTarget: ReplicaTarget { ReplicaTarget(peers: all) }

    /// An HTTP/2 client transport to this peer's replicas: one endpoint per resolved address,
    /// `round_robin` over them, names re-resolved every `resolveInterval` (see
    /// `ReplicaResolverFactory`). `serviceConfig` carries the deadlines (see `RPCDeadlines`);
    /// its load-balancing policy is replaced. Plaintext, or mutual TLS with `tls` (the server's
    /// certificate must name `host` when it is one name, else the addresses dialled).
    public func makeTransport(
        serviceConfig: ServiceConfig, tls: InternalTLS? = nil, resolveInterval: Duration = .seconds(10),
        lookup: @escaping ReplicaAddressLookup = ReplicaAddresses.systemLookup
    ) throws -> HTTP2ClientTransport.Posix {
        // One IP address has no replicas to spread over: keep grpc-swift's own target and
        // policy, whose reconnection after a peer restarts (the world, in scripts/chaos.sh) is
        // the proven path. Lists and DNS names get one endpoint per address and round robin.
        if more.isEmpty, !(target is ResolvableTargets.DNS) {
            return try .http2NIOPosix(
                target: target, transportSecurity: tls?.clientSecurity ?? .plaintext, serviceConfig: serviceConfig)
        }
        var registry = NameResolverRegistry.defaults
        registry.registerFactory(ReplicaResolverFactory(interval: resolveInterval, lookup: lookup))
        return try .http2NIOPosix(
            target: replicaTarget, transportSecurity: tls?.clientSecurity ?? .plaintext,
            resolverRegistry: registry, serviceConfig: Self.roundRobin(serviceConfig))
    }

    /// `serviceConfig` with `round_robin` as its load-balancing policy (the default,
    /// `pick_first`, would send every call to one replica).
    public static func roundRobin(_ serviceConfig: ServiceConfig) -> ServiceConfig {
        var config = serviceConfig
        config.loadBalancingConfig = [.roundRobin]
        return config
    }
}
