import MMOProtocol

/// Why a `GameClient` call failed. Every error the SDK throws is one of these.
public enum GameClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server refused the request: an `ERROR(requestOpcode, code)` frame, or a result frame
    /// whose code is not OK. `detail` is the server's human-readable reason when it sent one
    /// (CHARACTER_CREATE_RESULT does), otherwise empty.
    case refused(ResultCode, detail: String = "")
    /// No answer within the request's timeout. The connection stays usable.
    case timedOut(Opcode)
    /// The server sent `DISCONNECT(code, message)` and closes the connection.
    case disconnected(ResultCode, message: String)
    /// The connection closed without a DISCONNECT frame (network error, server crash, `close()`).
    case connectionClosed
    /// TCP connect failed (refused, unreachable, timed out).
    case connectFailed(String)
    /// TLS could not be set up (the CA file is unusable) or the handshake failed: most often
    /// the server's certificate is not trusted or not for this host, or the port is plain TCP.
    case tlsFailed(String)
    /// The server sent bytes that are not a valid server frame; the SDK closed the connection.
    case protocolViolation(String)
    /// An argument breaks a protocol limit; nothing was sent.
    case invalidArgument(String)
    /// The server answered with a frame that does not fit the request.
    case unexpectedResponse(String)

    /// The protocol result code behind this error, when there is one.
    public var resultCode: ResultCode? {
        switch self {
        case .refused(let code, _), .disconnected(let code, _): code
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .refused(let code, let detail): detail.isEmpty ? "refused: \(code)" : "refused: \(code): \(detail)"
        case .timedOut(let opcode): "timed out waiting for the answer to \(opcode)"
        case .disconnected(let code, let message):
            message.isEmpty ? "disconnected by server: \(code)" : "disconnected by server: \(code): \(message)"
        case .connectionClosed: "connection closed"
        case .connectFailed(let reason): "connect failed: \(reason)"
        case .tlsFailed(let reason): "TLS failed: \(reason)"
        case .protocolViolation(let reason): "protocol violation by server: \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .unexpectedResponse(let reason): "unexpected response: \(reason)"
        }
    }
}
