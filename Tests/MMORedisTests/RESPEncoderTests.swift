import NIOCore
import Testing

@testable import MMORedis

struct RESPEncoderTests {
    @Test func encodesStringCommand() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["SET", "key", "value", "PX", "1000"], into: &buffer)
        #expect(String(buffer: buffer) == "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nPX\r\n$4\r\n1000\r\n")
    }

    @Test func encodesEmptyArgumentAndMultibyteCharactersByByteCount() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["ECHO", "", "h\u{E9}"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$3\r\nh\u{E9}\r\n")
    }

    @Test func encodesBinaryArgumentsVerbatim() {
        let binary = ByteBuffer(bytes: [0, 13, 10, 255, 36, 42])
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "k"), binary], into: &buffer)
        var expected = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n")
        expected.writeBytes([0, 13, 10, 255, 36, 42])
        expected.writeString("\r\n")
        #expect(buffer == expected)
    }

    @Test func stringAndBufferEncodingsAgree() {
        let arguments = ["HSET", "user:1", "name", "\u{1F600} emoji", String(repeating: "z", count: 1234)]
        var fromStrings = ByteBuffer()
        RESPEncoder.writeCommand(arguments, into: &fromStrings)
        var fromBuffers = ByteBuffer()
        RESPEncoder.writeCommand(arguments.map { ByteBuffer(string: $0) }, into: &fromBuffers)
        #expect(fromStrings == fromBuffers)
    }

    @Test(arguments: [0, 1, 9, 10, 11, 99, 100, 12345, 1_000_000, 536_870_912, Int.max])
    func writesDecimalLengths(value: Int) {
        var buffer = ByteBuffer()
        buffer.writeDecimal(value)
        #expect(String(buffer: buffer) == String(value))
    }

    @Test func encodedCommandParsesAsArrayOfBulkStrings() throws {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["GET", "k"], into: &buffer)
        var parser = RESPParser()
        #expect(try parser.next(from: &buffer) == .array([bulk("GET"), bulk("k")]))
    }

    @Test func encodesNullsAndNesting() {
        var buffer = ByteBuffer()
        RESPEncoder.write(.array([.bulkString(nil), .array(nil), .array([.integer(-1)]), .simpleString("OK"), .error("ERR x")]), into: &buffer)
        #expect(String(buffer: buffer) == "*5\r\n$-1\r\n*-1\r\n*1\r\n:-1\r\n+OK\r\n-ERR x\r\n")
    }
}
