import NIOCore

/// The oracle behind the libFuzzer targets in `Fuzz/` and the regression replay in
/// `Tests/MMOProtocolTests/FuzzRegressionTests.swift`: one copy, so a crash input replayed by
/// the test suite meets exactly the checks the fuzzer ran.
///
/// Beyond "never crashes", it asserts properties whose failure is a logic bug:
/// - the frame parser gives the same frames, the same error and the same leftover bytes
///   whatever way the stream is split into reads (as `ByteToMessageHandler` feeds it), and a
///   partial frame consumes nothing;
/// - a decode error names the frame's own opcode;
/// - a decoded message re-encodes to exactly the bytes it came from (the encoding is canonical),
///   and decodes again to an equal message.
public enum DecoderFuzzCheck {
    /// A fuzz target; the raw value names its corpus and regression folders.
    public enum Target: String, CaseIterable, Sendable {
        /// Input: one byte choosing how the rest is split into reads, then a client byte stream.
        case frameStream = "frame-stream"
        /// Input: a big-endian u16 opcode, then a message body (a frame without its length).
        case clientMessage = "client-message"
    }

    /// What the input came to: the messages decoded, and the protocol error that would close the
    /// connection (nil when everything was accepted; an incomplete final frame is not an error).
    public struct Outcome: Sendable, Equatable {
        public var decodedOpcodes: [UInt16]
        public var rejection: ProtocolError?

        public init(decodedOpcodes: [UInt16] = [], rejection: ProtocolError? = nil) {
            self.decodedOpcodes = decodedOpcodes
            self.rejection = rejection
        }
    }

    /// A broken property: a bug even though nothing crashed.
    public struct Violation: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The frame limit the checks parse with: the server's default.
    public static let maxFrameSize = ProtocolLimits.defaultMaxClientFrame

    /// Runs one input through `target`'s checks. A crash here is a decoder bug as much as a
    /// thrown `Violation` is.
    public static func check(_ target: Target, input: ByteBuffer) throws(Violation) -> Outcome {
        switch target {
        case .frameStream: try checkFrameStream(input)
        case .clientMessage: try checkClientMessage(input)
        }
    }

    /// The body of a libFuzzer `LLVMFuzzerTestOneInput`: a violated property traps, which
    /// libFuzzer records as a crash with its input.
    public static func fuzzOne(_ target: Target, _ start: UnsafeRawPointer?, _ count: Int) -> CInt {
        let input = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count))
        do {
            _ = try check(target, input: input)
        } catch {
            fatalError("\(target.rawValue): \(error.description)")
        }
        return 0
    }

    // MARK: - frame stream

    static func checkFrameStream(_ input: ByteBuffer) throws(Violation) -> Outcome {
        var stream = input
        guard let splitSeed = stream.readInteger(as: UInt8.self) else { return Outcome() }
        let parser = FrameParser(maxFrameSize: maxFrameSize)

        // Reference: the whole stream arrives in one read.
        var whole = stream
        var expected: [Frame] = []
        let expectedError = try drain(parser, &whole, into: &expected)

        // As the server sees it: arbitrary reads appended to one cumulation buffer, parsed after
        // each read until a frame is incomplete, the buffer sometimes compacted in between.
        var reads = ReadSplitter(seed: splitSeed)
        var cumulation = ByteBuffer()
        var frames: [Frame] = []
        var error: ProtocolError?
        while stream.readableBytes > 0, error == nil {
            var chunk = stream.readSlice(length: min(reads.nextLength(), stream.readableBytes))!
            cumulation.writeBuffer(&chunk)
            error = try drain(parser, &cumulation, into: &frames)
            if reads.compactNow() { cumulation.discardReadBytes() }
        }
        guard frames == expected, error == expectedError else {
            throw Violation(description: "split \(splitSeed) gave \(frames.count) frames and \(String(describing: error)); "
                + "one read gave \(expected.count) frames and \(String(describing: expectedError))")
        }
        if error == nil, cumulation != whole {
            throw Violation(description: "split \(splitSeed) left \(cumulation.readableBytes) bytes, one read \(whole.readableBytes)")
        }

        var outcome = Outcome()
        for frame in frames {
            if let rejection = try checkMessage(frame) {
                outcome.rejection = outcome.rejection ?? rejection
            } else {
                outcome.decodedOpcodes.append(frame.opcode)
            }
        }
        if let error { outcome.rejection = outcome.rejection ?? error }
        return outcome
    }

    /// Parses frames until one is incomplete (nil) or the stream is refused (the error).
    private static func drain(_ parser: FrameParser, _ buffer: inout ByteBuffer, into frames: inout [Frame]) throws(Violation) -> ProtocolError? {
        while true {
            // Indices, not contents, are compared below: comparing the bytes after every read
            // made the check quadratic in the stream's length.
            let before = buffer
            let frame: Frame?
            do {
                frame = try parser.parse(&buffer)
            } catch {
                switch error {
                case .frameTooLarge(let length, let limit) where length > limit && limit == parser.maxFrameSize: return error
                case .frameTooShort(let length) where length < 2: return error
                default: throw Violation(description: "the parser threw \(error), which its input does not explain")
                }
            }
            guard let frame else {
                guard buffer.readerIndex == before.readerIndex, buffer.writerIndex == before.writerIndex else {
                    throw Violation(description: "an incomplete frame consumed bytes")
                }
                return nil
            }
            let consumed = before.readableBytes - buffer.readableBytes
            guard consumed == ProtocolLimits.frameHeaderSize + frame.body.readableBytes,
                  before.getInteger(at: before.readerIndex, as: UInt32.self) == UInt32(consumed - 4) else {
                throw Violation(description: "a frame of \(frame.body.readableBytes) body bytes consumed \(consumed) bytes")
            }
            frames.append(frame)
        }
    }

    // MARK: - one message

    static func checkClientMessage(_ input: ByteBuffer) throws(Violation) -> Outcome {
        var body = input
        guard let opcode = body.readInteger(as: UInt16.self) else { return Outcome() }
        // `body` stays a slice at a non-zero reader index, as a real frame's body is.
        let frame = Frame(opcode: opcode, body: body)
        if let rejection = try checkMessage(frame) { return Outcome(rejection: rejection) }
        return Outcome(decodedOpcodes: [opcode])
    }

    /// Decodes one frame and checks the round trip; returns the decode error, if any.
    private static func checkMessage(_ frame: Frame) throws(Violation) -> ProtocolError? {
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(frame)
        } catch {
            switch error {
            case .unknownOpcode(let opcode) where opcode == frame.opcode: return error
            case .malformed(let opcode, _) where opcode == frame.opcode: return error
            default: throw Violation(description: "decoding opcode \(hex(frame.opcode)) threw \(error)")
            }
        }
        guard message.opcode.rawValue == frame.opcode else {
            throw Violation(description: "opcode \(hex(frame.opcode)) decoded as \(message.opcode)")
        }
        var original = ByteBuffer()
        original.writeFrame(opcode: message.opcode, body: frame.body)
        var encoded = ByteBuffer()
        message.encode(into: &encoded)
        guard encoded == original else {
            throw Violation(description: "\(message.opcode) re-encoded to \(encoded.readableBytes) bytes "
                + "that differ from its \(original.readableBytes) wire bytes")
        }
        let reparsed: Frame?
        do {
            reparsed = try FrameParser(maxFrameSize: Int(UInt32.max)).parse(&encoded)
        } catch {
            throw Violation(description: "\(message.opcode) re-encoded to a frame the parser refuses: \(error)")
        }
        guard let reparsed, encoded.readableBytes == 0 else {
            throw Violation(description: "\(message.opcode) re-encoded to an incomplete frame")
        }
        let again: ClientMessage
        do {
            again = try ClientMessage.decode(reparsed)
        } catch {
            throw Violation(description: "\(message.opcode) re-encoded to bytes that do not decode: \(error)")
        }
        guard again == message else {
            throw Violation(description: "\(message.opcode) changed in a decode-encode-decode round trip")
        }
        return nil
    }

    private static func hex(_ opcode: UInt16) -> String {
        "0x" + String(opcode, radix: 16)
    }

    /// Read sizes for one split of a stream, from a one-byte seed: 0 delivers the stream in one
    /// read; seeds below 0x80 give reads of 1-16 bytes, so frames straddle reads at every
    /// offset; higher seeds give reads of up to 1,024 bytes, several frames to a read.
    private struct ReadSplitter {
        private var state: UInt32
        private let maxRead: UInt32

        init(seed: UInt8) {
            maxRead = seed == 0 ? 0 : seed < 0x80 ? 16 : 1024
            state = UInt32(seed) &* 0x9E37_79B9 | 1
        }

        /// xorshift32: small, deterministic, and fine for choosing split points.
        private mutating func next() -> UInt32 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return state
        }

        mutating func nextLength() -> Int {
            maxRead == 0 ? Int.max : 1 + Int(next() % maxRead)
        }

        /// About one read in sixteen, as `ByteToMessageHandler` compacts now and then, not after
        /// every read.
        mutating func compactNow() -> Bool {
            next() & 15 == 0
        }
    }
}
