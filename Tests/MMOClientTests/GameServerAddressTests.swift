import MMOClient
import Testing

@Suite struct GameServerAddressTests {
    @Test func formsPlayersWrite() throws {
        #expect(try GameServerAddress.parse("mmos://game.example:7000") == GameServerAddress(host: "game.example", port: 7000, tls: true))
        #expect(try GameServerAddress.parse("MMOS://game.example:7000/") == GameServerAddress(host: "game.example", port: 7000, tls: true))
        #expect(try GameServerAddress.parse("mmo://game.example:7000") == GameServerAddress(host: "game.example", port: 7000))
        #expect(try GameServerAddress.parse("game.example:7000") == GameServerAddress(host: "game.example", port: 7000))
        #expect(try GameServerAddress.parse("game.example") == GameServerAddress(host: "game.example", port: 7777))
        #expect(try GameServerAddress.parse("mmos://[::1]:9000") == GameServerAddress(host: "::1", port: 9000, tls: true))
        #expect(try GameServerAddress.parse("::1") == GameServerAddress(host: "::1", port: 7777))
        #expect(GameServerAddress(host: "::1", port: 9000, tls: true).description == "mmos://[::1]:9000")
        #expect(GameServerAddress(host: "h", port: 1).description == "h:1")
    }

    @Test(arguments: ["", "https://h:1", "mmos://", "mmos://h:0", "h:http", ":7777", "mmos://user@h:1", "mmos://h:1/path"])
    func refused(_ text: String) {
        #expect(throws: GameServerAddress.Problem.self) { try GameServerAddress.parse(text) }
    }
}
