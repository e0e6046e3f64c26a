import MMOClient
import Testing
@testable import TerminalClient

@Suite("Launch configuration: TLS")
struct LaunchTLSTests {
    static func noFile(_ path: String) throws -> String { throw LaunchConfiguration.Problem("no file") }
    static func resolve(server: String?, tls: Bool = false, caFile: String? = nil, environment: [String: String] = [:]) throws -> LaunchConfiguration {
        try LaunchConfiguration.resolve(
            server: server, tokenFile: nil, token: "abc", tls: tls, caFile: caFile, environment: environment, readFile: Self.noFile)
    }

    @Test("mmos://host:port turns TLS on; mmo:// and host:port stay plain")
    func schemes() throws {
        let tls = try Self.resolve(server: "mmos://game.example:7000")
        #expect(tls.host == "game.example" && tls.port == 7000 && tls.tls && tls.caFile == nil)
        #expect(tls.clientTLS == GameClientTLS(trustRoots: .system))
        let v6 = try Self.resolve(server: "mmos://[::1]:9000/")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.tls)
        let plain = try Self.resolve(server: "mmo://game.example:7000")
        #expect(plain.host == "game.example" && plain.port == 7000 && !plain.tls && plain.clientTLS == nil)
        #expect(try !Self.resolve(server: "game.example:7000").tls)
        #expect(throws: LaunchConfiguration.Problem.self) { try Self.resolve(server: "https://game.example:7000") }
        #expect(throws: LaunchConfiguration.Problem.self) { try Self.resolve(server: "mmos://:7000") }
    }

    @Test("MMO_SERVER may carry mmos://, and MMO_CA_FILE names the CA (--ca-file wins)")
    func environment() throws {
        let fromEnvironment = try Self.resolve(server: nil, environment: ["MMO_SERVER": "mmos://game.example:7000", "MMO_CA_FILE": "/etc/ca.pem"])
        #expect(fromEnvironment.tls && fromEnvironment.caFile == "/etc/ca.pem")
        #expect(fromEnvironment.clientTLS == GameClientTLS(trustRoots: .caFile("/etc/ca.pem")))
        let flag = try Self.resolve(server: nil, caFile: "/tmp/ca.pem", environment: ["MMO_CA_FILE": "/etc/ca.pem"])
        #expect(flag.tls && flag.caFile == "/tmp/ca.pem")  // a CA file implies TLS
        let tlsFlag = try Self.resolve(server: "game.example:7000", tls: true)
        #expect(tlsFlag.tls && tlsFlag.clientTLS == GameClientTLS(trustRoots: .system))
    }
}
