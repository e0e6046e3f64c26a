import ArgumentParser
import MMOBot

/// `mmo-bot scenario`: one character plays through login, character selection, world entry,
/// movement and chat, and checks that it sees an expected peer do the same.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Play one character end to end and check what it sees.",
        discussion: """
            Connects, logs in, creates CHARACTER if the account lacks it, enters the world, walks \
            (1 unit per step, under the server's speed limit) and repeats its chat line. With \
            --expect-peer it passes once it has seen that peer appear, move and chat, then keeps \
            playing for --grace seconds so the peer can see it too. Prints one PASS/FAIL line per \
            check; exits 0 only if every check passed.
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "Session token (e.g. from `mmo dev create-user`).")
    var token: String

    @Option(help: "Character name; created when the account does not have it.")
    var character: String

    @Option(name: .customLong("class"), help: "Class id for a newly created character.")
    var classId: UInt8 = 1

    @Option(name: .customLong("expect-peer"), help: "Name of a character that must be seen appearing, moving and chatting.")
    var expectPeer: String?

    @Option(help: "Chat line to say, repeated every --chat-every seconds (default: \"hello from CHARACTER\").")
    var say: String?

    @Option(help: "Seconds for the whole scenario; unmet checks fail after it.")
    var timeout: Double = 30

    @Option(help: "Walk to this x first (with --y).")
    var x: Float?

    @Option(help: "Walk to this y first (with --x).")
    var y: Float?

    @Option(help: "Seconds to keep playing after every check passed, so the peer can see us too (at least --chat-every + 1, so the peer hears one more chat line).")
    var grace: Double = 3

    @Option(name: .customLong("chat-every"), help: "Seconds between repetitions of the chat line.")
    var chatEvery: Double = 3

    @Option(name: .customLong("step-ms"), help: "Milliseconds between moves.")
    var stepMilliseconds: Int = 200

    @Option(name: .customLong("max-speed"), help: "Server's movement speed limit, units per second.")
    var maxSpeed: Float = 7

    var scenario: ScenarioConfiguration {
        var configuration = ScenarioConfiguration(
            host: server.host, port: server.port, token: token, character: character, classId: classId, expectPeer: expectPeer,
            say: say, timeout: .seconds(timeout), target: x.flatMap { x in y.map { BotPosition(x: x, y: $0) } },
            grace: .seconds(grace), chatEvery: .seconds(chatEvery), stepInterval: .milliseconds(stepMilliseconds),
            maxSpeed: maxSpeed)
        configuration.tls = server.resolved.tls
        return configuration
    }

    func validate() throws {
        guard (x == nil) == (y == nil) else { throw ValidationError("--x and --y go together") }
        do {
            try scenario.validate()
        } catch {
            throw error.validationError
        }
    }

    func run() async throws {
        Stdout.lineBuffer()
        let passed = await ScenarioRun(configuration: scenario, output: { print($0) }).play()
        print(passed ? "RESULT PASS" : "RESULT FAIL")
        if !passed { throw ExitCode.failure }
    }
}
