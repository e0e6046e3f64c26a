import MMOBot
import MMOClient
import Testing

/// `mmo-bot --host/--port`, `--server mmos://...`, `--tls`, `--ca-file`.
@Suite struct BotServerTests {
    @Test func hostAndPortStayPlainTCP() throws {
        #expect(try BotServer.resolve(host: "127.0.0.1", port: 7777, server: nil, tls: false, caFile: nil) == BotServer(host: "127.0.0.1", port: 7777))
    }

    @Test func serverURLOverridesHostAndPort() throws {
        #expect(try BotServer.resolve(host: "127.0.0.1", port: 7777, server: "mmos://game.example:7000", tls: false, caFile: nil)
            == BotServer(host: "game.example", port: 7000, tls: GameClientTLS(trustRoots: .system)))
        #expect(try BotServer.resolve(host: "127.0.0.1", port: 7777, server: "mmo://game.example:7000", tls: false, caFile: nil)
            == BotServer(host: "game.example", port: 7000))
        #expect(try BotServer.resolve(host: "127.0.0.1", port: 7001, server: "game.example", tls: false, caFile: nil)
            == BotServer(host: "game.example", port: 7001))
    }

    @Test func tlsFlagAndCAFile() throws {
        #expect(try BotServer.resolve(host: "h", port: 1, server: nil, tls: true, caFile: nil).tls == GameClientTLS(trustRoots: .system))
        // A CA file implies TLS.
        #expect(try BotServer.resolve(host: "h", port: 1, server: nil, tls: false, caFile: "dev-certs/ca.pem").tls
            == GameClientTLS(trustRoots: .caFile("dev-certs/ca.pem")))
        #expect(try BotServer.resolve(host: "h", port: 1, server: "mmos://h:2", tls: false, caFile: "ca.pem").tls
            == GameClientTLS(trustRoots: .caFile("ca.pem")))
    }

    @Test func badValuesAreUsageErrors() {
        #expect(throws: BotConfigurationError.self) { try BotServer.resolve(host: "h", port: 1, server: "https://h:1", tls: false, caFile: nil) }
        #expect(throws: BotConfigurationError.self) { try BotServer.resolve(host: "h", port: 0, server: nil, tls: false, caFile: nil) }
        #expect(throws: BotConfigurationError.self) { try BotServer.resolve(host: "h", port: 1, server: nil, tls: false, caFile: "") }
    }
}
