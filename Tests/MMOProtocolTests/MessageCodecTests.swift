import NIOCore
import Testing
@testable import MMOProtocol

@Suite struct MessageCodecTests {
    func roundTrip(_ message: ClientMessage) throws -> ClientMessage {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        let frame = try #require(try FrameParser(maxFrameSize: 4096).parse(&buffer))
        #expect(buffer.readableBytes == 0)
        return try ClientMessage.decode(frame)
    }

    func roundTrip(_ message: ServerMessage) throws -> ServerMessage {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        let frame = try #require(try FrameParser(maxFrameSize: ProtocolLimits.maxServerFrame).parse(&buffer))
        return try ServerMessage.decode(frame)
    }

    @Test(arguments: [
        ClientMessage.hello(.init(clientName: "mmo-bot/1")), .ping(nonce: 0xDEAD_BEEF), .logout,
        .login(token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345"), .resume(token: "r3sumeT0ken_-xyz"), .characterList,
        .characterCreate(name: "Arthas", classId: 2, appearance: 0x0102_0304),
        .characterDelete(characterId: 1 << 40), .enterWorld(characterId: 42),
        .move(seq: 7, x: 500.5, y: -0.125), .say(text: "hello 🌍"), .leaveWorld,
    ])
    func clientMessagesRoundTrip(_ message: ClientMessage) throws {
        #expect(try roundTrip(message) == message)
    }

    @Test func serverMessagesRoundTrip() throws {
        let summary = CharacterSummary(id: 3, name: "Jaina", classId: 2, appearance: 7, level: 12, zoneId: 1, x: 1, y: 2)
        let messages: [ServerMessage] = [
            .helloAck(version: ProtocolLimits.version, maxClientFrame: 4096), .pong(nonce: 5),
            .disconnect(code: .loggedInElsewhere, message: "logged in elsewhere"),
            .error(requestOpcode: Opcode.move.rawValue, code: .illegalState),
            .loginResult(code: .ok, accountId: "u1", displayName: "Ann"),
            .characterListResult(code: .ok, maxCharacters: 8, characters: [summary, summary]),
            .characterCreateResult(code: .ok, character: summary, detail: ""),
            .characterCreateResult(code: .nameInvalid, character: nil, detail: "name may contain only the letters A-Z"),
            .characterDeleteResult(code: .characterNotFound, characterId: 9),
            .enterWorldResult(code: .ok, entry: WorldEntry(entityId: 3, zoneId: 1, x: 10, y: 20, tickRateHz: 20)),
            .enterWorldResult(code: .zoneUnavailable, entry: nil),
            .worldUpdate(tick: 99, events: [
                .appear(.init(entityId: 1, name: "A", classId: 1, appearance: 0, level: 1, x: 1, y: 1)),
                .move(entityId: 1, x: 2, y: 3), .disappear(entityId: 4),
                .chat(entityId: 1, name: "A", text: "hi"), .correction(seq: 3, x: 1, y: 1, reason: .moveTooFast),
            ]),
            .leftWorld(code: .ok),
            .resumeResult(code: .ok, session: ResumedSession(
                accountId: "u1", displayName: "Ann", characterId: 7,
                entry: WorldEntry(entityId: 42, zoneId: 1, x: 500, y: 501.5, tickRateHz: 20))),
            .resumeResult(code: .resumeRejected, session: nil),
            .resumeToken(token: "r3sumeT0ken_-xyz", graceSeconds: 60),
            .viewReset(entityId: 77, zoneId: 1, x: 12.5, y: -3),
        ]
        for m in messages { #expect(try roundTrip(m) == m) }
    }

    func frame(_ opcode: Opcode, _ body: [UInt8]) -> Frame {
        Frame(opcode: opcode.rawValue, body: ByteBuffer(bytes: body))
    }

    @Test func resumeMessagesHaveTheDocumentedLayout() throws {
        // RESUME_RESULT refused: code 25 then empty strings and zero fields (2+2+2+8+8+4+4+4+2 bytes).
        var buffer = ByteBuffer()
        ServerMessage.resumeResult(code: .resumeRejected, session: nil).encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 38, 0x80, 0x11, 0, 25] + [UInt8](repeating: 0, count: 34))
        // A resume token over 128 bytes makes RESUME malformed.
        let long = [UInt8](repeating: 0x41, count: 129)
        #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame(.resume, [0, 129] + long)) }
    }

    @Test func malformedBodiesAreRefused() {
        // truncated ping
        #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame(.ping, [0, 1])) }
        // trailing byte after ping
        #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame(.ping, [0, 0, 0, 1, 9])) }
        // string length beyond the body
        #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame(.login, [0, 10, 0x41])) }
        // invalid UTF-8
        #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame(.say, [0, 2, 0xC3, 0x28])) }
        // NaN in a move
        let nan = Float.nan.bitPattern
        #expect(throws: ProtocolError.self) {
            try ClientMessage.decode(frame(.move, [0, 0, 0, 1] + withUnsafeBytes(of: nan.bigEndian, Array.init) + [0, 0, 0, 0]))
        }
        // a string longer than its field's limit (client name in HELLO)
        let longName = [UInt8](repeating: 0x61, count: ProtocolLimits.maxClientNameBytes + 1)
        #expect(throws: ProtocolError.self) {
            try ClientMessage.decode(frame(.hello, [0x4D, 0x4D, 0x4F, 0x52, 0, 1, 0, UInt8(longName.count)] + longName))
        }
        // a server opcode sent by a client
        #expect(throws: ProtocolError.unknownOpcode(Opcode.pong.rawValue)) { try ClientMessage.decode(frame(.pong, [0, 0, 0, 0])) }
        #expect(throws: ProtocolError.unknownOpcode(0x7777)) { try ClientMessage.decode(Frame(opcode: 0x7777, body: ByteBuffer())) }
    }

    @Test func overLongChatDecodesSoTheGatewayCanRefuseIt() throws {
        // CHAT_TOO_LONG is a refusal the connection survives, so SAY's text is bounded only by
        // the frame here; the gateway's state machine applies maxChatBytes.
        let long = [UInt8](repeating: 0x61, count: ProtocolLimits.maxChatBytes + 1)
        let message = try ClientMessage.decode(frame(.say, [0x01, 0x01] + long))
        #expect(message == .say(text: String(repeating: "a", count: ProtocolLimits.maxChatBytes + 1)))
    }

    @Test func serverStringsNeverExceedTheirDocumentedLimits() throws {
        // roundTrip decodes with the same limits, so an over-long string would throw there.
        let huge = String(repeating: "é", count: 40_000)  // 80,000 bytes: more than a u16 length
        guard case .disconnect(_, let message) = try roundTrip(.disconnect(code: .ok, message: huge)) else {
            Issue.record("not a DISCONNECT"); return
        }
        #expect(message.utf8.count == ProtocolLimits.maxMessageBytes)
        guard case .loginResult(_, let account, let display) = try roundTrip(.loginResult(code: .ok, accountId: huge, displayName: huge)) else {
            Issue.record("not a LOGIN_RESULT"); return
        }
        #expect(account.utf8.count <= ProtocolLimits.maxAccountIdBytes && display.utf8.count <= ProtocolLimits.maxDisplayNameBytes)
        #expect(!display.isEmpty && display.allSatisfy { $0 == "é" })
        let chat = WorldEvent.chat(entityId: 1, name: huge, text: huge)
        guard case .worldUpdate(_, let events) = try roundTrip(.worldUpdate(tick: 1, events: [chat])),
              case .chat(_, let name, let text) = events.first else {
            Issue.record("not a CHAT"); return
        }
        #expect(name.utf8.count <= ProtocolLimits.maxCharacterNameBytes && text.utf8.count <= ProtocolLimits.maxChatBytes)
    }

    @Test func wireStringsClampInsteadOfTrapping() {
        var b = ByteBuffer()
        b.writeWireString(String(repeating: "x", count: 70_000))
        #expect(b.readInteger(as: UInt16.self) == UInt16.max)
        #expect(b.readableBytes == Int(UInt16.max))
    }

    @Test func resultCodesAreStableAndUnique() {
        let values = ResultCode.all.map(\.0.rawValue)
        #expect(Set(values).count == values.count)
        #expect(ResultCode.loggedInElsewhere.rawValue == 13)
        #expect(ResultCode.tokenExpired.rawValue == 22)
        #expect(ResultCode.nameTaken.rawValue == 31)
        #expect(ResultCode(rawValue: 9999).name == "UNKNOWN_9999")
    }

    @Test func truncationNeverSplitsACharacter() {
        #expect("héllo".truncatedUTF8(maxBytes: 2) == "h")
        #expect("héllo".truncatedUTF8(maxBytes: 3) == "hé")
        #expect("abc".truncatedUTF8(maxBytes: 10) == "abc")
    }
}
