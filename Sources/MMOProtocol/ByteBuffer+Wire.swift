import NIOCore

/// Primitive field codecs. Integers are big-endian; floats are IEEE-754 binary32 big-endian;
/// strings are a u16 byte length followed by that many bytes of UTF-8.
extension ByteBuffer {
    /// Writes `string` as a wire string of at most `maxBytes` bytes (and never more than a u16
    /// length can say). Longer text is cut at the last whole character that fits, so a frame is
    /// never corrupt and a documented limit is never exceeded, whatever the caller passed.
    @inlinable
    mutating func writeWireString(_ string: String, maxBytes: Int = Int(UInt16.max)) {
        let limit = Swift.min(maxBytes, Int(UInt16.max))
        let text = string.utf8.count <= limit ? string : string.truncatedUTF8(maxBytes: limit)
        let lengthIndex = writerIndex
        writeInteger(UInt16(0))
        let written = writeString(text)
        setInteger(UInt16(truncatingIfNeeded: written), at: lengthIndex)
    }

    @inlinable
    mutating func writeWireFloat(_ value: Float) {
        writeInteger(value.bitPattern)
    }
}

/// A reader over one message body that turns every short read into a `ProtocolError`.
public struct WireReader {
    @usableFromInline var buffer: ByteBuffer
    @usableFromInline let opcode: UInt16

    @inlinable
    public init(_ buffer: ByteBuffer, opcode: UInt16) {
        self.buffer = buffer
        self.opcode = opcode
    }

    @inlinable
    func malformed(_ reason: String) -> ProtocolError { .malformed(opcode: opcode, reason: reason) }

    @inlinable
    public mutating func u8() throws(ProtocolError) -> UInt8 {
        guard let v = buffer.readInteger(as: UInt8.self) else { throw malformed("truncated") }
        return v
    }

    @inlinable
    public mutating func u16() throws(ProtocolError) -> UInt16 {
        guard let v = buffer.readInteger(as: UInt16.self) else { throw malformed("truncated") }
        return v
    }

    @inlinable
    public mutating func u32() throws(ProtocolError) -> UInt32 {
        guard let v = buffer.readInteger(as: UInt32.self) else { throw malformed("truncated") }
        return v
    }

    @inlinable
    public mutating func u64() throws(ProtocolError) -> UInt64 {
        guard let v = buffer.readInteger(as: UInt64.self) else { throw malformed("truncated") }
        return v
    }

    /// A finite float; NaN and infinities are malformed (they would poison the simulation).
    @inlinable
    public mutating func f32() throws(ProtocolError) -> Float {
        let v = Float(bitPattern: try u32())
        guard v.isFinite else { throw malformed("non-finite float") }
        return v
    }

    /// A UTF-8 string of at most `maxBytes` bytes; invalid UTF-8 is malformed, never repaired.
    @inlinable
    public mutating func string(maxBytes: Int) throws(ProtocolError) -> String {
        let length = Int(try u16())
        guard length <= maxBytes else { throw malformed("string of \(length) bytes exceeds \(maxBytes)") }
        guard let bytes = buffer.readSlice(length: length) else { throw malformed("truncated") }
        guard let s = bytes.readableBytesView.withContiguousStorageIfAvailable({
            String(validating: $0, as: UTF8.self)
        }) ?? String(validating: Array(bytes.readableBytesView), as: UTF8.self) else {
            throw malformed("invalid UTF-8")
        }
        return s
    }

    /// Asserts the body was consumed exactly: trailing bytes are malformed.
    @inlinable
    public func finish() throws(ProtocolError) {
        guard buffer.readableBytes == 0 else { throw malformed("\(buffer.readableBytes) trailing bytes") }
    }

    @inlinable
    public var remaining: Int { buffer.readableBytes }
}
