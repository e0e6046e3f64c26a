import Foundation
import MMOClient

/// What `mmo-bot load` does: how many bots, how they pace themselves and where they gather.
public struct LoadConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// TLS to the client port (`mmos://`, `--tls`); nil: plain TCP.
    public var tls: GameClientTLS? = nil
    /// One session token per bot; the run has as many bots as tokens.
    public var tokens: [String]
    /// How long to measure once every bot has finished logging in.
    public var duration: Duration
    /// Time between a bot's moves.
    public var moveInterval: Duration
    /// Time between a bot's chat lines; zero means no chat.
    public var chatInterval: Duration
    /// Radius, in world units, of the disc the bots walk in.
    public var spread: Float
    /// Centre of that disc; nil takes the first bot's spawn point.
    public var center: BotPosition?
    /// The server's movement speed limit, units per second.
    public var maxSpeed: Float
    /// Class id for newly created characters.
    public var classId: UInt8
    /// Letters that start every bot's character name (at most 6; the index adds 10).
    public var namePrefix: String
    /// Bots logging in at the same time during ramp-up.
    public var concurrency: Int
    /// How long each request may take.
    public var requestTimeout: Duration
    /// How often a progress line is written during the measurement.
    var progressInterval: Duration = .seconds(5)

    public init(
        host: String = "127.0.0.1", port: Int = 7777, tokens: [String], duration: Duration = .seconds(30),
        moveInterval: Duration = .milliseconds(200), chatInterval: Duration = .seconds(10), spread: Float = 60,
        center: BotPosition? = nil, maxSpeed: Float = 7, classId: UInt8 = 1, namePrefix: String = "Bot",
        concurrency: Int = 64, requestTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.duration = duration
        self.moveInterval = moveInterval
        self.chatInterval = chatInterval
        self.spread = spread
        self.center = center
        self.maxSpeed = maxSpeed
        self.classId = classId
        self.namePrefix = namePrefix
        self.concurrency = concurrency
        self.requestTimeout = requestTimeout
    }

    /// Refuses values the run cannot work with; messages name the `mmo-bot` flags.
    public func validate() throws(BotConfigurationError) {
        guard duration > .zero, moveInterval > .zero, spread >= 0, maxSpeed > 0, concurrency > 0, requestTimeout > .zero,
            chatInterval >= .zero
        else {
            throw BotConfigurationError("durations, intervals, --concurrency and --max-speed must be positive")
        }
        guard !namePrefix.isEmpty, namePrefix.count <= 6, namePrefix.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            // Character names are 3-16 ASCII letters; the index adds 10.
            throw BotConfigurationError("--name-prefix must be 1 to 6 ASCII letters")
        }
    }
}

/// The session tokens of a load run, from a file with one per line.
public enum LoadTokens {
    /// The tokens in `text`: one per line, trimmed; blank lines and `#` comments skipped.
    public static func parse(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The first `count` tokens (all when nil); `source` names the file in the error.
    public static func select(_ count: Int?, from tokens: [String], source: String) throws(BotConfigurationError) -> [String] {
        let count = count ?? tokens.count
        guard count <= tokens.count else {
            throw BotConfigurationError("--bots \(count) needs \(count) tokens; \(source) has \(tokens.count)")
        }
        guard count > 0 else { throw BotConfigurationError("\(source) has no tokens") }
        return Array(tokens.prefix(count))
    }
}
