import Logging
import MMOProtocol
import NIOCore
import NIOPosix
import Synchronization

/// The outcome of a successful LOGIN.
public struct LoginResult: Sendable, Equatable {
    /// Always `.ok`: refusals are thrown as `GameClientError.refused`.
    public var code: ResultCode
    public var accountId: String
    public var displayName: String

    public init(code: ResultCode, accountId: String, displayName: String) {
        self.code = code
        self.accountId = accountId
        self.displayName = displayName
    }
}

/// The account's characters, from CHARACTER_LIST.
public struct CharacterList: Sendable, Equatable {
    /// How many characters the account may have.
    public var maxCharacters: Int
    public var characters: [CharacterSummary]

    public init(maxCharacters: Int, characters: [CharacterSummary]) {
        self.maxCharacters = maxCharacters
        self.characters = characters
    }

    /// The character with this name, compared without regard to case as the server does
    /// (it stores names capitalized: "aRTHAS" comes back as "Arthas").
    public func named(_ name: String) -> CharacterSummary? {
        let wanted = name.lowercased()
        return characters.first { $0.name.lowercased() == wanted }
    }
}

/// One player connection to a packet service, from the player's side of the protocol.
///
/// Requests (`login`, `listCharacters`, ...) are `async` and return the server's answer or throw
/// a `GameClientError`; they may be called from any task, concurrently: the client queues them
/// and puts one at a time on the wire, as the server serves one at a time. `move` and `say` are
/// fire-and-forget. Everything the server sends unasked arrives on `events`.
///
/// ```swift
/// let client = try await GameClient.connect(host: "127.0.0.1", port: 7777)
/// _ = try await client.login(token: token)
/// let hero = try await client.createCharacter(name: "Alice", classId: 1)
/// let entry = try await client.enterWorld(characterId: hero.id)
/// var view = WorldView(selfEntityId: entry.entityId)
/// for await event in client.events { view.apply(event) }
/// ```
public final class GameClient: Sendable {
    /// Unsolicited server messages in arrival order; finishes after `.connectionClosed`.
    public let events: AsyncStream<ClientEvent>
    /// Traffic counters (shared with other clients if the configuration said so).
    public let statistics: ClientStatistics
    /// Protocol version the server acknowledged in HELLO_ACK.
    public let serverVersion: UInt16
    /// Largest client frame (opcode + body) the server accepts, from HELLO_ACK.
    public let maxClientFrame: Int
    public let configuration: GameClientConfiguration

    /// Where and how to (re)connect: a resume reuses it.
    struct Endpoint: Sendable {
        var host: String
        var port: Int
        var clientName: String
        /// The caller's configuration, with the event loop and the statistics fixed.
        var configuration: GameClientConfiguration
    }

    /// One open connection after HELLO_ACK.
    struct Link: Sendable {
        let channel: any Channel
        let closeReason: CloseReasonBox
        let serverVersion: UInt16
        let maxClientFrame: Int
    }

    private let session: ClientSession
    private let endpoint: Endpoint
    private let nextMoveSeq = Atomic<UInt32>(0)
    private let nextPingNonce = Atomic<UInt32>(0)

    private init(session: ClientSession, endpoint: Endpoint, events: AsyncStream<ClientEvent>, statistics: ClientStatistics,
                 serverVersion: UInt16, maxClientFrame: Int, configuration: GameClientConfiguration) {
        self.session = session
        self.endpoint = endpoint
        self.events = events
        self.statistics = statistics
        self.serverVersion = serverVersion
        self.maxClientFrame = maxClientFrame
        self.configuration = configuration
        let resume = configuration.resume
        session.reconnector.withLock {
            // Weak: the session holds this closure.
            $0 = { [weak session, endpoint] reason in
                guard let session else { return }
                Task { await Self.resume(session: session, endpoint: endpoint, settings: resume, reason: reason) }
            }
        }
    }

    // The client owns its connection: nothing else can use it once the client is gone.
    deinit {
        _ = session.endByUser()
        session.currentChannel?.close(promise: nil)
    }

    /// The event loop this client's connections run on (a resume reconnects on the same one);
    /// schedule per-client timers here to avoid tasks.
    public var eventLoop: any EventLoop { session.eventLoop }

    /// True while a connection is open; false while reconnecting (see `isReconnecting`) and
    /// after the client has closed.
    public var isConnected: Bool { session.phase == .open && session.currentChannel?.isActive == true }

    /// True between `.reconnecting` and `.resumed` / `.reentered` / `.resumeFailed`.
    public var isReconnecting: Bool { session.phase == .reconnecting }

    /// True when a drop now would be resumed: in the world, holding a resume token, resume on.
    public var canResume: Bool { session.mayResume }

    /// Why the client ended (`.disconnected(code, message)` after a DISCONNECT), or nil while it
    /// is open or reconnecting.
    public var closeReason: GameClientError? { session.finalReason.value }

    // MARK: connection

    /// Opens a TCP connection, sends HELLO and waits for HELLO_ACK.
    ///
    /// - Parameter timeout: bounds the TCP connect and the handshake together.
    /// - Throws: `GameClientError.connectFailed`, `.disconnected` (the server refused the HELLO,
    ///   e.g. UNSUPPORTED_VERSION), `.timedOut(.hello)`, `.invalidArgument` (client name too long).
    public static func connect(
        host: String,
        port: Int,
        clientName: String = "mmo-client",
        timeout: Duration = .seconds(10),
        configuration: GameClientConfiguration = GameClientConfiguration()
    ) async throws -> GameClient {
        try checkLength(clientName, max: ProtocolLimits.maxClientNameBytes, what: "client name")
        // Every connection of this client (the first and any a resume opens) runs on one event
        // loop, so the session sees its connections' reports in order and `eventLoop` stays valid.
        let eventLoop = configuration.eventLoopGroup.next()
        var pinned = configuration
        pinned.eventLoopGroup = eventLoop
        let statistics = configuration.statistics ?? ClientStatistics()
        pinned.statistics = statistics
        let (events, continuation) = AsyncStream.makeStream(of: ClientEvent.self, bufferingPolicy: configuration.eventBuffering)
        let session = ClientSession(continuation: continuation, observer: configuration.eventObserver, eventLoop: eventLoop,
                                    logger: configuration.logger, resumeEnabled: configuration.resume.enabled)
        let endpoint = Endpoint(host: host, port: port, clientName: clientName, configuration: pinned)
        let link: Link
        do {
            link = try await open(endpoint, timeout: timeout, session: session)
        } catch {
            continuation.finish()
            throw error
        }
        let client = GameClient(session: session, endpoint: endpoint, events: events, statistics: statistics,
                                serverVersion: link.serverVersion, maxClientFrame: link.maxClientFrame, configuration: configuration)
        session.adopt(link.channel, closeReason: link.closeReason)
        return client
    }

    /// Opens one connection: TCP (and TLS), HELLO, HELLO_ACK. The first connect and every
    /// reconnect of a resume go through here, so they share the TLS and pipeline setup.
    static func open(_ endpoint: Endpoint, timeout: Duration, session: ClientSession) async throws -> Link {
        let host = endpoint.host, port = endpoint.port, clientName = endpoint.clientName, configuration = endpoint.configuration
        let started = ContinuousClock.now
        // TLS (configuration.tls): set up before anything needs cleaning up, so a bad CA file
        // fails here with `.tlsFailed`.
        let tls = try configuration.tls.map { try GameClientTLSConnection($0, host: host, eventLoop: configuration.eventLoopGroup.next()) }
        let statistics = configuration.statistics ?? ClientStatistics()
        let keepAlive = configuration.keepAliveInterval.map { TimeAmount($0) }
        let closeReason = CloseReasonBox()
        let bootstrap = ClientBootstrap(group: configuration.eventLoopGroup)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try tls?.addHandlers(to: sync)  // first: everything behind it sees plaintext
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxServerFrame)))
                    try sync.addHandler(GameClientHandler(
                        session: session,
                        resume: configuration.resume,
                        statistics: statistics,
                        keepAliveInterval: keepAlive,
                        keepAliveTimeout: TimeAmount(configuration.requestTimeout),
                        closeReason: closeReason,
                        logger: configuration.logger))
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            tls?.abandon()
            throw GameClientError.connectFailed("\(host):\(port): \(error)")
        }

        do {
            // A certificate problem is reported as such (`.tlsFailed`), not as a closed connection.
            try await tls?.waitForHandshake(
                on: channel, timeout: max(timeout - (ContinuousClock.now - started), .milliseconds(1)), endpoint: "\(host):\(port)")
            let remaining = max(timeout - (ContinuousClock.now - started), .milliseconds(1))
            let hello = ClientMessage.hello(.init(clientName: clientName))
            let reply = try await request(on: channel, closeReason: closeReason, hello, expecting: .helloAck, timeout: remaining)
            guard case .helloAck(let version, let maxFrame) = reply else {
                throw GameClientError.unexpectedResponse("\(reply.opcode) to HELLO")
            }
            return Link(channel: channel, closeReason: closeReason, serverVersion: version, maxClientFrame: Int(maxFrame))
        } catch {
            try? await channel.close()
            // Plain TCP to a TLS port: say so rather than "protocol violation".
            throw tls == nil ? GameClientTLSConnection.explainPlainToTLS(error, endpoint: "\(host):\(port)") : error
        }
    }

    /// Sends LOGOUT and waits (at most `timeout`) for the server to close the connection, then
    /// closes it from this side if it is still open. Never throws: afterwards the client is closed.
    /// While reconnecting it just ends the client (the character then leaves the world when the
    /// grace period passes).
    public func logout(timeout: Duration = .seconds(5)) async {
        guard session.endByUser() == .open, let channel = session.currentChannel else {
            await waitUntilClosed()
            return
        }
        channel.writeAndFlush(OutboundMessage.send(.logout), promise: nil)
        let session = self.session
        let fallback = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
            session.finish(.connectionClosed)
        }
        try? await channel.closeFuture.get()
        fallback.cancel()
        await waitUntilClosed()
    }

    /// Closes the connection without LOGOUT (and stops a reconnect). Pending requests fail with
    /// `.connectionClosed`.
    public func close() async {
        if session.endByUser() == .open, let channel = session.currentChannel {
            channel.close(promise: nil)
            // closeFuture, not close()'s own future: NIO completes the latter before the handlers
            // have seen the close, and callers expect `closeReason` and `events` to be final here.
            try? await channel.closeFuture.get()
        }
        session.finish(.connectionClosed)
        await waitUntilClosed()
    }

    /// Returns when the client has ended for good (after any resume attempts).
    public func waitUntilClosed() async {
        try? await session.finished.futureResult.get()
    }

    // MARK: requests

    /// LOGIN with a session token from the web site.
    /// - Throws: `.refused(TOKEN_UNKNOWN)` and the other login codes, `.invalidArgument` for a
    ///   token over 512 bytes.
    public func login(token: String) async throws -> LoginResult {
        try Self.checkLength(token, max: ProtocolLimits.maxTokenBytes, what: "token")
        let reply = try await request(.login(token: token), expecting: .loginResult)
        guard case .loginResult(let code, let accountId, let displayName) = reply else { throw unexpected(reply, to: .login) }
        guard code == .ok else { throw GameClientError.refused(code) }
        return LoginResult(code: code, accountId: accountId, displayName: displayName)
    }

    /// CHARACTER_LIST.
    public func listCharacters() async throws -> CharacterList {
        let reply = try await request(.characterList, expecting: .characterListResult)
        guard case .characterListResult(let code, let maxCharacters, let characters) = reply else {
            throw unexpected(reply, to: .characterList)
        }
        guard code == .ok else { throw GameClientError.refused(code) }
        return CharacterList(maxCharacters: Int(maxCharacters), characters: characters)
    }

    /// CHARACTER_CREATE; returns the new character.
    /// - Throws: `.refused(NAME_TAKEN, detail:)`, `.refused(NAME_INVALID, detail:)`, ... with the
    ///   server's explanation in `detail`.
    public func createCharacter(name: String, classId: UInt8, appearance: UInt32 = 0) async throws -> CharacterSummary {
        try Self.checkLength(name, max: ProtocolLimits.maxCharacterNameBytes, what: "character name")
        let reply = try await request(.characterCreate(name: name, classId: classId, appearance: appearance), expecting: .characterCreateResult)
        guard case .characterCreateResult(let code, let character, let detail) = reply else {
            throw unexpected(reply, to: .characterCreate)
        }
        guard code == .ok else { throw GameClientError.refused(code, detail: detail) }
        guard let character else { throw GameClientError.unexpectedResponse("CHARACTER_CREATE_RESULT OK without a character") }
        return character
    }

    /// CHARACTER_DELETE.
    public func deleteCharacter(id: UInt64) async throws {
        let reply = try await request(.characterDelete(characterId: id), expecting: .characterDeleteResult)
        guard case .characterDeleteResult(let code, _) = reply else { throw unexpected(reply, to: .characterDelete) }
        guard code == .ok else { throw GameClientError.refused(code) }
    }

    /// ENTER_WORLD; on success WORLD_UPDATEs follow on `events`.
    public func enterWorld(characterId: UInt64) async throws -> WorldEntry {
        let reply = try await request(.enterWorld(characterId: characterId), expecting: .enterWorldResult)
        guard case .enterWorldResult(let code, let entry) = reply else { throw unexpected(reply, to: .enterWorld) }
        guard code == .ok else { throw GameClientError.refused(code) }
        guard let entry else { throw GameClientError.unexpectedResponse("ENTER_WORLD_RESULT OK without an entry") }
        return entry
    }

    /// LEAVE_WORLD; waits for LEFT_WORLD (which also appears on `events`).
    public func leaveWorld() async throws {
        // No resume if the connection drops from here on: the player asked to leave.
        session.setLeaving(true)
        let reply: ServerMessage
        do {
            reply = try await request(.leaveWorld, expecting: .leftWorld)
        } catch {
            session.setLeaving(false)
            throw error
        }
        guard case .leftWorld(let code) = reply else { throw unexpected(reply, to: .leaveWorld) }
        guard code == .ok else { throw GameClientError.refused(code) }
    }

    /// PING; returns the round-trip time (including any wait behind an outstanding request).
    public func ping() async throws -> Duration {
        let nonce = nextPingNonce.wrappingAdd(1, ordering: .relaxed).newValue & 0x7FFF_FFFF
        let started = ContinuousClock.now
        let reply = try await request(.ping(nonce: nonce), expecting: .pong)
        let elapsed = ContinuousClock.now - started
        guard case .pong(let echoed) = reply else { throw unexpected(reply, to: .ping) }
        guard echoed == nonce else { throw GameClientError.unexpectedResponse("PONG nonce \(echoed), expected \(nonce)") }
        return elapsed
    }

    // MARK: fire-and-forget

    /// MOVE to (x, y). Returns the move's sequence number: a CORRECTION event carrying it means
    /// the server refused this move. Nothing is awaited. While reconnecting the move is dropped
    /// (the character stands still, link-dead): continue from the position `.resumed` gives.
    /// - Throws: `.invalidArgument` for a non-finite coordinate, the close reason when closed.
    @discardableResult
    public func move(x: Float, y: Float) throws -> UInt32 {
        guard x.isFinite, y.isFinite else { throw GameClientError.invalidArgument("non-finite position (\(x), \(y))") }
        let channel = try channelForSend()
        let seq = nextMoveSeq.wrappingAdd(1, ordering: .relaxed).newValue
        channel?.writeAndFlush(OutboundMessage.send(.move(seq: seq, x: x, y: y)), promise: nil)
        return seq
    }

    /// SAY `text` to players nearby. A refusal (e.g. CHAT_RATE_LIMITED) arrives as a
    /// `.refused(requestOpcode: SAY, ...)` event.
    /// - Throws: `.invalidArgument` for more than 256 bytes of UTF-8 (truncate with
    ///   `truncatedUTF8(maxBytes:)` first if that is what you want).
    public func say(_ text: String) throws {
        try Self.checkLength(text, max: ProtocolLimits.maxChatBytes, what: "chat text")
        try channelForSend()?.writeAndFlush(OutboundMessage.send(.say(text: text)), promise: nil)
    }

    // MARK: private

    /// The connection for a fire-and-forget message; nil (drop it) while reconnecting, or while
    /// a closed connection is being handed to the session.
    private func channelForSend() throws -> (any Channel)? {
        let (phase, channel) = session.state.withLock { ($0.phase, $0.channel) }
        switch phase {
        case .finished: throw session.finalReason.value ?? GameClientError.connectionClosed
        case .reconnecting: return nil
        case .open:
            if let channel, channel.isActive { return channel }
            // Closed but not yet handed to the session: drop only if a resume may follow.
            guard session.mayResume else { throw GameClientError.connectionClosed }
            return nil
        }
    }

    /// Requests made while reconnecting wait for the resume (within `requestTimeout`, then
    /// `.timedOut`), and go out on the new connection.
    private func request(_ message: ClientMessage, expecting: Opcode) async throws -> ServerMessage {
        let started = ContinuousClock.now
        let timeout = configuration.requestTimeout
        let channel = try await session.channelForRequest(message.opcode, timeout: timeout)
        let remaining = max(timeout - (ContinuousClock.now - started), .milliseconds(1))
        return try await Self.request(on: channel, closeReason: session.finalReason, message, expecting: expecting, timeout: remaining)
    }

    static func request(on channel: any Channel, closeReason: CloseReasonBox, _ message: ClientMessage, expecting: Opcode, timeout: Duration) async throws -> ServerMessage {
        let response = channel.eventLoop.makePromise(of: ServerMessage.self)
        let command = OutboundMessage.request(message, expecting: expecting, timeout: TimeAmount(timeout), response: response)
        channel.writeAndFlush(command).whenFailure { error in
            // Only reached when the pipeline is already gone; the handler fails it otherwise.
            response.fail(error as? GameClientError ?? closeReason.value ?? .connectionClosed)
        }
        return try await response.futureResult.get()
    }

    private func unexpected(_ reply: ServerMessage, to request: Opcode) -> GameClientError {
        .unexpectedResponse("\(reply.opcode) to \(request)")
    }

    private static func checkLength(_ string: String, max: Int, what: String) throws {
        let bytes = string.utf8.count
        guard bytes <= max else {
            throw GameClientError.invalidArgument("\(what) is \(bytes) bytes of UTF-8, limit \(max)")
        }
    }
}
