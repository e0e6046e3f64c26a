/// An error raised by ``RedisClient``.
///
/// Switch over ``code`` to decide what to do; ``message`` is meant for humans and logs.
/// Messages never contain command arguments or values, since those may be secrets or user data.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// The kind of a ``RedisError``.
    ///
    /// A struct with static members instead of an enum so that new kinds can be added without
    /// breaking exhaustive switches in callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Hashable {
            case serverError
            case connectionFailed
            case connectionClosed
            case timeout
            case protocolError
            case unexpectedReply
            case clientShutdown
            case invalidConfiguration
            case invalidCommand
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Redis answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`, `-NOAUTH ...`).
        /// The connection is still usable.
        public static let serverError = Code(.serverError)
        /// A connection could not be established (refused, connect timeout, AUTH/SELECT rejected),
        /// or the previous attempt failed recently and the client is backing off.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection was closed before the reply arrived. The command may or may not have
        /// been executed by the server.
        public static let connectionClosed = Code(.connectionClosed)
        /// No reply arrived within the command timeout. The connection has been closed, since RESP
        /// offers no way to skip the late reply. The command may or may not have been executed.
        public static let timeout = Code(.timeout)
        /// The server sent bytes that are not valid RESP2, or exceeded a decoder limit.
        /// The connection has been closed.
        public static let protocolError = Code(.protocolError)
        /// The reply was valid RESP but not of the type the called helper expects.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// ``RedisClient/shutdown()`` has been called.
        public static let clientShutdown = Code(.clientShutdown)
        /// The configuration (e.g. a `redis://` URL) is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The command can't be sent through ``RedisClient/send(_:)-(String)``: it is empty, or it
        /// would switch the connection into a push mode (`SUBSCRIBE`, `MONITOR`, ...) that breaks
        /// request/reply matching. Nothing was sent.
        public static let invalidCommand = Code(.invalidCommand)

        public var description: String {
            switch self.base {
            case .serverError: return "serverError"
            case .connectionFailed: return "connectionFailed"
            case .connectionClosed: return "connectionClosed"
            case .timeout: return "timeout"
            case .protocolError: return "protocolError"
            case .unexpectedReply: return "unexpectedReply"
            case .clientShutdown: return "clientShutdown"
            case .invalidConfiguration: return "invalidConfiguration"
            case .invalidCommand: return "invalidCommand"
            }
        }
    }

    /// What went wrong, see ``Code``.
    public var code: Code
    /// A human readable explanation. For ``Code/serverError`` this is the error reply as sent
    /// by Redis, e.g. `WRONGTYPE Operation against a key holding the wrong kind of value`.
    public var message: String
    /// The error that caused this one, e.g. the socket error of a failed connect.
    public var underlying: (any Error)?

    /// Set when the command certainly never reached the server (the connection was already
    /// closed when it was handed over), which makes a retry on another connection safe.
    var commandWasNotSent = false

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// For ``Code/serverError``: the error prefix Redis puts first, e.g. `"WRONGTYPE"`, `"ERR"`,
    /// `"NOAUTH"`. `nil` for other codes.
    public var serverErrorPrefix: String? {
        guard self.code == .serverError else { return nil }
        return self.message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String {
        var result = "RedisError.\(self.code): \(self.message)"
        if let underlying = self.underlying {
            result += " (\(underlying))"
        }
        return result
    }
}

extension RedisError {
    static func server(_ message: String) -> RedisError {
        RedisError(code: .serverError, message: message)
    }

    static func protocolError(_ message: String) -> RedisError {
        RedisError(code: .protocolError, message: message)
    }

    static func unexpectedReply(_ value: RESPValue, expected: String) -> RedisError {
        // Only the reply's type is described: the payload may be user data.
        RedisError(code: .unexpectedReply, message: "expected \(expected), got \(value.typeDescription)")
    }

    static let emptyCommand = RedisError(code: .invalidCommand, message: "empty command")

    static let shutdown = RedisError(code: .clientShutdown, message: "the client has been shut down")
}

extension RESPValue {
    /// The type of the value without its payload, for error messages.
    var typeDescription: String {
        switch self {
        case .simpleString: return "simple string"
        case .error: return "error"
        case .integer: return "integer"
        case .bulkString(.some): return "bulk string"
        case .bulkString(.none): return "null bulk string"
        case .array(.some): return "array"
        case .array(.none): return "null array"
        }
    }
}
