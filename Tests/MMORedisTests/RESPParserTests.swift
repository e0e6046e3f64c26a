import NIOCore
import Testing

@testable import MMORedis

/// Feeds `chunks` to a parser the way `ByteToMessageHandler` does: appending to one cumulation
/// buffer, draining all complete values after each chunk, and now and then compacting.
func parseAll(_ chunks: [ByteBuffer], limits: RESPParser.Limits = .init()) throws -> [RESPValue] {
    var parser = RESPParser(limits: limits)
    var cumulation = ByteBuffer()
    var values: [RESPValue] = []
    for (index, chunk) in chunks.enumerated() {
        var chunk = chunk
        cumulation.writeBuffer(&chunk)
        while let value = try parser.next(from: &cumulation) {
            values.append(value)
        }
        if index % 3 == 0 {
            cumulation.discardReadBytes()
        }
    }
    #expect(cumulation.readableBytes == 0, "bytes left over")
    return values
}

/// Splits `bytes` into pieces of `size` bytes (the last one may be shorter).
func chunked(_ bytes: ByteBuffer, size: Int) -> [ByteBuffer] {
    var bytes = bytes
    var chunks: [ByteBuffer] = []
    while bytes.readableBytes > 0 {
        chunks.append(bytes.readSlice(length: min(size, bytes.readableBytes))!)
    }
    return chunks
}

/// Every way of cutting `bytes` in two.
func allTwoWaySplits(_ bytes: ByteBuffer) -> [[ByteBuffer]] {
    (0...bytes.readableBytes).map { cut in
        [bytes.getSlice(at: bytes.readerIndex, length: cut)!,
         bytes.getSlice(at: bytes.readerIndex + cut, length: bytes.readableBytes - cut)!]
    }
}

func bulk(_ string: String) -> RESPValue {
    .bulkString(ByteBuffer(string: string))
}

struct RESPParserTests {
    /// Each case: wire bytes and the value they mean.
    static let cases: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("-ERR unknown command 'FOO'\r\n", .error("ERR unknown command 'FOO'")),
        ("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
         .error("WRONGTYPE Operation against a key holding the wrong kind of value")),
        (":0\r\n", .integer(0)),
        (":1000\r\n", .integer(1000)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$5\r\nhello\r\n", bulk("hello")),
        ("$0\r\n\r\n", bulk("")),
        ("$-1\r\n", .bulkString(nil)),
        ("$4\r\na\r\nb\r\n", bulk("a\r\nb")),  // CRLF inside a bulk string is payload
        ("$5\r\n\u{E9}t\u{E9}\r\n", bulk("\u{E9}t\u{E9}")),  // byte count, not characters
        ("*0\r\n", .array([])),
        ("*-1\r\n", .array(nil)),
        ("*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n", .array([.integer(1), bulk("foo"), .simpleString("bar")])),
        ("*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$-1\r\n", .array([.array([.integer(1), .integer(2)]), .array([.bulkString(nil)])])),
        ("*3\r\n*0\r\n*-1\r\n-ERR inner\r\n", .array([.array([]), .array(nil), .error("ERR inner")])),
        ("*1\r\n*1\r\n*1\r\n*1\r\n:7\r\n", .array([.array([.array([.array([.integer(7)])])])])),
    ]

    @Test(arguments: 0..<Self.cases.count)
    func decodesInOnePiece(caseIndex: Int) throws {
        let (wire, expected) = Self.cases[caseIndex]
        #expect(try parseAll([ByteBuffer(string: wire)]) == [expected])
    }

    @Test(arguments: 0..<Self.cases.count)
    func decodesByteByByte(caseIndex: Int) throws {
        let (wire, expected) = Self.cases[caseIndex]
        #expect(try parseAll(chunked(ByteBuffer(string: wire), size: 1)) == [expected])
    }

    @Test(arguments: 0..<Self.cases.count)
    func decodesWhenSplitAnywhere(caseIndex: Int) throws {
        let (wire, expected) = Self.cases[caseIndex]
        for split in allTwoWaySplits(ByteBuffer(string: wire)) {
            #expect(try parseAll(split) == [expected])
        }
    }

    @Test func decodesAllCasesBackToBackInOddChunks() throws {
        let stream = ByteBuffer(string: Self.cases.map(\.0).joined())
        let expected = Self.cases.map(\.1)
        for size in [1, 2, 3, 5, 7, 11, 64, 1000] {
            #expect(try parseAll(chunked(stream, size: size)) == expected, "chunk size \(size)")
        }
    }

    @Test func returnsNilUntilComplete() throws {
        var parser = RESPParser()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nfo")
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString("o\r\n")
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString(":1\r\n+extra")
        #expect(try parser.next(from: &buffer) == .array([bulk("foo"), .integer(1)]))
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString("\r\n")
        #expect(try parser.next(from: &buffer) == .simpleString("extra"))
        #expect(buffer.readableBytes == 0)
    }

    @Test func binaryBulkStringIsPreservedExactly() throws {
        var payload = ByteBuffer()
        payload.writeBytes((0...255).map { UInt8($0) })
        payload.writeBytes([13, 10, 13, 10, 0])
        var wire = ByteBuffer()
        RESPEncoder.write(.bulkString(payload), into: &wire)
        for size in [1, 4, 100] {
            #expect(try parseAll(chunked(wire, size: size)) == [.bulkString(payload)])
        }
    }

    // MARK: Protocol errors

    static let malformed: [(String, String)] = [
        ("unknown type byte", "?what\r\n"),
        ("LF without CR", "+OK\n"),
        ("empty line", "\r\n"),
        ("integer with letters", ":12a\r\n"),
        ("integer without digits", ":-\r\n"),
        ("empty integer", ":\r\n"),
        ("integer overflow", ":9223372036854775808\r\n"),
        ("integer underflow", ":-9223372036854775809\r\n"),
        ("bulk length -2", "$-2\r\n"),
        ("bulk length not a number", "$x\r\n"),
        ("bulk without CRLF after payload", "$3\r\nfooXY"),
        ("array length -5", "*-5\r\n"),
        ("bulk over 512 MiB", "$536870913\r\n"),
    ]

    @Test(arguments: 0..<Self.malformed.count)
    func rejectsMalformedInput(caseIndex: Int) {
        let (name, wire) = Self.malformed[caseIndex]
        #expect(throws: RESPParser.Error.self, "\(name)") {
            _ = try parseAll([ByteBuffer(string: wire)])
        }
        #expect(throws: RESPParser.Error.self, "\(name), byte by byte") {
            _ = try parseAll(chunked(ByteBuffer(string: wire), size: 1))
        }
    }

    @Test func acceptsBulkStringOfExactly512MiBHeader() throws {
        // Only the header: the parser must accept the length and wait for the payload.
        var parser = RESPParser()
        var buffer = ByteBuffer(string: "$536870912\r\n")
        #expect(try parser.next(from: &buffer) == nil)
    }

    @Test func enforcesNestingLimit() throws {
        let limits = RESPParser.Limits(maximumNestingDepth: 32)
        let ok = String(repeating: "*1\r\n", count: 32) + ":1\r\n"
        var expected = RESPValue.integer(1)
        for _ in 0..<32 { expected = .array([expected]) }
        #expect(try parseAll([ByteBuffer(string: ok)], limits: limits) == [expected])

        let tooDeep = String(repeating: "*1\r\n", count: 33) + ":1\r\n"
        #expect(throws: RESPParser.Error.self) {
            _ = try parseAll([ByteBuffer(string: tooDeep)], limits: limits)
        }
    }

    @Test func enforcesBulkLimit() throws {
        let limits = RESPParser.Limits(maximumBulkStringLength: 10)
        #expect(try parseAll([ByteBuffer(string: "$10\r\n0123456789\r\n")], limits: limits) == [bulk("0123456789")])
        #expect(throws: RESPParser.Error.self) {
            _ = try parseAll([ByteBuffer(string: "$11\r\n")], limits: limits)
        }
    }

    @Test func enforcesLineLimitEvenWithoutTerminator() throws {
        let limits = RESPParser.Limits(maximumLineLength: 16)
        #expect(throws: RESPParser.Error.self) {
            _ = try parseAll(chunked(ByteBuffer(string: "+" + String(repeating: "a", count: 100)), size: 1), limits: limits)
        }
        #expect(throws: RESPParser.Error.self) {
            _ = try parseAll([ByteBuffer(string: "+" + String(repeating: "a", count: 17) + "\r\n")], limits: limits)
        }
        #expect(try parseAll([ByteBuffer(string: "+" + String(repeating: "a", count: 16) + "\r\n")], limits: limits)
            == [.simpleString(String(repeating: "a", count: 16))])
    }

    // MARK: Large replies

    /// A 50,000-element array fed in small pieces. A parser that restarts from the top of the
    /// reply on every read does ~10^9 steps here and would not finish; ours is linear.
    @Test func largeArrayInSmallPiecesIsLinear() throws {
        let count = 50_000
        var wire = ByteBuffer()
        RESPEncoder.write(.array((0..<count).map { .integer(Int64($0)) }), into: &wire)
        let clock = ContinuousClock()
        let start = clock.now
        let values = try parseAll(chunked(wire, size: 16))
        let elapsed = clock.now - start
        #expect(values.count == 1)
        #expect(values.first?.arrayValue?.count == count)
        #expect(values.first?.arrayValue?.last == .integer(Int64(count - 1)))
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func largeBulkStringInSmallPiecesIsLinear() throws {
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0x61, count: 16 * 1024 * 1024)
        var wire = ByteBuffer()
        RESPEncoder.write(.bulkString(payload), into: &wire)
        let clock = ContinuousClock()
        let start = clock.now
        let values = try parseAll(chunked(wire, size: 1024))
        let elapsed = clock.now - start
        #expect(values == [.bulkString(payload)])
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func longSimpleStringByteByByteIsLinear() throws {
        let text = String(repeating: "x", count: 60_000)
        let values = try parseAll(chunked(ByteBuffer(string: "+\(text)\r\n"), size: 1))
        #expect(values == [.simpleString(text)])
    }

    // MARK: Round trip

    @Test func randomValuesRoundTrip() throws {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &generator)
            var wire = ByteBuffer()
            RESPEncoder.write(value, into: &wire)
            let size = Int.random(in: 1...9, using: &generator)
            #expect(try parseAll(chunked(wire, size: size)) == [value])
        }
    }

    static func randomValue(depth: Int, using generator: inout SplitMix64) -> RESPValue {
        switch Int.random(in: 0..<(depth < 4 ? 7 : 5), using: &generator) {
        case 0: return .simpleString(String(repeating: "s", count: Int.random(in: 0...20, using: &generator)))
        case 1: return .error("ERR " + String(repeating: "e", count: Int.random(in: 0...20, using: &generator)))
        case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
        case 3:
            var buffer = ByteBuffer()
            buffer.writeBytes((0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            return .bulkString(buffer)
        case 4: return .bulkString(nil)
        case 5: return .array(nil)
        default:
            return .array((0..<Int.random(in: 0...5, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        }
    }
}

/// A seedable generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
