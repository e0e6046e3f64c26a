import MMOProtocol
import NIOCore
import NIOPosix
import Synchronization

@testable import MMOBot

/// A small game server on 127.0.0.1, port 0, speaking the real client protocol (MMOProtocol's
/// codecs over TCP), so the bots run unchanged against it. It keeps accounts, characters and
/// one shared world where everybody sees everybody: APPEAR on entry, every MOVE relayed to the
/// others, every SAY echoed to all (the speaker too), LEFT_WORLD, and DISCONNECT(OK) on LOGOUT.
/// A move longer than `maxStep` from the last accepted position is answered with a CORRECTION,
/// as the real server's speed check would.
///
/// Reconnecting (docs/protocol.md "Reconnecting"): after ENTER_WORLD_RESULT(OK) and
/// RESUME_RESULT(OK) it sends RESUME_TOKEN; a connection that drops in the world leaves its
/// character link-dead, and RESUME with its token (once) takes it back as a new entity with a
/// fresh snapshot. Tests cut connections (`drop`), stop answering (`silence`), send a
/// DISCONNECT (`disconnectAll`) or a VIEW_RESET (`resetViews`) on demand.
final class FakeGameServer: Sendable {
    struct Options: Sendable {
        /// Tokens that log in; any other gets LOGIN_RESULT(TOKEN_UNKNOWN).
        var tokens: Set<String>
        /// Characters each token's account already has, by name.
        var existingCharacters: [String: [String]] = [:]
        /// Names that CHARACTER_CREATE refuses with NAME_TAKEN.
        var takenNames: Set<String> = []
        /// Longest accepted move; longer ones get a CORRECTION(MOVE_TOO_FAST).
        var maxStep: Float = 100
        var spawn = (x: Float(10), y: Float(20))
        /// Answer every RESUME with RESUME_REJECTED (the fallback path).
        var rejectResumes = false
        var graceSeconds: UInt16 = 60
        /// Serve RESUME this much later (a slow resume).
        var resumeDelay: TimeAmount?
        /// Answer the first this many RESUMEs SERVICE_UNAVAILABLE (a backend outage), token kept.
        var unavailableResumes = 0
    }

    /// What the server saw, for assertions.
    struct Log: Sendable {
        var logins: [String] = []
        var created: [String] = []
        var entered = 0
        var moves = 0
        var chats: [String] = []
        var leaves = 0
        var logouts = 0
        var corrections = 0
        /// The last accepted position of each character, by name.
        var lastPositions: [String: BotPosition] = [:]
        /// RESUME_TOKENs sent and RESUME tokens received, in order.
        var resumeTokensIssued: [String] = []
        var resumeTokensPresented: [String] = []
        var resumes = 0
        var resumesRejected = 0
        var viewResets = 0
        /// Connections cut by `drop`.
        var dropped = 0
    }

    private final class Connection: Sendable {
        let channel: any Channel
        init(channel: any Channel) { self.channel = channel }

        func send(_ message: ServerMessage) {
            var buffer = channel.allocator.buffer(capacity: 64)
            message.encode(into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        }
    }

    private struct Player {
        var token: String
        var entity: UInt64?
        var name = ""
        var x: Float = 0
        var y: Float = 0
        var characterId: UInt64 = 0
        var resumeToken: String?
    }

    private struct State {
        var characters: [String: [CharacterSummary]] = [:]
        var players: [ObjectIdentifier: (connection: Connection, player: Player)] = [:]
        var nextCharacterId: UInt64 = 100
        var nextEntityId: UInt64 = 1000
        var tick: UInt64 = 0
        var log = Log()
        var nextResumeToken = 0
        /// Characters whose connection dropped in the world, by their resume token.
        var linkDead: [String: Player] = [:]
        /// Connections that get no answer to anything (a dead link that TCP has not noticed).
        var silenced: Set<ObjectIdentifier> = []
    }

    fileprivate let options: Options
    private let state = Mutex(State())
    private let serverChannel = Mutex<(any Channel)?>(nil)
    private let boundPort = Atomic<Int>(0)

    var port: Int { boundPort.load(ordering: .relaxed) }
    var log: Log { state.withLock { $0.log } }

    private init(options: Options) {
        self.options = options
    }

    static func start(_ options: Options) async throws -> FakeGameServer {
        let server = FakeGameServer(options: options)
        server.state.withLock { state in
            for (token, names) in options.existingCharacters {
                state.characters[token] = names.map { name in
                    state.nextCharacterId += 1
                    return CharacterSummary(
                        id: state.nextCharacterId, name: name, classId: 1, appearance: 0, level: 3, zoneId: 1, x: 0, y: 0)
                }
            }
        }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: ProtocolLimits.defaultMaxClientFrame)))
                    try child.pipeline.syncOperations.addHandler(Handler(server: server, connection: Connection(channel: child)))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.serverChannel.withLock { $0 = channel }
        server.boundPort.store(channel.localAddress!.port!, ordering: .relaxed)
        return server
    }

    func shutdown() async {
        let channel = serverChannel.withLock { $0 }
        try? await channel?.close()
        let open = state.withLock { $0.players.values.map(\.connection.channel) }
        for channel in open { try? await channel.close() }
    }

    // MARK: protocol

    private func received(_ message: ClientMessage, from connection: Connection) {
        let key = ObjectIdentifier(connection)
        // Sends are collected under the lock and made after it, so no write runs while locked.
        var sends: [(Connection, ServerMessage)] = []
        var close = false
        var closeOthers: [Connection] = []
        if state.withLock({ $0.silenced.contains(key) }) { return }
        state.withLock { state in
            func world(_ events: [WorldEvent], to target: Connection) {
                state.tick += 1
                sends.append((target, .worldUpdate(tick: state.tick, events: events)))
            }
            func others(of key: ObjectIdentifier) -> [Connection] {
                state.players.filter { $0.key != key && $0.value.player.entity != nil }.map(\.value.connection)
            }
            switch message {
            case .hello:
                sends.append((connection, .helloAck(version: ProtocolLimits.version, maxClientFrame: UInt32(ProtocolLimits.defaultMaxClientFrame))))
            case .ping(let nonce):
                sends.append((connection, .pong(nonce: nonce)))
            case .login(let token):
                state.log.logins.append(token)
                guard options.tokens.contains(token) else {
                    sends.append((connection, .loginResult(code: .tokenUnknown, accountId: "", displayName: "")))
                    return
                }
                state.players[key] = (connection, Player(token: token))
                sends.append((connection, .loginResult(code: .ok, accountId: "acc-\(token)", displayName: "Player \(token)")))
            case .characterList:
                guard let token = state.players[key]?.player.token else { return }
                let characters = state.characters[token] ?? []
                sends.append((connection, .characterListResult(code: .ok, maxCharacters: 8, characters: characters)))
            case .characterCreate(let name, let classId, let appearance):
                guard let token = state.players[key]?.player.token else { return }
                state.log.created.append(name)
                if options.takenNames.contains(name) {
                    sends.append((connection, .characterCreateResult(code: .nameTaken, character: nil, detail: "\(name) is taken")))
                    return
                }
                state.nextCharacterId += 1
                // Stored capitalized, as the real server does.
                let stored = name.prefix(1).uppercased() + name.dropFirst().lowercased()
                let character = CharacterSummary(
                    id: state.nextCharacterId, name: stored, classId: classId, appearance: appearance, level: 1, zoneId: 1, x: 0, y: 0)
                state.characters[token, default: []].append(character)
                sends.append((connection, .characterCreateResult(code: .ok, character: character, detail: "")))
            case .enterWorld(let characterId):
                guard var entry = state.players[key],
                    let character = state.characters[entry.player.token]?.first(where: { $0.id == characterId })
                else {
                    sends.append((connection, .enterWorldResult(code: .characterNotFound, entry: nil)))
                    return
                }
                state.log.entered += 1
                state.nextEntityId += 1
                entry.player.entity = state.nextEntityId
                entry.player.name = character.name
                entry.player.x = state.log.lastPositions[character.name]?.x ?? options.spawn.x
                entry.player.y = state.log.lastPositions[character.name]?.y ?? options.spawn.y
                entry.player.characterId = character.id
                let resumeToken = issueResumeToken(&state)
                entry.player.resumeToken = resumeToken
                state.players[key] = entry
                let me = appearance(of: entry.player)
                sends.append((connection, .enterWorldResult(
                    code: .ok, entry: WorldEntry(entityId: state.nextEntityId, zoneId: 1, x: entry.player.x, y: entry.player.y, tickRateHz: 20))))
                sends.append((connection, .resumeToken(token: resumeToken, graceSeconds: options.graceSeconds)))
                let visible = state.players.filter { $0.key != key && $0.value.player.entity != nil }.map { appearance(of: $0.value.player) }
                world([me] + visible, to: connection)
                for other in others(of: key) { world([me], to: other) }
            case .move(let seq, let x, let y):
                guard var entry = state.players[key], let entity = entry.player.entity else { return }
                state.log.moves += 1
                let dx = x - entry.player.x, dy = y - entry.player.y
                if (dx * dx + dy * dy).squareRoot() > options.maxStep {
                    state.log.corrections += 1
                    world([.correction(seq: seq, x: entry.player.x, y: entry.player.y, reason: .moveTooFast)], to: connection)
                    return
                }
                entry.player.x = x
                entry.player.y = y
                state.players[key] = entry
                state.log.lastPositions[entry.player.name] = BotPosition(x: x, y: y)
                for other in others(of: key) { world([.move(entityId: entity, x: x, y: y)], to: other) }
            case .say(let text):
                guard let entry = state.players[key], let entity = entry.player.entity else { return }
                state.log.chats.append(text)
                let chat = WorldEvent.chat(entityId: entity, name: entry.player.name, text: text)
                world([chat], to: connection)
                for other in others(of: key) { world([chat], to: other) }
            case .leaveWorld:
                guard var entry = state.players[key], let entity = entry.player.entity else { return }
                state.log.leaves += 1
                for other in others(of: key) { world([.disappear(entityId: entity)], to: other) }
                entry.player.entity = nil
                entry.player.resumeToken = nil
                state.players[key] = entry
                sends.append((connection, .leftWorld(code: .ok)))
            case .logout:
                state.log.logouts += 1
                // The token dies with a LOGOUT: the character is not left link-dead.
                state.players[key]?.player.resumeToken = nil
                sends.append((connection, .disconnect(code: .ok, message: "")))
                close = true
            case .characterDelete(let id):
                sends.append((connection, .characterDeleteResult(code: .characterNotFound, characterId: id)))
            case .resume(let token):
                state.log.resumeTokensPresented.append(token)
                // A live connection holding the token (its drop not noticed yet) is taken over.
                if let live = state.players.first(where: { $0.value.player.resumeToken == token && $0.key != key }) {
                    state.players[live.key]?.player.resumeToken = nil
                    state.linkDead[token] = state.players.removeValue(forKey: live.key)?.player
                    sends.append((live.value.connection, .disconnect(code: .loggedInElsewhere, message: "resumed elsewhere")))
                    closeOthers.append(live.value.connection)
                }
                if state.log.resumeTokensPresented.count <= options.unavailableResumes {
                    sends.append((connection, .resumeResult(code: .serviceUnavailable, session: nil)))
                    return
                }
                guard !options.rejectResumes, var player = state.linkDead.removeValue(forKey: token), let oldEntity = player.entity else {
                    state.log.resumesRejected += 1
                    sends.append((connection, .resumeResult(code: .resumeRejected, session: nil)))
                    return
                }
                state.log.resumes += 1
                state.nextEntityId += 1
                player.entity = state.nextEntityId
                let newToken = issueResumeToken(&state)
                player.resumeToken = newToken
                state.players[key] = (connection, player)
                let session = ResumedSession(
                    accountId: "acc-\(player.token)", displayName: "Player \(player.token)", characterId: player.characterId,
                    entry: WorldEntry(entityId: state.nextEntityId, zoneId: 1, x: player.x, y: player.y, tickRateHz: 20))
                sends.append((connection, .resumeResult(code: .ok, session: session)))
                sends.append((connection, .resumeToken(token: newToken, graceSeconds: options.graceSeconds)))
                let me = appearance(of: player)
                let visible = state.players.filter { $0.key != key && $0.value.player.entity != nil }.map { appearance(of: $0.value.player) }
                world([me] + visible, to: connection)
                for other in others(of: key) { world([.disappear(entityId: oldEntity), me], to: other) }
            }
        }
        let silenced = state.withLock { $0.silenced }
        for (target, message) in sends where !silenced.contains(ObjectIdentifier(target)) { target.send(message) }
        if close { connection.channel.close(promise: nil) }
        for other in closeOthers { other.channel.close(promise: nil) }
    }

    private func issueResumeToken(_ state: inout State) -> String {
        state.nextResumeToken += 1
        let token = "rt\(state.nextResumeToken)x\(UInt64.random(in: 0...UInt64.max))"
        state.log.resumeTokensIssued.append(token)
        return token
    }

    // MARK: faults on demand

    /// Cuts up to `count` connections of players in the world (all when nil), without a
    /// DISCONNECT, as a network drop would; their characters stay link-dead. Returns how many.
    @discardableResult
    func drop(count: Int? = nil) -> Int {
        let victims = state.withLock { state -> [Connection] in
            let inWorld = state.players.values.filter { $0.player.entity != nil }.map(\.connection)
            let chosen = Array(inWorld.prefix(count ?? inWorld.count))
            state.log.dropped += chosen.count
            return chosen
        }
        for victim in victims { victim.channel.close(promise: nil) }
        return victims.count
    }

    /// Cuts the connection of the character `name` (in the world), as a network drop would.
    func drop(character name: String) {
        let victims = state.withLock { state -> [Connection] in
            let chosen = state.players.values.filter { $0.player.entity != nil && $0.player.name == name }.map(\.connection)
            state.log.dropped += chosen.count
            return chosen
        }
        for victim in victims { victim.channel.close(promise: nil) }
    }

    /// Stops answering every open connection (a dead link TCP has not noticed): nothing is
    /// read or sent on them any more. New connections are answered.
    func silence() {
        state.withLock { state in
            for key in state.players.keys { state.silenced.insert(key) }
        }
    }

    /// Sends `DISCONNECT(code)` to every connection in the world and closes it. Only IDLE_TIMEOUT
    /// and SERVER_SHUTTING_DOWN leave the character link-dead.
    func disconnectAll(code: ResultCode) {
        let victims = state.withLock { state -> [Connection] in
            let keep = code == .idleTimeout || code == .serverShuttingDown
            return state.players.compactMap { key, value in
                guard value.player.entity != nil else { return nil }
                if !keep { state.players[key]?.player.resumeToken = nil }
                return value.connection
            }
        }
        for victim in victims {
            victim.send(.disconnect(code: code, message: "test"))
            victim.channel.close(promise: nil)
        }
    }

    /// VIEW_RESET to every player in the world: a new entity id each, then a fresh snapshot.
    func resetViews() {
        var sends: [(Connection, ServerMessage)] = []
        state.withLock { state in
            for key in Array(state.players.keys) {
                guard var entry = state.players[key], entry.player.entity != nil else { continue }
                state.nextEntityId += 1
                entry.player.entity = state.nextEntityId
                state.players[key] = entry
                state.log.viewResets += 1
                sends.append((entry.connection, .viewReset(entityId: state.nextEntityId, zoneId: 1, x: entry.player.x, y: entry.player.y)))
            }
            for (connection, _) in sends {
                let key = ObjectIdentifier(connection)
                guard let me = state.players[key]?.player else { continue }
                let visible = state.players.filter { $0.key != key && $0.value.player.entity != nil }.map { appearance(of: $0.value.player) }
                state.tick += 1
                sends.append((connection, .worldUpdate(tick: state.tick, events: [appearance(of: me)] + visible)))
            }
        }
        for (target, message) in sends { target.send(message) }
    }

    private func disconnected(_ connection: Connection) {
        let key = ObjectIdentifier(connection)
        let (entity, others) = state.withLock { state -> (UInt64?, [Connection]) in
            state.silenced.remove(key)
            guard let player = state.players.removeValue(forKey: key)?.player else { return (nil, []) }
            if let token = player.resumeToken, player.entity != nil {
                // Link-dead: still in the world (others keep seeing it) until a RESUME.
                state.linkDead[token] = player
                return (nil, [])
            }
            return (player.entity, state.players.values.filter { $0.player.entity != nil }.map(\.connection))
        }
        guard let entity else { return }
        for other in others { other.send(.worldUpdate(tick: 0, events: [.disappear(entityId: entity)])) }
    }

    private func appearance(of player: Player) -> WorldEvent {
        .appear(.init(entityId: player.entity ?? 0, name: player.name, classId: 1, appearance: 0, level: 1, x: player.x, y: player.y))
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = Frame
        let server: FakeGameServer
        let connection: Connection

        init(server: FakeGameServer, connection: Connection) {
            self.server = server
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let message = try? ClientMessage.decode(unwrapInboundIn(data)) else {
                context.close(promise: nil)
                return
            }
            if case .resume = message, let delay = server.options.resumeDelay {
                let (server, connection) = (server, connection)
                context.eventLoop.scheduleTask(in: delay) { server.received(message, from: connection) }
                return
            }
            server.received(message, from: connection)
        }

        func channelInactive(context: ChannelHandlerContext) {
            server.disconnected(connection)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// Collects a run's output lines, as `mmo-bot` would print them.
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    var output: @Sendable (String) -> Void {
        { [self] line in self.storage.withLock { $0.append(line) } }
    }

    func contains(_ prefix: String) -> Bool {
        lines.contains { $0.hasPrefix(prefix) }
    }
}
