import ArgumentParser
import MMOBot

/// `mmo-bot ping`: HELLO, then PINGs; no login needed.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Connect, handshake and measure PING round trips (no login).")

    @OptionGroup var server: ServerOptions

    @Option(help: "Number of pings.")
    var count = 5

    @Option(help: "Milliseconds between pings.")
    var intervalMs = 200

    func run() async throws {
        Stdout.lineBuffer()
        var configuration = PingConfiguration(host: server.host, port: server.port, count: count, interval: .milliseconds(intervalMs))
        configuration.tls = server.resolved.tls
        guard await PingRun.run(configuration, output: { print($0) }) else { throw ExitCode.failure }
    }
}
