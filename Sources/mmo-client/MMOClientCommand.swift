import ArgumentParser
import Foundation
import TerminalClient

/// `mmo-client`: the terminal game client. The launcher starts it with `MMO_SERVER` and
/// `MMO_SESSION_TOKEN` in the environment; everything else lives in `TerminalClient`.
@main
struct MMOClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmo-client",
        abstract: "Play the MMO in a terminal.",
        discussion: """
            Normally started by the launcher, which puts the server address in MMO_SERVER \
            (host:port, or mmos://host:port for TLS) and your session token in MMO_SESSION_TOKEN. Full-screen when run in a \
            terminal; --plain (or a non-terminal stdin/stdout) gives line-by-line output and reads \
            commands from stdin. Keys and commands: docs/terminal-client.md, or /help in the game.

            Exit status: 0 quit, 1 error, 2 login refused, 3 disconnected by the server \
            (logged in elsewhere, shutdown), 4 server unreachable or connection lost.
            """)

    @Option(help: "Game server as host:port, or mmos://host:port for TLS (default: $MMO_SERVER, else 127.0.0.1:7777).")
    var server: String?

    @Flag(help: "Connect with TLS (as mmos:// does), verifying the server's certificate.")
    var tls = false

    @Option(name: .customLong("ca-file"), help: "Trust only the CA certificate(s) in this PEM file (default: $MMO_CA_FILE, else the system's); implies --tls.")
    var caFile: String?

    @Option(name: .customLong("token-file"), help: "Read the session token from this file (keep it mode 600).")
    var tokenFile: String?

    @Option(help: "Session token, for development only: other users of this machine can read command lines. Prefer $MMO_SESSION_TOKEN or --token-file.")
    var token: String?

    @Flag(help: "Line-oriented mode: prints events as lines, reads commands from stdin (for scripts and screen readers).")
    var plain = false

    @Option(name: .customLong("max-speed"), help: "The server's walking speed limit in units per second (world.maxSpeed).")
    var maxSpeed: Float = 7

    @Option(help: "Redraws per second at most (full-screen mode).")
    var fps: Int = 15

    func validate() throws {
        guard maxSpeed > 0, maxSpeed.isFinite else { throw ValidationError("--max-speed must be positive") }
        guard (1...60).contains(fps) else { throw ValidationError("--fps must be 1-60") }
    }

    func run() async throws {
        let launch: LaunchConfiguration
        do {
            launch = try LaunchConfiguration.resolve(
                server: server, tokenFile: tokenFile, token: token, tls: tls, caFile: caFile,
                environment: ProcessInfo.processInfo.environment,
                readFile: { path in
                    if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                       let permissions = attributes[.posixPermissions] as? Int, permissions & 0o077 != 0 {
                        FileHandle.standardError.write(Data("mmo-client: warning: \(path) can be read by other users (chmod 600 it)\n".utf8))
                    }
                    return try String(contentsOfFile: path, encoding: .utf8)
                })
        } catch {
            FileHandle.standardError.write(Data("mmo-client: \(error)\n".utf8))
            throw ExitCode(ExitStatus.loginRefused)
        }
        // Nothing this process starts needs the token; do not hand it down.
        unsetenv(LaunchConfiguration.tokenVariable)

        var options = TerminalClientApp.Options(launch: launch, plain: plain || !Terminal.isInteractive)
        options.settings.maxSpeed = maxSpeed
        options.framesPerSecond = fps
        let status = await TerminalClientApp.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}
