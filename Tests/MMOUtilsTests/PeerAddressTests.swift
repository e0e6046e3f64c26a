import Testing
@testable import MMOUtils

@Suite struct PeerAddressTests {
    @Test func parsesHostsAndPorts() throws {
        #expect(try PeerAddress(parsing: "127.0.0.1:50051") == PeerAddress(host: "127.0.0.1", port: 50051))
        #expect(try PeerAddress(parsing: "auth.mmo.svc.cluster.local:50052") == PeerAddress(host: "auth.mmo.svc.cluster.local", port: 50052))
        #expect(try PeerAddress(parsing: "[::1]:7") == PeerAddress(host: "::1", port: 7))
        #expect(PeerAddress(host: "::1", port: 7).description == "[::1]:7")
    }

    @Test(arguments: ["", "host", "host:", ":80", "host:0", "host:65536", "host:http", "host:-1"])
    func refusesBadAddresses(_ input: String) {
        #expect(throws: PeerAddress.ParseError.self) { try PeerAddress(parsing: input) }
    }
}
