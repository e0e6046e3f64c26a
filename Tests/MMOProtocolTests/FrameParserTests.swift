import NIOCore
import NIOTestUtils
import Testing
@testable import MMOProtocol

@Suite struct FrameParserTests {
    let parser = FrameParser(maxFrameSize: 64)

    func frame(_ opcode: UInt16, _ body: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(2 + body.count))
        b.writeInteger(opcode)
        b.writeBytes(body)
        return b
    }

    @Test func parsesCompleteFrameAndLeavesRest() throws {
        var buffer = frame(0x0002, [0, 0, 0, 7])
        buffer.writeBytes([0, 0])  // start of the next frame
        let parsed = try #require(try parser.parse(&buffer))
        #expect(parsed.opcode == 0x0002)
        #expect(parsed.body.readableBytes == 4)
        #expect(buffer.readableBytes == 2)
        #expect(try parser.parse(&buffer) == nil)
    }

    @Test func needsMoreDataWithoutConsuming() throws {
        let full = frame(0x0010, Array(repeating: 0x41, count: 10))
        for cut in 0..<full.readableBytes {
            var partial = full.getSlice(at: 0, length: cut)!
            #expect(try parser.parse(&partial) == nil)
            #expect(partial.readableBytes == cut, "a partial frame must not be consumed")
        }
    }

    @Test func refusesOversizeAnnouncementBeforeTheBodyArrives() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(65))  // one over the limit, no body at all
        #expect(throws: ProtocolError.frameTooLarge(length: 65, limit: 64)) { try parser.parse(&buffer) }
        var huge = ByteBuffer()
        huge.writeInteger(UInt32.max)
        #expect(throws: ProtocolError.frameTooLarge(length: Int(UInt32.max), limit: 64)) { try parser.parse(&huge) }
    }

    @Test func refusesFrameShorterThanOpcode() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1))
        buffer.writeInteger(UInt8(0))
        #expect(throws: ProtocolError.frameTooShort(length: 1)) { try parser.parse(&buffer) }
    }

    @Test func decoderHandlesAnySplit() throws {
        var messages: [ClientMessage] = [
            .hello(.init(clientName: "bot")), .login(token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
            .characterList, .move(seq: 9, x: 1.5, y: -2.25), .say(text: "héllo wörld"),
        ]
        var input = ByteBuffer()
        for m in messages { m.encode(into: &input) }
        var expected: [(ByteBuffer, [Frame])] = []
        var copy = input
        var frames: [Frame] = []
        let big = FrameParser(maxFrameSize: 4096)
        while let f = try big.parse(&copy) { frames.append(f) }
        expected.append((input, frames))
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: expected,
            decoderFactory: { FrameDecoder(maxFrameSize: 4096) }
        )
        messages.removeAll()
        for f in frames { messages.append(try ClientMessage.decode(f)) }
        #expect(messages.count == 5)
    }
}
