import MMOTime
import Foundation
import MMOClient

/// Where a bot run writes its lines: one call per line, without the newline. The executable
/// passes `print`; tests collect the lines to check them.
public typealias BotOutput = @Sendable (String) -> Void

/// A bot option that is out of range; the message names the flag, as `mmo-bot` prints it.
public struct BotConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Text formats shared by the runs. Scripts parse some of these lines, so they stay stable.
enum BotFormat {
    /// "12.34 ms", or "-" when there is no value (no samples).
    static func millis(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        return millis(duration.inMilliseconds)
    }

    static func millis(_ value: Double?) -> String {
        value.map { String(format: "%.2f ms", $0) } ?? "-"
    }

    static func position(_ x: Float, _ y: Float) -> String {
        String(format: "(%.1f, %.1f)", x, y)
    }

    /// A short, stable label for an error, used to group failures: the result code name when
    /// the server gave one.
    static func label(_ error: any Error) -> String {
        guard let error = error as? GameClientError else { return "\(error)" }
        switch error {
        case .refused(let code, _): return code.name
        case .disconnected(let code, _): return "DISCONNECT \(code.name)"
        case .timedOut(let opcode): return "TIMEOUT \(opcode)"
        case .connectionClosed: return "CONNECTION_CLOSED"
        case .connectFailed: return "CONNECT_FAILED"
        case .tlsFailed: return "TLS_FAILED"
        case .protocolViolation: return "PROTOCOL_VIOLATION"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .unexpectedResponse: return "UNEXPECTED_RESPONSE"
        }
    }

    /// `label` as one word (spaces become underscores), for lines scripts split on spaces.
    static func token(_ error: any Error) -> String {
        label(error).replacingOccurrences(of: " ", with: "_")
    }
}
