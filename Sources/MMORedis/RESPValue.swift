import NIOCore

/// A value of the Redis serialization protocol, version 2 (RESP2).
///
/// Values are what Redis replies with. Commands are always sent as arrays of bulk strings,
/// see ``RESPEncoder``.
public enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simpleString(String)
    /// `-ERR message\r\n`. Error replies nested in arrays (e.g. inside an `EXEC` reply) stay values;
    /// a top-level error reply is thrown by ``RedisClient/send(_:)`` as a ``RedisError``.
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nfoo\r\n`; `nil` is the null bulk string `$-1\r\n`.
    case bulkString(ByteBuffer?)
    /// `*2\r\n...`; `nil` is the null array `*-1\r\n`.
    case array([RESPValue]?)
}

extension RESPValue {
    /// The value as a UTF-8 string for simple and bulk strings, `nil` otherwise (including null).
    public var stringValue: String? {
        switch self {
        case .simpleString(let string):
            return string
        case .bulkString(.some(let buffer)):
            return String(buffer: buffer)
        case .error, .integer, .bulkString(.none), .array:
            return nil
        }
    }

    /// The value as an integer for integer replies, `nil` otherwise.
    public var int64Value: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of a non-null array reply, `nil` otherwise.
    public var arrayValue: [RESPValue]? {
        if case .array(.some(let values)) = self { return values }
        return nil
    }
}
