import Foundation
import NIOCore
import Testing
@testable import MMOProtocol

/// Keeps the worked example in docs/protocol.md true: each hex line there is produced here.
@Suite struct ProtocolDocExampleTests {
    func hex(_ message: ClientMessage) -> String {
        var b = ByteBuffer()
        message.encode(into: &b)
        return b.readableBytesView.map { String(format: "%02X", $0) }.joined(separator: " ")
    }

    func hex(_ message: ServerMessage) -> String {
        var b = ByteBuffer()
        message.encode(into: &b)
        return b.readableBytesView.map { String(format: "%02X", $0) }.joined(separator: " ")
    }

    @Test func workedExampleBytes() {
        #expect(hex(.hello(.init(clientName: "bot"))) == "00 00 00 0D 00 01 4D 4D 4F 52 00 01 00 03 62 6F 74")
        #expect(hex(.helloAck(version: 1, maxClientFrame: 4096)) == "00 00 00 08 80 01 00 01 00 00 10 00")
        #expect(hex(.login(token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345")) ==
            "00 00 00 24 00 10 00 20 41 62 43 64 45 66 47 68 49 6A 4B 6C 4D 6E 4F 70 51 72 53 74 55 76 57 78 59 7A 30 31 32 33 34 35")
        #expect(hex(.loginResult(code: .ok, accountId: "u1", displayName: "Ann")) == "00 00 00 0D 80 10 00 00 00 02 75 31 00 03 41 6E 6E")
        #expect(hex(.characterList) == "00 00 00 02 00 20")
        let arthas = CharacterSummary(id: 7, name: "Arthas", classId: 1, appearance: 0, level: 1, zoneId: 1, x: 500, y: 500)
        #expect(hex(.characterListResult(code: .ok, maxCharacters: 8, characters: [arthas])) ==
            "00 00 00 29 80 20 00 00 08 01 00 00 00 00 00 00 00 07 00 06 41 72 74 68 61 73 01 00 00 00 00 00 01 00 00 00 01 43 FA 00 00 43 FA 00 00")
        #expect(hex(.enterWorld(characterId: 7)) == "00 00 00 0A 00 23 00 00 00 00 00 00 00 07")
        #expect(hex(.enterWorldResult(code: .ok, entry: WorldEntry(entityId: 7, zoneId: 1, x: 500, y: 500, tickRateHz: 20))) ==
            "00 00 00 1A 80 23 00 00 00 00 00 00 00 00 00 07 00 00 00 01 43 FA 00 00 43 FA 00 00 00 14")
        #expect(hex(.move(seq: 1, x: 501, y: 500)) == "00 00 00 0E 00 30 00 00 00 01 43 FA 80 00 43 FA 00 00")
        #expect(hex(.worldUpdate(tick: 1234, events: [.move(entityId: 9, x: 498.5, y: 502)])) ==
            "00 00 00 1D 80 30 00 00 00 00 00 00 04 D2 00 01 02 00 00 00 00 00 00 00 09 43 F9 40 00 43 FB 00 00")
        #expect(hex(.disconnect(code: .loggedInElsewhere, message: "logged in elsewhere")) ==
            "00 00 00 19 80 03 00 0D 00 13 6C 6F 67 67 65 64 20 69 6E 20 65 6C 73 65 77 68 65 72 65")
    }
}
