/// How to reach Redis and how patient to be.
public struct RedisClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// ACL user name for `AUTH user password`; `nil` uses `AUTH password` (the default user).
    public var username: String? = nil
    /// Sent with AUTH on every new connection when set. Never logged.
    public var password: String?
    /// Selected with SELECT on every new connection when not 0.
    public var database: Int
    /// Number of connections; they are opened lazily, on demand.
    public var poolSize: Int
    /// Bound on establishing a TCP connection.
    public var connectTimeout: Duration
    /// Bound on waiting for a reply, including handshake commands. A command that exceeds
    /// it fails with ``RedisError/Code/timeout`` and its connection is closed.
    public var commandTimeout: Duration
    /// A prefix for callers to put in front of their keys, so several deployments can share a
    /// Redis. The client itself never rewrites keys.
    public var keyPrefix: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 4,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        keyPrefix: String = ""
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.keyPrefix = keyPrefix
    }

    /// Parses `redis://[[username]:password@]host[:port][/db]`.
    ///
    /// - `redis://secret@host` (no colon) is read as a password, like most Redis clients do.
    /// - User name and password may be percent-encoded.
    /// - IPv6 hosts go in brackets: `redis://[::1]:6380`.
    /// - Other settings keep their defaults. `rediss://` (TLS) is not supported.
    ///
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidConfiguration``. The
    ///   message never contains the password.
    public init(url: String) throws {
        self.init()
        func invalid(_ reason: String) -> RedisError {
            RedisError(code: .invalidConfiguration, message: "invalid Redis URL: \(reason)")
        }

        let schemeSeparator = "://"
        guard let schemeEnd = url.firstRange(of: schemeSeparator) else {
            throw invalid("missing scheme, expected redis://")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            throw invalid("unsupported scheme '\(scheme)', expected redis://")
        }
        var rest = url[schemeEnd.upperBound...]
        guard !rest.contains("?"), !rest.contains("#") else {
            throw invalid("query parameters and fragments are not supported")
        }

        // Authority ends at the first "/" after the user info (a password may contain "/"
        // only when percent-encoded, as URLs require).
        var path: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                if !user.isEmpty {
                    guard let decoded = Self.percentDecode(user) else { throw invalid("bad percent-encoding in user name") }
                    self.username = decoded
                }
                guard let decoded = Self.percentDecode(userInfo[userInfo.index(after: colon)...]) else {
                    throw invalid("bad percent-encoding in password")
                }
                self.password = decoded
            } else {
                guard let decoded = Self.percentDecode(userInfo) else { throw invalid("bad percent-encoding in password") }
                self.password = decoded
            }
            if self.password == "" {
                self.password = nil
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        var hostPart = rest
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            let afterClose = hostPart[hostPart.index(after: close)...]
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            if !afterClose.isEmpty {
                guard afterClose.hasPrefix(":") else { throw invalid("unexpected characters after IPv6 address") }
                portPart = afterClose.dropFirst()
            }
        } else if let colon = hostPart.firstIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw invalid("missing host") }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { throw invalid("bad port '\(portPart)'") }
            self.port = port
        }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else { throw invalid("bad database number '\(path)'") }
            self.database = database
        }
    }

    private static func percentDecode(_ string: Substring) -> String? {
        guard string.contains("%") else { return String(string) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count)
        var iterator = string.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension RedisClientConfiguration: CustomStringConvertible {
    /// Describes the configuration with the password redacted, so it is safe to log.
    public var description: String {
        var result = "redis://"
        if let username {
            result += username
        }
        if self.password != nil {
            result += ":***"
        }
        if self.username != nil || self.password != nil {
            result += "@"
        }
        result += self.host.contains(":") ? "[\(self.host)]" : self.host
        result += ":\(self.port)/\(self.database) (poolSize: \(self.poolSize), connectTimeout: \(self.connectTimeout), commandTimeout: \(self.commandTimeout), keyPrefix: \"\(self.keyPrefix)\")"
        return result
    }
}
