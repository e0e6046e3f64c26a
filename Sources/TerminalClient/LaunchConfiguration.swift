/// Where to connect and with which session token, from the launcher's environment
/// (`MMO_SERVER`, `MMO_SESSION_TOKEN`) and the command line.
///
/// The token normally comes from the environment or a file: a command-line argument is visible
/// to every user of the machine (`ps`, `/proc/PID/cmdline`), the environment and a mode-600
/// file are not.
public struct LaunchConfiguration: Equatable, Sendable {
    /// The packet service's host.
    public var host: String
    /// The packet service's port.
    public var port: Int
    /// The session token, trimmed. Never printed.
    public var token: String
    /// Where the token came from ("MMO_SESSION_TOKEN", "--token-file PATH", "--token"), for
    /// messages; never the token itself.
    public var tokenSource: String
    /// Connect with TLS: the server was written `mmos://host:port`, or `--tls` / a CA file.
    public var tls = false
    /// Trust only the CA certificate(s) in this PEM file (`--ca-file`, `MMO_CA_FILE`); nil: the
    /// system's trust store.
    public var caFile: String?

    /// Environment variable naming the server, `host:port` or `mmos://host:port` (TLS).
    public static let serverVariable = "MMO_SERVER"
    /// Environment variable naming a CA file to trust for TLS (a private or development CA).
    public static let caFileVariable = "MMO_CA_FILE"
    /// Environment variable holding the session token.
    public static let tokenVariable = "MMO_SESSION_TOKEN"
    /// Used when neither `--server` nor `MMO_SERVER` says otherwise.
    public static let defaultServer = "127.0.0.1:7777"

    /// A problem with the configuration, worded for the player.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        /// The message.
        public var description: String
        /// A problem described by `description`.
        public init(_ description: String) { self.description = description }
    }

    /// Resolves the configuration. Precedence: `--server` over `MMO_SERVER`; `--token-file`
    /// over `--token` over `MMO_SESSION_TOKEN`; `--ca-file` over `MMO_CA_FILE`. TLS is on when
    /// the server is written `mmos://`, with `tls` (`--tls`), or with a CA file.
    /// - Parameter readFile: reads a token file (injected so tests need no files).
    public static func resolve(
        server: String?, tokenFile: String?, token: String?, tls: Bool = false, caFile: String? = nil, environment: [String: String],
        readFile: (String) throws -> String
    ) throws(Problem) -> LaunchConfiguration {
        let serverText = server ?? environment[serverVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultServer
        let (host, port) = try parseServer(serverText)
        let caFile = caFile ?? environment[caFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let useTLS = tls || isTLS(serverText) || caFile != nil
        let value: String
        let source: String
        if let tokenFile {
            do {
                value = try readFile(tokenFile)
            } catch {
                throw Problem("Cannot read the token file \(tokenFile): \(error)")
            }
            source = "--token-file \(tokenFile)"
        } else if let token {
            value = token
            source = "--token"
        } else if let fromEnvironment = environment[tokenVariable] {
            value = fromEnvironment
            source = tokenVariable
        } else {
            throw Problem("No session token: start the game from the launcher (or set \(tokenVariable), or pass --token-file PATH)")
        }
        let trimmed = value.trimmingSpaces
        guard !trimmed.isEmpty else { throw Problem("The session token from \(source) is empty: sign in on the web site again") }
        guard !trimmed.contains(where: { $0.isNewline || $0 == " " }) else {
            throw Problem("The session token from \(source) contains spaces or several lines: it should be one token")
        }
        return LaunchConfiguration(host: host, port: port, token: trimmed, tokenSource: source, tls: useTLS, caFile: caFile)
    }

    /// True for a server written `mmos://host:port`.
    public static func isTLS(_ server: String) -> Bool {
        server.trimmingSpaces.lowercased().hasPrefix("mmos://")
    }

    /// "host:port", "host" (port 7777), "[::1]:7777", each optionally as `mmo://...` (plain) or
    /// `mmos://...` (TLS, see `isTLS`).
    public static func parseServer(_ text: String, defaultPort: Int = 7777) throws(Problem) -> (host: String, port: Int) {
        var text = text.trimmingSpaces
        for scheme in ["mmos://", "mmo://"] where text.lowercased().hasPrefix(scheme) {
            text = String(text.dropFirst(scheme.count))
            if text.hasSuffix("/") { text = String(text.dropLast()) }
        }
        guard !text.isEmpty else { throw Problem("Empty server address") }
        guard !text.contains("://") else { throw Problem("Bad server address \(text): use host:port, mmo://host:port or mmos://host:port (TLS)") }
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Problem("Bad server address \(text): missing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { throw Problem("Bad server address \(text)") }
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw Problem("Bad port in server address \(text): use host:port")
            }
            port = value
        }
        guard !host.isEmpty else { throw Problem("Bad server address \(text): no host") }
        return (host, port)
    }
}
