import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every replica of a service as a gRPC target: a list of `host:port` entries, each an IP
/// literal or a DNS name (a Kubernetes headless Service name yields one address per pod).
///
/// grpc-swift's own DNS resolver folds all addresses of a name into *one* endpoint, so
/// `round_robin` would only ever use one of them; `ReplicaResolverFactory` yields one endpoint
/// per address instead.
public struct ReplicaTarget: ResolvableTarget, Sendable, Hashable {
    public var peers: [PeerAddress]

    public init(peers: [PeerAddress]) {
        self.peers = peers
    }
}

/// Resolves one `host:port` to socket addresses; injected so tests can fake DNS.
public typealias ReplicaAddressLookup = @Sendable (_ host: String, _ port: Int) async throws -> [SocketAddress]

/// The pure part of replica resolution: which addresses to use after a round of lookups.
public enum ReplicaAddresses {
    /// The addresses after one round: each entry's new lookup result, or, where its lookup
    /// failed (or found nothing), its last good addresses, so a DNS hiccup does not drop
    /// replicas that are still there. Per entry, in configuration order, duplicates removed.
    public static func merge(
        previous: [Int: [SocketAddress]], lookups: [Int: Result<[SocketAddress], any Error>]
    ) -> [Int: [SocketAddress]] {
        var result = previous
        for (entry, lookup) in lookups {
            if case .success(let addresses) = lookup, !addresses.isEmpty {
                result[entry] = addresses
            }
        }
        return result
    }

    /// One endpoint per distinct address, in entry order (stable, so an unchanged set compares
    /// equal and causes no update).
    public static func endpoints(_ perEntry: [Int: [SocketAddress]]) -> [Endpoint] {
        var seen = Set<SocketAddress>()
        var endpoints: [Endpoint] = []
        for entry in perEntry.keys.sorted() {
            for address in perEntry[entry]! where seen.insert(address).inserted {
                endpoints.append(Endpoint(addresses: [address]))
            }
        }
        return endpoints
    }

    /// Whether the channel must be told: only when the set of addresses changed (the order
    /// does not matter to round robin).
    public static func changed(from old: [Endpoint]?, to new: [Endpoint]) -> Bool {
        guard let old else { return !new.isEmpty }
        return !new.isEmpty && Set(old) != Set(new)
    }

    /// An IP literal becomes its address without a lookup.
    static func literal(host: String, port: Int) -> SocketAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return .ipv4(host: host, port: port) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return .ipv6(host: host, port: port) }
        return nil
    }

    /// All A and AAAA records of `host` through the system resolver (`getaddrinfo`: honours
    /// /etc/hosts, like every other client here). Runs off the cooperative pool: it blocks.
    public static let systemLookup: ReplicaAddressLookup = { host, port in
        if let literal = literal(host: host, port: port) { return [literal] }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try getaddrinfoAddresses(host: host, port: port) })
            }
        }
    }

    public struct LookupError: Error, CustomStringConvertible {
        public let host: String
        public let reason: String
        public var description: String { "cannot resolve '\(host)': \(reason)" }
    }

    static func getaddrinfoAddresses(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw LookupError(host: host, reason: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var node = list
        while let info = node?.pointee {
            defer { node = info.ai_next }
            guard let raw = info.ai_addr else { continue }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(info.ai_family) {
            case AF_INET:
                var address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { continue }
                let text = String(cString: buffer)
                let socketAddress = SocketAddress.ipv4(host: text, port: port)
                if !addresses.contains(socketAddress) { addresses.append(socketAddress) }
            case AF_INET6:
                var address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { continue }
                let text = String(cString: buffer)
                let socketAddress = SocketAddress.ipv6(host: text, port: port)
                if !addresses.contains(socketAddress) { addresses.append(socketAddress) }
            default:
                continue
            }
        }
        return addresses
    }
}

/// Makes resolvers for `ReplicaTarget`s: push updates, one endpoint per address, re-resolved
/// every `interval` (only a changed set is pushed).
public struct ReplicaResolverFactory: NameResolverFactory, Sendable {
    public typealias Target = ReplicaTarget

    public var interval: Duration
    public var lookup: ReplicaAddressLookup

    public init(interval: Duration = .seconds(10), lookup: @escaping ReplicaAddressLookup = ReplicaAddresses.systemLookup) {
        self.interval = interval
        self.lookup = lookup
    }

    public func resolver(for target: ReplicaTarget) -> NameResolver {
        // One DNS name: it is the authority (TLS verifies the certificate against the name, as
        // with grpc-swift's DNS resolver). IP literals or several entries: none, so each
        // connection uses its own address (certificates must then name those IPs).
        let names = target.peers.filter { ReplicaAddresses.literal(host: $0.host, port: $0.port) == nil }
        let authority = target.peers.count == 1 && names.count == 1 ? names[0].description : nil
        let sequence = ReplicaResolution(peers: target.peers, interval: interval, lookup: lookup)
        return NameResolver(names: RPCAsyncSequence(wrapping: sequence), updateMode: .push, authority: authority)
    }
}

/// The push sequence: the first result as soon as any entry resolves, then a new result only
/// when the address set changes. Never ends and never fails (failures keep the last good set);
/// cancellation ends it.
struct ReplicaResolution: AsyncSequence, Sendable {
    typealias Element = NameResolutionResult
    typealias Failure = any Error

    let peers: [PeerAddress]
    let interval: Duration
    let lookup: ReplicaAddressLookup

    func makeAsyncIterator() -> Iterator {
        Iterator(peers: peers, interval: interval, lookup: lookup)
    }

    struct Iterator: AsyncIteratorProtocol {
        let peers: [PeerAddress]
        let interval: Duration
        let lookup: ReplicaAddressLookup
        var known: [Int: [SocketAddress]] = [:]
        var published: [Endpoint]?

        init(peers: [PeerAddress], interval: Duration, lookup: @escaping ReplicaAddressLookup) {
            self.peers = peers
            self.interval = interval
            self.lookup = lookup
        }

        mutating func next() async throws -> NameResolutionResult? {
            var first = published == nil && known.isEmpty
            while true {
                if !first { try await Task.sleep(for: interval) }
                first = false
                var lookups: [Int: Result<[SocketAddress], any Error>] = [:]
                for (index, peer) in peers.enumerated() {
                    do { lookups[index] = .success(try await lookup(peer.host, peer.port)) } catch {
                        try Task.checkCancellation()
                        lookups[index] = .failure(error)
                    }
                }
                known = ReplicaAddresses.merge(previous: known, lookups: lookups)
                let endpoints = ReplicaAddresses.endpoints(known)
                if ReplicaAddresses.changed(from: published, to: endpoints) {
                    published = endpoints
                    return NameResolutionResult(endpoints: endpoints, serviceConfig: nil)
                }
            }
        }
    }
}
