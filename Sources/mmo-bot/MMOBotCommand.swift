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

/// Where the packet service listens.
struct ServerOptions: ParsableArguments {
    @Option(help: "Packet service host.")
    var host = "127.0.0.1"

    @Option(help: "Packet service port.")
    var port = 7777
}

extension BotConfigurationError {
    /// As ArgumentParser reports bad flags: usage error, exit code 64.
    var validationError: ValidationError { ValidationError(message) }
}
