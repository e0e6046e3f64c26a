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
    }

    private struct State {
        var characters: [String: [CharacterSummary]] = [:]
        var players: [ObjectIdentifier: (connection: Connection, player: Player)] = [:]
        var nextCharacterId: UInt64 = 100
        var nextEntityId: UInt64 = 1000
        var tick: UInt64 = 0
        var log = Log()
    }

    private let options: Options
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
                entry.player.x = options.spawn.x
                entry.player.y = options.spawn.y
                state.players[key] = entry
                let me = appearance(of: entry.player)
                sends.append((connection, .enterWorldResult(
                    code: .ok, entry: WorldEntry(entityId: state.nextEntityId, zoneId: 1, x: options.spawn.x, y: options.spawn.y, tickRateHz: 20))))
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
                state.players[key] = entry
                sends.append((connection, .leftWorld(code: .ok)))
            case .logout:
                state.log.logouts += 1
                sends.append((connection, .disconnect(code: .ok, message: "")))
                close = true
            case .characterDelete(let id):
                sends.append((connection, .characterDeleteResult(code: .characterNotFound, characterId: id)))
            case .resume:
                sends.append((connection, .resumeResult(code: .resumeRejected, session: nil)))
            }
        }
        for (target, message) in sends { target.send(message) }
        if close { connection.channel.close(promise: nil) }
    }

    private func disconnected(_ connection: Connection) {
        let key = ObjectIdentifier(connection)
        let (entity, others) = state.withLock { state -> (UInt64?, [Connection]) in
            let entity = state.players.removeValue(forKey: key)?.player.entity
            return (entity, state.players.values.filter { $0.player.entity != nil }.map(\.connection))
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
