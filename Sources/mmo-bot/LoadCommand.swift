import ArgumentParser
import Foundation
import MMOBot

/// `mmo-bot load`: many bots in one process that log in, gather around a point and move and
/// chat, measuring throughput and how long a move takes to reach the bots that can see it.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Run many bots in one process and measure the server.",
        discussion: """
            Each bot uses one token from --tokens-file, logs in, selects or creates its character \
            (--name-prefix plus its index spelled in letters, e.g. Botbabacedifo for bot 00123, \
            since names are letters only), enters the world, walks to random points within --spread units of a \
            common centre and chats. All bots share the process's event loops; moves and latency \
            measurement run on the event loops, with no task per message. Move latency is the \
            time from a bot sending a MOVE to a neighbour bot receiving the matching move event \
            (same entity, same exact position), both stamped with one ContinuousClock.
            """)

    @OptionGroup var server: ServerOptions

    @Option(name: .customLong("tokens-file"), help: "File with one session token per line.")
    var tokensFile: String

    @Option(help: "Number of bots (default: one per token).")
    var bots: Int?

    @Option(help: "Seconds to measure after every bot has finished logging in.")
    var duration: Double = 30

    @Option(name: .customLong("move-interval-ms"), help: "Milliseconds between a bot's moves.")
    var moveIntervalMs: Int = 200

    @Option(name: .customLong("chat-interval-s"), help: "Seconds between a bot's chat lines (0: no chat).")
    var chatIntervalS: Double = 10

    @Option(help: "Radius, in world units, of the area the bots gather in.")
    var spread: Float = 60

    @Option(name: .customLong("center-x"), help: "Centre x of the gathering (default: first bot's spawn point).")
    var centerX: Float?

    @Option(name: .customLong("center-y"), help: "Centre y of the gathering.")
    var centerY: Float?

    @Option(name: .customLong("max-speed"), help: "Server's movement speed limit, units per second.")
    var maxSpeed: Float = 7

    @Option(name: .customLong("class"), help: "Class id for newly created characters.")
    var classId: UInt8 = 1

    @Option(name: .customLong("name-prefix"), help: "Letters that start every bot's character name (at most 6).")
    var namePrefix = "Bot"

    @Option(help: "Bots logging in at the same time during ramp-up.")
    var concurrency = 64

    @Option(name: .customLong("request-timeout"), help: "Seconds each request may take.")
    var requestTimeout: Double = 10

    @Flag(help: "Print the summary as JSON (for BENCHMARKS.md).")
    var json = false

    /// The run's settings with `tokens` still to be filled in from the file.
    func load(tokens: [String]) -> LoadConfiguration {
        var configuration = LoadConfiguration(
            host: server.host, port: server.port, tokens: tokens, duration: .seconds(duration),
            moveInterval: .milliseconds(moveIntervalMs), chatInterval: .seconds(chatIntervalS), spread: spread,
            center: centerX.flatMap { x in centerY.map { BotPosition(x: x, y: $0) } }, maxSpeed: maxSpeed, classId: classId,
            namePrefix: namePrefix, concurrency: concurrency, requestTimeout: .seconds(requestTimeout))
        configuration.tls = server.resolved.tls
        return configuration
    }

    func validate() throws {
        guard (centerX == nil) == (centerY == nil) else { throw ValidationError("--center-x and --center-y go together") }
        if let bots, bots <= 0 { throw ValidationError("--bots must be positive") }
        do {
            try load(tokens: []).validate()
        } catch {
            throw error.validationError
        }
    }

    func run() async throws {
        Stdout.lineBuffer()
        let tokens: [String]
        do {
            tokens = try LoadTokens.select(bots, from: LoadTokens.parse(String(contentsOfFile: tokensFile, encoding: .utf8)), source: tokensFile)
        } catch let error as BotConfigurationError {
            throw error.validationError
        }
        // Progress goes to stderr so stdout stays the summary alone (bench-load.sh keeps it as JSON).
        var progress: BotOutput?
        if !json {
            progress = { line in FileHandle.standardError.write(Data("[load] \(line)\n".utf8)) }
        }
        let summary = await LoadRun(configuration: load(tokens: tokens), progress: progress).run()
        if json {
            print(try summary.json())
        } else {
            for line in summary.textLines { print(line) }
        }
        if summary.botsInWorld == 0 { throw ExitCode.failure }
    }
}
