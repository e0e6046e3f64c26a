import NIOCore

/// One protocol frame: `u32 length | u16 opcode | body`, where `length` counts the opcode and
/// the body (not itself). `body` is a slice of the receive buffer: no copy.
public struct Frame: Sendable, Equatable {
    public var opcode: UInt16
    public var body: ByteBuffer

    public init(opcode: UInt16, body: ByteBuffer) {
        self.opcode = opcode
        self.body = body
    }
}

/// Incremental frame parser. Pure: feed it bytes as they arrive, in any split.
/// The length is checked against `maxFrameSize` before any body byte is buffered, so an
/// oversize announcement is refused at once instead of after the sender has filled memory.
public struct FrameParser: Sendable {
    public let maxFrameSize: Int

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    /// Reads one frame from the front of `buffer` if it is complete; returns nil when more bytes
    /// are needed (consuming nothing).
    @inlinable
    public func parse(_ buffer: inout ByteBuffer) throws(ProtocolError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let frameLength = Int(length)
        guard frameLength >= 2 else { throw .frameTooShort(length: frameLength) }
        guard frameLength <= maxFrameSize else { throw .frameTooLarge(length: frameLength, limit: maxFrameSize) }
        guard buffer.readableBytes >= 4 + frameLength else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let opcode = buffer.readInteger(as: UInt16.self)!
        let body = buffer.readSlice(length: frameLength - 2)!
        return Frame(opcode: opcode, body: body)
    }
}

/// SwiftNIO adapter for `FrameParser`. On a protocol error it fires the error down the pipeline;
/// the connection handler answers with DISCONNECT and closes.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    private let parser: FrameParser

    public init(maxFrameSize: Int) {
        self.parser = FrameParser(maxFrameSize: maxFrameSize)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is simply dropped: the peer is gone.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

extension ByteBuffer {
    /// Writes a complete frame: reserves the length prefix, lets `body` write the body, then
    /// patches the length. One buffer, no intermediate copies.
    @inlinable
    public mutating func writeFrame(opcode: Opcode, _ body: (inout ByteBuffer) -> Void) {
        let start = writerIndex
        writeInteger(UInt32(0))
        writeInteger(opcode.rawValue)
        body(&self)
        setInteger(UInt32(writerIndex - start - 4), at: start)
    }
}

extension ByteBuffer {
    /// Writes a frame whose body was encoded elsewhere (e.g. a WORLD_UPDATE body built by the world).
    @inlinable
    public mutating func writeFrame(opcode: Opcode, body: ByteBuffer) {
        writeInteger(UInt32(2 + body.readableBytes))
        writeInteger(opcode.rawValue)
        writeImmutableBuffer(body)
    }
}
