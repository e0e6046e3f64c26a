import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// A peer's `host:port` from configuration. Host may be a DNS name (a Kubernetes Service name
/// works), an IPv4 address, or a bracketed IPv6 address.
public struct PeerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let input: String
        public var description: String { "invalid peer address '\(input)': expected host:port with port 1-65535" }
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":") else { throw ParseError(input: text) }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
            throw ParseError(input: text)
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// A resolvable gRPC target: literal IPs directly, anything else through DNS.
    public var target: any ResolvableTarget {
        if host.split(separator: ".").count == 4, host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .ipv4(address: host, port: port)
        }
        if host.contains(":") { return .ipv6(address: host, port: port) }
        return .dns(host: host, port: port)
    }

    /// An HTTP/2 client transport to this peer; `serviceConfig` carries the deadlines (see
    /// `RPCDeadlines`). Plaintext, or mutual TLS with `tls` (the server's certificate must name
    /// `host`).
    public func makeTransport(serviceConfig: ServiceConfig, tls: InternalTLS? = nil) throws -> HTTP2ClientTransport.Posix {
        try .http2NIOPosix(target: target, transportSecurity: tls?.clientSecurity ?? .plaintext, serviceConfig: serviceConfig)
    }
}
