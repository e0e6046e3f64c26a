import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a launch URL, or the `--server`/`--token` options, were refused.
///
/// Messages never contain the token, and never the raw URL (which holds the token).
public enum LaunchRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLong(limit: Int)
    case invalidCharacters
    case wrongScheme(expected: String)
    case wrongTarget(expected: String)
    case fragmentNotAllowed
    case missingQuery
    case malformedParameter
    case encodedParameterName
    case unknownParameter(String)
    case duplicateParameter(String)
    case missingParameter(String)
    case badPercentEncoding(parameter: String)
    case invalidServer(String)
    case invalidPort
    case invalidToken
    case patchParameterNotAccepted
    case serverNotAllowed(String)
    case conflictingSources
    case noLaunchRequest

    public var description: String {
        switch self {
        case .tooLong(let limit): return "the launch URL is longer than \(limit) bytes"
        case .invalidCharacters:
            return "the launch URL contains spaces, control characters or non-ASCII characters (they must be percent-encoded, and none is valid in these fields)"
        case .wrongScheme(let expected): return "not a launch URL: it must start with \(expected)://"
        case .wrongTarget(let expected): return "not a launch URL: expected \(expected) after the scheme, with no user name, port or path"
        case .fragmentNotAllowed: return "the launch URL must not have a #fragment"
        case .missingQuery: return "the launch URL has no parameters (expected ?server=HOST:PORT&token=...)"
        case .malformedParameter: return "the launch URL has an empty parameter or one without '='"
        case .encodedParameterName: return "a launch URL parameter name is percent-encoded"
        case .unknownParameter(let name): return "unknown launch URL parameter \(displayName(name))"
        case .duplicateParameter(let name): return "launch URL parameter \(displayName(name)) is given more than once"
        case .missingParameter(let name): return "the launch URL has no \(name) parameter"
        case .badPercentEncoding(let name): return "launch URL parameter \(name) has invalid percent-encoding"
        case .invalidServer(let reason): return "invalid server: \(reason)"
        case .invalidPort: return "invalid server port: it must be a number from 1 to 65535"
        case .invalidToken:
            return "invalid session token: expected 32 letters and digits, or the signed form token.signature from the web site's cookie"
        case .patchParameterNotAccepted:
            return "the launch URL's patch parameter is not accepted: the patch server comes only from the launcher's configuration, so a web page cannot make the launcher install files from elsewhere"
        case .serverNotAllowed(let host): return "server \(host) is not in the launcher's allowedServerHosts"
        case .conflictingSources: return "give either a launch URL or --server/--token, not both"
        case .noLaunchRequest:
            return "no launch URL: start the game with the Play button on the web site, or give --server HOST:PORT and --token (or MMO_SESSION_TOKEN)"
        }
    }
}

/// Parameter names come from the URL, so they are shown quoted, and only when short: a long
/// one may be a misplaced token.
private func displayName(_ name: String) -> String {
    name.count <= 16 ? String(reflecting: name) : "(a name of \(name.count) characters)"
}

/// A game server address: a DNS name or an IP literal, and a port in 1...65535.
public struct ServerAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host as it goes to the client: a lowercase DNS name, an IPv4 literal, or an IPv6
    /// literal without brackets.
    public let host: String
    /// True when `host` is an IPv6 literal (written in brackets in `host:port`).
    public let isIPv6: Bool
    public let port: Int
    /// Written `mmos://HOST:PORT`: the client connects with TLS.
    public var tls: Bool = false

    /// `host:port`, with brackets around an IPv6 literal, and `mmos://` in front for TLS: the
    /// value of `MMO_SERVER`.
    public var description: String {
        let hostPort = isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        return tls ? "mmos://\(hostPort)" : hostPort
    }

    /// Parses `HOST:PORT` or `[IPv6]:PORT`, optionally written `mmos://HOST:PORT` (TLS) or
    /// `mmo://HOST:PORT`. DNS names must be ASCII (punycode for IDNs).
    public static func parse(_ text: String) throws(LaunchRequestError) -> ServerAddress {
        guard text.utf8.count <= 300 else { throw .invalidServer("too long") }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidServer("it contains spaces, control or non-ASCII characters")
        }
        let lowered = text.lowercased()
        for (scheme, tls) in [("mmos://", true), ("mmo://", false)] where lowered.hasPrefix(scheme) {
            let rest = String(text.dropFirst(scheme.count))
            guard !rest.contains("://") else { throw .invalidServer("only one mmos:// or mmo:// in front of HOST:PORT") }
            var address = try parse(rest)
            address.tls = tls
            return address
        }
        let host: String
        let portText: Substring
        let isIPv6: Bool
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidServer("unclosed [ in an IPv6 address") }
            host = String(text[text.index(after: text.startIndex)..<close]).lowercased()
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidServer("expected :PORT after the IPv6 address") }
            portText = rest.dropFirst()
            guard isIPv6Literal(host) else { throw .invalidServer("not a valid IPv6 address") }
            isIPv6 = true
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalidServer("expected HOST:PORT") }
            let hostPart = text[..<colon]
            guard !hostPart.contains(":") else { throw .invalidServer("an IPv6 address must be written in brackets, [::1]:PORT") }
            guard !hostPart.contains("@") else { throw .invalidServer("a user name is not allowed") }
            guard !hostPart.contains("/") else { throw .invalidServer("a path is not allowed") }
            host = hostPart.lowercased()
            portText = text[text.index(after: colon)...]
            if host.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
                guard isIPv4Literal(host) else { throw .invalidServer("not a valid IPv4 address") }
            } else {
                try validateDNSName(host)
            }
            isIPv6 = false
        }
        return ServerAddress(host: host, isIPv6: isIPv6, port: try parsePort(portText))
    }

    static func parsePort(_ text: Substring) throws(LaunchRequestError) -> Int {
        // Digits only: no sign, no spaces, no leading zero (which some parsers read as octal).
        guard (1...5).contains(text.utf8.count),
            text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            text.first != "0",
            let value = Int(text), (1...65535).contains(value)
        else { throw .invalidPort }
        return value
    }

    /// Four decimal octets 0-255 without leading zeros (`010` would be octal to inet_aton).
    static func isIPv4Literal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), !(part.count > 1 && part.first == "0"),
                let value = Int(part)
            else { return false }
            return value <= 255
        }
    }

    static func isIPv6Literal(_ text: String) -> Bool {
        // Zone ids (%eth0) name an interface of the player's machine: meaningless for a game
        // server, and `%` is not in the allowed set.
        guard !text.isEmpty, text.utf8.count <= 45,
            text.utf8.allSatisfy({ isHexDigit($0) || $0 == 0x3A || $0 == 0x2E })
        else { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// RFC 1123 host name: labels of letters, digits and inner hyphens, 1-63 bytes each, 253
    /// in all; the last label not all digits (so "1.2.3" is not taken for a name).
    static func validateDNSName(_ name: String) throws(LaunchRequestError) {
        guard !name.isEmpty, name.utf8.count <= 253 else { throw .invalidServer("the host name is empty or too long") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count) else { throw .invalidServer("the host name has an empty or over-long label") }
            guard label.utf8.allSatisfy({ isASCIIAlphanumeric($0) || $0 == 0x2D }) else {
                throw .invalidServer("the host name may contain only letters, digits, '-' and '.'")
            }
            guard label.first != "-", label.last != "-" else { throw .invalidServer("a host name label cannot start or end with '-'") }
        }
        if let last = labels.last, last.allSatisfy(\.isASCIIDigit) {
            throw .invalidServer("not a valid IPv4 address or host name")
        }
    }
}

/// A better-auth session token, validated and normalized, never printed.
///
/// Two forms are valid, as in the auth service: the raw token (32 characters of `[A-Za-z0-9]`)
/// and the signed cookie form `token.base64(HMAC-SHA256)`, which the web site may hand over
/// percent-encoded (its cookie value) or not. The normalized value is `token` or
/// `token.signature` with the signature decoded to plain base64.
public struct SessionCredential: Sendable, Equatable, CustomStringConvertible {
    /// The value to give the client.
    public let value: String

    /// Never the token: this value ends up in error messages and logs by accident otherwise.
    public var description: String { "<session token>" }

    public static let maximumLength = 256

    /// Validates a token taken from a URL (already percent-decoded once) or an option.
    public static func parse(_ text: String) throws(LaunchRequestError) -> SessionCredential {
        guard text.utf8.count <= maximumLength else { throw .invalidToken }
        if isRawToken(text.utf8) { return SessionCredential(value: text) }
        guard let dot = text.utf8.firstIndex(of: 0x2E) else { throw .invalidToken }
        let token = text.utf8[..<dot]
        var signature = String(text[text.utf8.index(after: dot)...])
        guard isRawToken(token) else { throw .invalidToken }
        if signature.contains("%") {
            // The cookie's own percent-encoding, one level: a second `%` after decoding
            // (double encoding) is refused.
            guard let decoded = try? percentDecode(Substring(signature), parameter: "token"), !decoded.contains("%") else {
                throw .invalidToken
            }
            signature = decoded
        }
        // HMAC-SHA256 is 32 bytes: 44 base64 characters ending in one '='.
        guard signature.utf8.count == 44, signature.hasSuffix("="),
            signature.utf8.dropLast().allSatisfy({ isASCIIAlphanumeric($0) || $0 == 0x2B || $0 == 0x2F }),
            let mac = Data(base64Encoded: signature), mac.count == 32
        else { throw .invalidToken }
        return SessionCredential(value: String(decoding: token, as: UTF8.self) + "." + signature)
    }

    static func isRawToken(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count == 32 && bytes.allSatisfy(isASCIIAlphanumeric)
    }
}

/// What the launcher needs to start a game session: where to connect and who the player is.
public struct LaunchRequest: Sendable, Equatable, CustomStringConvertible {
    public let server: ServerAddress
    public let credential: SessionCredential

    public init(server: ServerAddress, credential: SessionCredential) {
        self.server = server
        self.credential = credential
    }

    /// Builds a request from `--server` and `--token`, with the same validation as the URL.
    public init(server: String, token: String) throws(LaunchRequestError) {
        self.server = try ServerAddress.parse(server)
        self.credential = try SessionCredential.parse(token)
    }

    public var description: String { "server \(server), \(credential)" }
}

/// Parses launch URLs such as `mmo://play?server=play.example.com:7777&token=...`.
///
/// The grammar is deliberately narrow: `SCHEME://play` or `SCHEME://play/`, then `?`, then
/// `server` and `token` exactly once each, `&`-separated, nothing else (no fragment, no
/// user name, no other parameter). The scheme and `play` are case-insensitive (RFC 3986);
/// parameter names are not. Values are percent-decoded once, strictly. Written by hand rather
/// than with `URLComponents` so what is accepted is the same on every platform and fully
/// listed here.
public struct LaunchURLParser: Sendable {
    public static let maximumLength = 2048
    public static let target = "play"

    /// The URL scheme, lowercase, without `://`.
    public let scheme: String

    public init(scheme: String = "mmo") {
        self.scheme = scheme.lowercased()
    }

    /// Whether `scheme` is usable as a launch URL scheme: a letter, then letters, digits, `.`
    /// or `-` (RFC 3986 also allows `+`, refused here because the scheme becomes a file name).
    public static func isValidScheme(_ scheme: String) -> Bool {
        guard let first = scheme.utf8.first, (1...32).contains(scheme.utf8.count), isASCIILetter(first) else { return false }
        return scheme.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == 0x2E || $0 == 0x2D }
    }

    public func parse(_ text: String) throws(LaunchRequestError) -> LaunchRequest {
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong(limit: Self.maximumLength) }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidCharacters }
        guard let colon = text.firstIndex(of: ":"), text[..<colon].lowercased() == scheme else {
            throw .wrongScheme(expected: scheme)
        }
        var rest = text[text.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw .wrongTarget(expected: Self.target) }
        rest = rest.dropFirst(2)
        if rest.contains("#") { throw .fragmentNotAllowed }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        guard rest[..<authorityEnd].lowercased() == Self.target else { throw .wrongTarget(expected: Self.target) }
        rest = rest[authorityEnd...]
        // Some browsers and Windows' shell add a slash before the query: allow exactly that.
        if rest.hasPrefix("/") { rest = rest.dropFirst() }
        guard rest.hasPrefix("?") else {
            throw rest.isEmpty ? .missingQuery : .wrongTarget(expected: Self.target)
        }
        let query = rest.dropFirst()
        guard !query.isEmpty else { throw .missingQuery }

        var values: [String: Substring] = [:]
        for part in query.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "=") else { throw .malformedParameter }
            let name = String(part[..<equals])
            guard !name.isEmpty else { throw .malformedParameter }
            if name.contains("%") { throw .encodedParameterName }
            switch name {
            case "server", "token": break
            case "patch": throw .patchParameterNotAccepted
            default: throw .unknownParameter(name)
            }
            guard values[name] == nil else { throw .duplicateParameter(name) }
            values[name] = part[part.index(after: equals)...]
        }
        guard let serverText = values["server"] else { throw .missingParameter("server") }
        guard let tokenText = values["token"] else { throw .missingParameter("token") }
        let server = try ServerAddress.parse(try percentDecode(serverText, parameter: "server"))
        let token = try SessionCredential.parse(try percentDecode(tokenText, parameter: "token"))
        return LaunchRequest(server: server, credential: token)
    }
}

/// Strict percent-decoding: every `%` must start `%XX` with two hex digits, and the result
/// must be valid UTF-8. `+` stays `+` (RFC 3986 query, not HTML form encoding), which matters
/// for base64 signatures.
func percentDecode(_ text: Substring, parameter: String) throws(LaunchRequestError) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        guard byte == 0x25 else {
            bytes.append(byte)
            continue
        }
        guard let high = iterator.next(), let low = iterator.next(), let h = hexValue(high), let l = hexValue(low) else {
            throw .badPercentEncoding(parameter: parameter)
        }
        bytes.append(h << 4 | l)
    }
    guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .badPercentEncoding(parameter: parameter) }
    return decoded
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}

func isHexDigit(_ c: UInt8) -> Bool { hexValue(c) != nil }
func isASCIILetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
func isASCIIAlphanumeric(_ c: UInt8) -> Bool { isASCIILetter(c) || (c >= 0x30 && c <= 0x39) }

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
