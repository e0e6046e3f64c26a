import MMOProtocol
import MMOTestSupport
import NIOCore
import Testing
@testable import PacketService

/// Per-address limits over real TCP: every client here comes from 127.0.0.1, so the tests clear
/// the loopback exemption (except the one that checks it).
@Suite(.timeLimit(.minutes(1))) struct AddressLimitLiveTests {
    static func limited(connections: Int = 10) -> PacketServerConfiguration {
        var configuration = PacketServerConfiguration.test
        configuration.maxConnectionsPerAddress = connections
        configuration.maxFailedLogins = 2
        configuration.maxFailedLoginsPerAddress = 4
        configuration.addressLimitExempt = []
        return configuration
    }

    @Test func oneAddressCannotHoldMoreThanItsConnectionLimit() async throws {
        try await withLiveServer(configuration: Self.limited(connections: 2)) { server, _ in
            let port = server.localPort!
            try await withRawClient(port: port) { a in
                try await a.hello()
                try await withRawClient(port: port) { b in
                    try await b.hello()
                    try await withRawClient(port: port) { (c: inout RawClient) async throws in
                        #expect(try await c.receive() == .disconnect(code: .tooManyConnections, message: "too many connections from your address"))
                        #expect(try await c.receive() == nil)
                    }
                }
                // b is gone: its slot is free again.
                try await eventually { server.connectionCount == 1 }
                try await withRawClient(port: port) { d in
                    try await d.logIn("d")
                }
                try await a.logIn(afterHello: "a")
            }
        }
    }

    @Test func failedLoginsFromOneAddressBlockItAcrossReconnects() async throws {
        try await withLiveServer(configuration: Self.limited()) { server, _ in
            let port = server.localPort!
            try await withRawClient(port: port) { player in
                try await player.logIn("player")
                try await withRawClient(port: port) { waiting in
                    try await waiting.hello()
                    // Two connections, two failures each: reconnecting does not reset the count.
                    for _ in 0..<2 {
                        try await withRawClient(port: port) { guesser in
                            try await guesser.hello()
                            try await guesser.send(.login(token: "guess"))
                            #expect(try await guesser.receive() == .loginResult(code: .tokenUnknown, accountId: "", displayName: ""))
                            try await guesser.send(.login(token: "guess"))
                            #expect(try await guesser.receive() == .loginResult(code: .tokenUnknown, accountId: "", displayName: ""))
                            #expect(try await guesser.receive() == .disconnect(code: .rateLimited, message: "too many failed logins"))
                        }
                    }
                    // The address is blocked: new connections are refused ...
                    try await withRawClient(port: port) { (next: inout RawClient) async throws in
                        #expect(try await next.receive() == .disconnect(code: .addressBlocked, message: "too many failed logins from your address"))
                        #expect(try await next.receive() == nil)
                    }
                    // ... and so is a LOGIN on a connection opened before, even a valid one.
                    try await waiting.send(.login(token: "token-waiting"))
                    #expect(try await waiting.receive() == .disconnect(code: .addressBlocked, message: "too many failed logins from your address"))
                    #expect(try await waiting.receive() == nil)
                }
                // A player logged in before the block keeps playing.
                try await player.send(.ping(nonce: 9))
                #expect(try await player.receive() == .pong(nonce: 9))
            }
        }
    }

    @Test func loopbackIsExemptByDefault() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.maxConnectionsPerAddress = 1
        #expect(configuration.addressLimitExempt == PacketServerConfiguration.loopback)
        try await withLiveServer(configuration: configuration) { server, _ in
            let port = server.localPort!
            try await withRawClient(port: port) { a in
                try await a.logIn("a")
                try await withRawClient(port: port) { b in
                    try await b.logIn("b")
                }
            }
        }
    }
}

extension RawClient {
    mutating func hello() async throws {
        try await send(.hello(.init(clientName: "raw")))
        #expect(try await receive() == .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
    }

    mutating func logIn(afterHello accountId: String) async throws {
        try await send(.login(token: "token-\(accountId)"))
        #expect(try await receive() == .loginResult(code: .ok, accountId: accountId, displayName: "Name \(accountId)"))
    }
}
