import ArgumentParser
import MMOBot

/// Scripted and load-test bots that play the game over the real client protocol. The logic
/// lives in the MMOBot library; this executable parses flags into its configurations.
@main
struct MMOBotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmo-bot",
        abstract: "Bots that play the MMO server over its client protocol.",
        subcommands: [ScenarioCommand.self, LoadCommand.self, PingCommand.self, WalkCommand.self])
}

/// Where the packet service listens, and whether to use TLS.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Packet service host.")
    var hostOption = "127.0.0.1"

    @Option(name: .customLong("port"), help: "Packet service port.")
    var portOption = 7777

    @Option(name: .customLong("server"), help: "Packet service as mmos://HOST:PORT (TLS), mmo://HOST:PORT or HOST:PORT; overrides --host/--port.")
    var serverOption: String?

    @Flag(name: .customLong("tls"), help: "Connect with TLS (as mmos:// does), verifying the server's certificate.")
    var tlsFlag = false

    @Option(name: .customLong("ca-file"), help: "Trust only the CA certificate(s) in this PEM file (e.g. dev-certs/ca.pem); implies --tls.")
    var caFile: String?

    /// The flags resolved (`validate()` has checked they resolve).
    var resolved: BotServer {
        (try? BotServer.resolve(host: hostOption, port: portOption, server: serverOption, tls: tlsFlag, caFile: caFile))
            ?? BotServer(host: hostOption, port: portOption)
    }

    var host: String { resolved.host }
    var port: Int { resolved.port }

    func validate() throws {
        do {
            _ = try BotServer.resolve(host: hostOption, port: portOption, server: serverOption, tls: tlsFlag, caFile: caFile)
        } catch {
            throw error.validationError
        }
    }
}

extension BotConfigurationError {
    /// As ArgumentParser reports bad flags: usage error, exit code 64.
    var validationError: ValidationError { ValidationError(message) }
}
