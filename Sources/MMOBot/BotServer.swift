import MMOClient

/// Where the bots connect and how: from `--host`/`--port`, or `--server` written
/// `mmos://host:port` (TLS), `mmo://host:port` or `host:port`, plus `--tls` and `--ca-file`.
public struct BotServer: Equatable, Sendable {
    public var host: String
    public var port: Int
    /// nil: plain TCP.
    public var tls: GameClientTLS?

    public init(host: String, port: Int, tls: GameClientTLS? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// `server` (when given) overrides `host` and `port`. TLS is on with `mmos://`, `tls` or a
    /// `caFile` (which then is the only trusted CA; otherwise the system's trust store).
    public static func resolve(host: String, port: Int, server: String?, tls: Bool, caFile: String?) throws(BotConfigurationError) -> BotServer {
        var address = GameServerAddress(host: host, port: port)
        if let server {
            do { address = try GameServerAddress.parse(server, defaultPort: port) } catch {
                throw BotConfigurationError("--server: \(error)")
            }
        }
        guard (1...65535).contains(address.port) else { throw BotConfigurationError("--port must be 1-65535") }
        if let caFile, caFile.isEmpty { throw BotConfigurationError("--ca-file: empty path") }
        let useTLS = address.tls || tls || caFile != nil
        return BotServer(
            host: address.host, port: address.port,
            tls: useTLS ? GameClientTLS(trustRoots: caFile.map { .caFile($0) } ?? .system) : nil)
    }
}

extension GameClientConfiguration {
    /// The defaults, with `tls`.
    static func with(tls: GameClientTLS?) -> GameClientConfiguration {
        var configuration = GameClientConfiguration()
        configuration.tls = tls
        return configuration
    }
}
