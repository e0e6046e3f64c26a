import Foundation
import Testing

@testable import MMOLauncher

/// A server written `mmos://HOST:PORT` (TLS) reaches the client as such in `MMO_SERVER`; the
/// plain forms are unchanged.
@Suite("Launching against a TLS server")
struct LaunchTLSTests {
    @Test("mmos:// marks TLS; mmo:// and HOST:PORT stay plain")
    func serverForms() throws {
        let tls = try ServerAddress.parse("mmos://Play.Example.com:7777")
        #expect(tls.host == "play.example.com" && tls.port == 7777 && tls.tls)
        #expect(tls.description == "mmos://play.example.com:7777")
        let v6 = try ServerAddress.parse("mmos://[::1]:7000")
        #expect(v6.isIPv6 && v6.tls && v6.description == "mmos://[::1]:7000")
        let plain = try ServerAddress.parse("mmo://play.example.com:7777")
        #expect(!plain.tls && plain.description == "play.example.com:7777")
        let bare = try ServerAddress.parse("play.example.com:7777")
        #expect(!bare.tls && bare.description == "play.example.com:7777")
        // Everything after the scheme is validated as before.
        #expect(throws: LaunchRequestError.self) { try ServerAddress.parse("mmos://play.example.com") }
        #expect(throws: LaunchRequestError.self) { try ServerAddress.parse("mmos://user@host:7777") }
        #expect(throws: LaunchRequestError.self) { try ServerAddress.parse("mmos://mmos://host:7777") }
        #expect(throws: LaunchRequestError.self) { try ServerAddress.parse("https://host:7777") }
    }

    @Test("a launch URL's server may be mmos:// (percent-encoded)")
    func launchURL() throws {
        let request = try LaunchURLParser().parse("mmo://play?server=mmos%3A%2F%2Fplay.example.com%3A7777&token=\(rawToken)")
        #expect(request.server.tls && request.server.host == "play.example.com" && request.server.port == 7777)
        let fromFlags = try LaunchRequest(server: "mmos://127.0.0.1:7777", token: rawToken)
        #expect(fromFlags.server.tls)
    }

    @Test("MMO_SERVER carries mmos:// to the client; {server} too")
    func environment() throws {
        let request = try LaunchRequest(server: "mmos://play.example.com:7777", token: rawToken)
        let invocation = try ClientLauncher.resolve(
            command: ["/bin/sh", "-c", "true", "{server}", "{host}", "{port}"], request: request, installDirectory: nil, launcherDirectory: nil,
            environment: ["MMO_CA_FILE": "/etc/mmo/ca.pem"])
        #expect(invocation.environment["MMO_SERVER"] == "mmos://play.example.com:7777")
        #expect(invocation.environment["MMO_CA_FILE"] == "/etc/mmo/ca.pem")
        #expect(Array(invocation.arguments.suffix(3)) == ["mmos://play.example.com:7777", "play.example.com", "7777"])
        let plain = try ClientLauncher.resolve(
            command: ["/bin/sh"], request: try LaunchRequest(server: "play.example.com:7777", token: rawToken), installDirectory: nil,
            launcherDirectory: nil, environment: [:])
        #expect(plain.environment["MMO_SERVER"] == "play.example.com:7777")
    }
}
