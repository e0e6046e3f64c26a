import ArgumentParser
import Foundation
import MMOClient
import MMOProtocol

/// Scripted and load-test bots that play the game over the real client protocol.
@main
struct MMOBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmo-bot",
        abstract: "Bots that play the MMO server over its client protocol.",
        subcommands: [ScenarioCommand.self, LoadCommand.self, PingCommand.self])
}

/// Where the packet service listens.
struct ServerOptions: ParsableArguments {
    @Option(help: "Packet service host.")
    var host = "127.0.0.1"

    @Option(help: "Packet service port.")
    var port = 7777
}

/// Output helpers shared by the subcommands.
enum Report {
    static func millis(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        return String(format: "%.2f ms", millisValue(duration))
    }

    static func millisValue(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func seconds(_ duration: Duration) -> Double {
        millisValue(duration) / 1000
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
        case .protocolViolation: return "PROTOCOL_VIOLATION"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .unexpectedResponse: return "UNEXPECTED_RESPONSE"
        }
    }
}
