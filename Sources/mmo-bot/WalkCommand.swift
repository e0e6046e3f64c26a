import ArgumentParser
import MMOBot

/// `mmo-bot walk`: one character walks in a straight line and logs every move with a wall-clock
/// stamp, so scripts/chaos.sh can tell how much progress the server kept through a crash.
struct WalkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "walk",
        abstract: "Walk one character along x, logging each move with its time.",
        discussion: """
            Connects, logs in, creates CHARACTER if the account lacks it and enters the world \
            (retrying all of it for --retry-for seconds), then walks toward --target-x at --speed \
            for --seconds, adopting the server's CORRECTIONs, leaves and logs out. Prints ENTERED, \
            MOVE, CORRECTION, LEFT/CLOSED and DONE lines with Unix-millisecond stamps; exits 0 when \
            the character entered the world. A dropped connection is resumed by the SDK and walked \
            through: RECONNECTING, RESUMED or REENTERED (or RESUME_FAILED) lines, and a last line \
            RECONNECTS drops=N resumed=N reentered=N lost=0|1.
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "Session token (e.g. from `mmo dev create-user`).")
    var token: String

    @Option(help: "Character name; created when the account does not have it.")
    var character: String

    @Option(name: .customLong("target-x"), help: "Walk along x toward this value.")
    var targetX: Float

    @Option(help: "Units per second (keep it under the server's limit).")
    var speed: Float = 4

    @Option(name: .customLong("step-ms"), help: "Milliseconds between moves.")
    var stepMilliseconds: Int = 200

    @Option(help: "Seconds to walk once in the world.")
    var seconds: Double = 10

    @Option(name: .customLong("retry-for"), help: "Seconds to keep retrying connect, login and world entry.")
    var retryFor: Double = 0

    var walk: WalkConfiguration {
        var configuration = WalkConfiguration(
            host: server.host, port: server.port, token: token, character: character, targetX: targetX, speed: speed,
            stepInterval: .milliseconds(stepMilliseconds), duration: .seconds(seconds), retryFor: .seconds(retryFor))
        configuration.tls = server.resolved.tls
        return configuration
    }

    func validate() throws {
        do {
            try walk.validate()
        } catch {
            throw error.validationError
        }
    }

    func run() async throws {
        Stdout.lineBuffer()
        let entered = await WalkRun(configuration: walk, output: { print($0) }).walk()
        if !entered { throw ExitCode.failure }
    }
}
