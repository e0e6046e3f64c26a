/// A packet service address as players and tools write it: `mmos://host:port` (TLS),
/// `mmo://host:port` or `host:port` (plain TCP), `host` (default port), `[::1]:7777`.
public struct GameServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Written `mmos://`: connect with TLS.
    public var tls: Bool

    /// The URL scheme of a TLS address.
    public static let tlsScheme = "mmos"
    /// The URL scheme of a plain TCP address.
    public static let plainScheme = "mmo"

    public init(host: String, port: Int, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Why an address was refused, worded for the user.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Parses any of the forms above; a trailing `/` after the port is allowed (`mmos://h:1/`).
    public static func parse(_ text: String, defaultPort: Int = 7777) throws(Problem) -> GameServerAddress {
        var rest = Substring(text.trimmingWhitespace)
        guard !rest.isEmpty else { throw Problem("empty server address") }
        var tls = false
        if let schemeEnd = rest.range(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            switch scheme {
            case tlsScheme: tls = true
            case plainScheme: tls = false
            default: throw Problem("unknown scheme \(scheme):// in \(text): use mmos://host:port (TLS) or mmo://host:port")
            }
            rest = rest[schemeEnd.upperBound...]
            if rest.hasSuffix("/") { rest = rest.dropLast() }
        }
        var host = String(rest)
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Problem("bad server address \(text): missing ]") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw Problem("bad server address \(text)") }
        } else if let colon = rest.lastIndex(of: ":"), rest.firstIndex(of: ":") == colon {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw Problem("bad port in server address \(text): use host:port")
            }
            port = value
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { throw Problem("bad server address \(text): no host") }
        return GameServerAddress(host: host, port: port, tls: tls)
    }

    /// `mmos://host:port` with TLS, else `host:port` (IPv6 in brackets).
    public var description: String {
        let hostPort = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return tls ? "\(Self.tlsScheme)://\(hostPort)" : hostPort
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
