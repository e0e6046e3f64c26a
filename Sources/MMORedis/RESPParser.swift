import NIOCore

/// An incremental RESP2 parser.
///
/// Feed it the bytes received so far; it consumes what it can and returns one complete value,
/// or `nil` when more bytes are needed. Bytes that belong to an unfinished value are either left
/// in the buffer (an incomplete line or bulk string payload) or already folded into the parser's
/// state (completed elements of an unfinished array), so the caller must keep appending new bytes
/// to the same buffer and call again.
///
/// The parser never rescans bytes it has already looked at: arrays keep their finished elements
/// on an explicit stack, bulk strings wait for `length + 2` bytes in O(1), and an unterminated
/// line remembers how far it has been searched. Feeding a large reply in many small pieces is
/// therefore linear in its size.
///
/// After an error is thrown the parser is in an undefined state and must be discarded, together
/// with the connection it was reading from.
public struct RESPParser: Sendable {
    /// Limits that protect the client from a broken or hostile peer.
    public struct Limits: Sendable {
        /// The longest bulk string accepted. Redis itself caps strings at 512 MiB.
        public var maximumBulkStringLength: Int
        /// The deepest nesting of arrays accepted (a flat array has depth 1).
        public var maximumNestingDepth: Int
        /// The longest simple string, error or integer line accepted, excluding `\r\n`.
        public var maximumLineLength: Int

        public init(maximumBulkStringLength: Int = 512 * 1024 * 1024, maximumNestingDepth: Int = 32, maximumLineLength: Int = 64 * 1024) {
            self.maximumBulkStringLength = maximumBulkStringLength
            self.maximumNestingDepth = maximumNestingDepth
            self.maximumLineLength = maximumLineLength
        }
    }

    /// A violation of the protocol or of ``Limits``.
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { "RESP protocol error: \(self.message)" }
    }

    private enum State: Sendable {
        /// Waiting for a line starting with a type byte. `scanned` is how many bytes of the
        /// buffer are already known to contain no `\n`.
        case header(scanned: Int)
        /// A `$n\r\n` header was consumed; waiting for `n` payload bytes and `\r\n`.
        case bulkPayload(length: Int)
    }

    /// An array whose elements are still arriving.
    private struct PartialArray: Sendable {
        var remaining: Int
        var elements: [RESPValue]
    }

    private var state: State = .header(scanned: 0)
    private var stack: [PartialArray] = []
    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses the next complete value from `buffer`, consuming its bytes.
    ///
    /// - Returns: The value, or `nil` if `buffer` holds no complete value yet. Call again with
    ///   more bytes appended to the same buffer.
    /// - Throws: ``Error`` if the bytes are not valid RESP2 or exceed ``limits``.
    public mutating func next(from buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        while true {
            guard let value = try self.nextLeaf(from: &buffer) else {
                return nil
            }
            if let complete = self.fold(value) {
                return complete
            }
        }
    }

    /// Returns one scalar value, an empty or null array, or `nil` when more bytes are needed.
    /// Headers of non-empty arrays are pushed on the stack and parsing continues.
    private mutating func nextLeaf(from buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        while true {
            switch self.state {
            case .bulkPayload(let length):
                guard buffer.readableBytes >= length + 2 else {
                    return nil
                }
                let payload = buffer.readSlice(length: length)!
                guard buffer.readInteger(as: UInt8.self) == .carriageReturn,
                      buffer.readInteger(as: UInt8.self) == .lineFeed else {
                    throw Error(message: "bulk string not terminated by CRLF")
                }
                self.state = .header(scanned: 0)
                return .bulkString(payload)

            case .header(let scanned):
                guard let (type, line) = try self.readLine(from: &buffer, scanned: scanned) else {
                    return nil
                }
                switch type {
                case .plus:
                    return .simpleString(String(buffer: line))
                case .minus:
                    return .error(String(buffer: line))
                case .colon:
                    return .integer(try Self.parseInteger(line))
                case .dollar:
                    let length = try Self.parseInteger(line)
                    if length == -1 {
                        return .bulkString(nil)
                    }
                    guard length >= 0 else {
                        throw Error(message: "negative bulk string length \(length)")
                    }
                    guard length <= self.limits.maximumBulkStringLength else {
                        throw Error(message: "bulk string of \(length) bytes exceeds the limit of \(self.limits.maximumBulkStringLength)")
                    }
                    self.state = .bulkPayload(length: Int(length))
                case .asterisk:
                    let count = try Self.parseInteger(line)
                    if count == -1 {
                        return .array(nil)
                    }
                    guard count >= 0 else {
                        throw Error(message: "negative array length \(count)")
                    }
                    if count == 0 {
                        return .array([])
                    }
                    guard self.stack.count < self.limits.maximumNestingDepth else {
                        throw Error(message: "arrays nested deeper than \(self.limits.maximumNestingDepth)")
                    }
                    guard count <= Int64(Int.max) else {
                        throw Error(message: "array length \(count) too large")
                    }
                    var elements: [RESPValue] = []
                    // The count comes from the peer: don't let it allocate memory up front
                    // beyond what the elements themselves will need.
                    elements.reserveCapacity(min(Int(count), 1024))
                    self.stack.append(PartialArray(remaining: Int(count), elements: elements))
                default:
                    throw Error(message: "unknown type byte 0x\(String(type, radix: 16))")
                }
            }
        }
    }

    /// Appends a finished value to the innermost open array, closing arrays that become
    /// complete. Returns the top-level value once it is complete.
    private mutating func fold(_ value: RESPValue) -> RESPValue? {
        var value = value
        while !self.stack.isEmpty {
            let top = self.stack.count - 1
            // Mutate in place so the elements array is not copied.
            self.stack[top].elements.append(value)
            self.stack[top].remaining -= 1
            guard self.stack[top].remaining == 0 else {
                return nil
            }
            value = .array(self.stack.removeLast().elements)
        }
        return value
    }

    /// Reads a `<type><content>\r\n` line. Returns the type byte and the content, or `nil` if
    /// the line is not complete yet (in which case nothing is consumed and the scanned length
    /// is remembered).
    private mutating func readLine(from buffer: inout ByteBuffer, scanned: Int) throws(Error) -> (UInt8, ByteBuffer)? {
        let view = buffer.readableBytesView
        // Resume the search where the previous call stopped. (`min` only guards against a
        // caller that broke the contract and handed us a shorter buffer.)
        let resumeAt = view.startIndex + min(scanned, view.count)
        guard let newline = view[resumeAt...].firstIndex(of: .lineFeed) else {
            let scanned = view.count
            guard scanned <= self.limits.maximumLineLength + 3 else {
                throw Error(message: "line longer than \(self.limits.maximumLineLength) bytes")
            }
            self.state = .header(scanned: scanned)
            return nil
        }
        let lineLength = newline - view.startIndex + 1  // including \r\n
        guard lineLength >= 3 else {
            throw Error(message: "empty line")
        }
        guard lineLength - 3 <= self.limits.maximumLineLength else {
            throw Error(message: "line longer than \(self.limits.maximumLineLength) bytes")
        }
        guard view[newline - 1] == .carriageReturn else {
            throw Error(message: "line not terminated by CRLF")
        }
        let type = buffer.readInteger(as: UInt8.self)!
        let content = buffer.readSlice(length: lineLength - 3)!
        buffer.moveReaderIndex(forwardBy: 2)
        self.state = .header(scanned: 0)
        return (type, content)
    }

    /// Parses a signed decimal integer without going through `String`.
    private static func parseInteger(_ line: ByteBuffer) throws(Error) -> Int64 {
        let view = line.readableBytesView
        var index = view.startIndex
        var negative = false
        if index < view.endIndex, view[index] == .minus {
            negative = true
            index += 1
        }
        guard index < view.endIndex else {
            throw Error(message: "invalid integer")
        }
        var result: Int64 = 0
        while index < view.endIndex {
            let byte = view[index]
            guard byte >= .zero, byte <= .nine else {
                throw Error(message: "invalid integer")
            }
            let digit = Int64(byte - .zero)
            // Accumulate negatively so that Int64.min parses without overflow.
            let (shifted, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
            guard !overflow1, !overflow2 else {
                throw Error(message: "integer out of range")
            }
            result = next
            index += 1
        }
        if negative {
            return result
        }
        guard result != .min else {
            throw Error(message: "integer out of range")
        }
        return -result
    }
}

extension UInt8 {
    static let carriageReturn = UInt8(ascii: "\r")
    static let lineFeed = UInt8(ascii: "\n")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let colon = UInt8(ascii: ":")
    static let dollar = UInt8(ascii: "$")
    static let asterisk = UInt8(ascii: "*")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}
