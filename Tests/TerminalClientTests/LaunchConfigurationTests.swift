import Testing
@testable import TerminalClient

@Suite("Launch configuration")
struct LaunchConfigurationTests {
    struct Missing: Error {}
    static func noFile(_ path: String) throws -> String { throw Missing() }

    @Test("the launcher's environment: MMO_SERVER and MMO_SESSION_TOKEN")
    func environment() throws {
        let config = try LaunchConfiguration.resolve(
            server: nil, tokenFile: nil, token: nil,
            environment: ["MMO_SERVER": "game.example:7000", "MMO_SESSION_TOKEN": "abc123\n"], readFile: Self.noFile)
        #expect(config == LaunchConfiguration(host: "game.example", port: 7000, token: "abc123", tokenSource: "MMO_SESSION_TOKEN"))
    }

    @Test("--token-file wins over --token, which wins over the environment; --server over MMO_SERVER")
    func precedence() throws {
        let env = ["MMO_SERVER": "a:1", "MMO_SESSION_TOKEN": "fromenv"]
        let fromFile = try LaunchConfiguration.resolve(server: "b:2", tokenFile: "/t", token: "fromflag", environment: env,
                                                       readFile: { path in path == "/t" ? "  fromfile \n" : "" })
        #expect(fromFile.token == "fromfile" && fromFile.host == "b" && fromFile.port == 2)
        #expect(!fromFile.tokenSource.contains("fromfile"))  // never the token itself
        let fromFlag = try LaunchConfiguration.resolve(server: nil, tokenFile: nil, token: "fromflag", environment: env, readFile: Self.noFile)
        #expect(fromFlag.token == "fromflag" && fromFlag.port == 1)
    }

    @Test("no token: a message pointing at the launcher")
    func missingToken() {
        #expect(throws: LaunchConfiguration.Problem.self) {
            try LaunchConfiguration.resolve(server: nil, tokenFile: nil, token: nil, environment: [:], readFile: Self.noFile)
        }
        do {
            _ = try LaunchConfiguration.resolve(server: nil, tokenFile: nil, token: nil, environment: [:], readFile: Self.noFile)
        } catch {
            #expect(error.description.contains("launcher"))
        }
        #expect(throws: LaunchConfiguration.Problem.self) {
            try LaunchConfiguration.resolve(server: nil, tokenFile: "/nope", token: nil, environment: [:], readFile: Self.noFile)
        }
        #expect(throws: LaunchConfiguration.Problem.self) {
            try LaunchConfiguration.resolve(server: nil, tokenFile: nil, token: nil, environment: ["MMO_SESSION_TOKEN": "  "], readFile: Self.noFile)
        }
    }

    @Test("server addresses: host:port, host alone, IPv6 in brackets; bad ports refused")
    func serverAddresses() throws {
        #expect(try LaunchConfiguration.parseServer("127.0.0.1:7777") == ("127.0.0.1", 7777))
        #expect(try LaunchConfiguration.parseServer("localhost") == ("localhost", 7777))
        #expect(try LaunchConfiguration.parseServer("[::1]:9000") == ("::1", 9000))
        #expect(try LaunchConfiguration.parseServer("::1") == ("::1", 7777))
        #expect(throws: LaunchConfiguration.Problem.self) { try LaunchConfiguration.parseServer("host:0") }
        #expect(throws: LaunchConfiguration.Problem.self) { try LaunchConfiguration.parseServer("host:http") }
        #expect(throws: LaunchConfiguration.Problem.self) { try LaunchConfiguration.parseServer(":7777") }
    }

    @Test("plain mode input splits into lines on LF and CR LF, the last one at end of input")
    func lineSplitter() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("one\r\ntw".utf8)) == ["one"])
        #expect(splitter.feed(Array("o\nthree".utf8)) == ["two"])
        #expect(splitter.finish() == ["three"])
        #expect(splitter.finish() == [])
    }
}
