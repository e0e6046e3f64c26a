import MMOClient
import MMOProtocol

/// What `mmo-bot scenario` does: who plays, what it must see, and how long it may take.
public struct ScenarioConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// TLS to the client port (`mmos://`, `--tls`); nil: plain TCP.
    public var tls: GameClientTLS? = nil
    /// Session token (e.g. from `mmo dev create-user`).
    public var token: String
    /// Character name; created when the account does not have it.
    public var character: String
    /// Class id for a newly created character.
    public var classId: UInt8
    /// A character that must be seen appearing, moving and chatting; nil checks only ourselves.
    public var expectPeer: String?
    /// The chat line; nil means "hello from CHARACTER".
    public var say: String?
    /// The whole scenario; checks still unmet after it fail.
    public var timeout: Duration
    /// Where to walk first; nil starts the small square at the spawn point.
    public var target: BotPosition?
    /// How long to keep playing after every check passed, so the peer can see us too. At least
    /// `chatEvery` + 1 s is used, so the peer hears one more chat line.
    public var grace: Duration
    /// Time between repetitions of the chat line.
    public var chatEvery: Duration
    /// Time between moves.
    public var stepInterval: Duration
    /// The server's movement speed limit, units per second.
    public var maxSpeed: Float
    /// The shortest play before passed checks may end the run: a peer that connects a little
    /// later still gets to see us.
    var minimumPlay: Duration = .seconds(2)

    public init(
        host: String = "127.0.0.1", port: Int = 7777, token: String, character: String, classId: UInt8 = 1,
        expectPeer: String? = nil, say: String? = nil, timeout: Duration = .seconds(30), target: BotPosition? = nil,
        grace: Duration = .seconds(3), chatEvery: Duration = .seconds(3), stepInterval: Duration = .milliseconds(200),
        maxSpeed: Float = 7
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.character = character
        self.classId = classId
        self.expectPeer = expectPeer
        self.say = say
        self.timeout = timeout
        self.target = target
        self.grace = grace
        self.chatEvery = chatEvery
        self.stepInterval = stepInterval
        self.maxSpeed = maxSpeed
    }

    /// The chat line actually said.
    public var chatLine: String { say ?? "hello from \(character)" }

    /// Refuses values the run cannot work with; messages name the `mmo-bot` flags.
    public func validate() throws(BotConfigurationError) {
        guard timeout > .zero, grace >= .zero, chatEvery > .zero, stepInterval > .zero, maxSpeed > 0 else {
            throw BotConfigurationError("--timeout, --chat-every, --step-ms and --max-speed must be positive")
        }
        guard character.utf8.count <= ProtocolLimits.maxCharacterNameBytes else {
            throw BotConfigurationError("--character is longer than \(ProtocolLimits.maxCharacterNameBytes) bytes")
        }
        guard (say ?? "").utf8.count <= ProtocolLimits.maxChatBytes else {
            throw BotConfigurationError("--say is longer than \(ProtocolLimits.maxChatBytes) bytes")
        }
    }
}
