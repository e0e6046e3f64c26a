import NIOCore

/// Encodes commands and values as RESP2.
public enum RESPEncoder {
    /// Writes a command as an array of bulk strings, which is how Redis expects every command.
    public static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8.asterisk)
        buffer.writeDecimal(arguments.count)
        buffer.writeCRLF()
        for argument in arguments {
            // utf8.count is O(1) for native strings; bridged ones are rare on Linux.
            buffer.writeInteger(UInt8.dollar)
            buffer.writeDecimal(argument.utf8.count)
            buffer.writeCRLF()
            buffer.writeString(argument)
            buffer.writeCRLF()
        }
    }

    /// Writes a command as an array of bulk strings. Arguments are binary safe.
    public static func writeCommand(_ arguments: [ByteBuffer], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8.asterisk)
        buffer.writeDecimal(arguments.count)
        buffer.writeCRLF()
        for argument in arguments {
            buffer.writeInteger(UInt8.dollar)
            buffer.writeDecimal(argument.readableBytes)
            buffer.writeCRLF()
            buffer.writeImmutableBuffer(argument)
            buffer.writeCRLF()
        }
    }

    /// Writes any value. Clients only send commands (see ``writeCommand(_:into:)-(String)``); this
    /// exists for tests and fake servers.
    public static func write(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let string):
            buffer.writeInteger(UInt8.plus)
            buffer.writeString(string)
            buffer.writeCRLF()
        case .error(let message):
            buffer.writeInteger(UInt8.minus)
            buffer.writeString(message)
            buffer.writeCRLF()
        case .integer(let value):
            buffer.writeInteger(UInt8.colon)
            buffer.writeString(String(value))
            buffer.writeCRLF()
        case .bulkString(.none):
            buffer.writeStaticString("$-1\r\n")
        case .bulkString(.some(let payload)):
            buffer.writeInteger(UInt8.dollar)
            buffer.writeDecimal(payload.readableBytes)
            buffer.writeCRLF()
            buffer.writeImmutableBuffer(payload)
            buffer.writeCRLF()
        case .array(.none):
            buffer.writeStaticString("*-1\r\n")
        case .array(.some(let elements)):
            buffer.writeInteger(UInt8.asterisk)
            buffer.writeDecimal(elements.count)
            buffer.writeCRLF()
            for element in elements {
                Self.write(element, into: &buffer)
            }
        }
    }
}

extension ByteBuffer {
    @inline(__always)
    mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A), endianness: .big)
    }

    /// Writes a non-negative integer in ASCII decimal without allocating a String; lengths are
    /// written twice per argument, so this is on the hot path.
    mutating func writeDecimal(_ value: Int) {
        precondition(value >= 0)
        if value < 10 {
            self.writeInteger(UInt8.zero + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { digits in
            // Fill from the end, then write the used suffix.
            var index = digits.count
            while remaining > 0 {
                index -= 1
                digits[index] = UInt8.zero + UInt8(remaining % 10)
                remaining /= 10
            }
            self.writeBytes(UnsafeRawBufferPointer(rebasing: digits[index...]))
        }
    }
}
