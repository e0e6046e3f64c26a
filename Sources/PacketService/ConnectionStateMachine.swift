import MMOProtocol
import NIOCore

/// A logged-in account, as the auth service named it.
public struct AccountIdentity: Sendable, Hashable {
    public var id: String
    public var displayName: String
    public init(id: String, displayName: String) {
        self.id = id
        self.displayName = displayName
    }
}

/// The protocol logic of one client connection, free of I/O (postgres-nio style).
///
/// Every event — a frame from the client, a backend answer, a world message, a timer — goes in
/// through a `mutating` method, and what to do comes back as an `Action` that
/// `PacketConnectionHandler` executes. The machine never touches a socket, a clock or a service,
/// so it is tested exhaustively without any (see ConnectionStateMachineTests).
///
/// Legality is decided in one place, `OpcodeTable`; request/response opcodes are served one at
/// a time (`pending`); limits on illegal frames, flooding, chat and failed logins are counted
/// here. Backends are seen only through the gateway's own types (Dependencies.swift,
/// WorldSessionLink.swift), never protobuf.
public struct ConnectionStateMachine: Sendable {
    /// The limits the machine enforces; taken from `PacketServerConfiguration`.
    public struct Limits: Sendable, Equatable {
        public var maxFrameSize: Int
        public var helloTimeout: TimeAmount
        /// LOGIN must succeed this long after HELLO at the latest.
        public var loginTimeout: TimeAmount
        public var idleTimeout: TimeAmount
        public var rateLimitFramesPerSecond: Double
        public var rateLimitBurst: Int
        public var maxRateLimitedFrames: Int
        public var maxIllegalFrames: Int
        public var maxFailedLogins: Int
        /// SAY lines per connection allowed in `chatRateLimitPeriod` (also the burst).
        public var chatRateLimitLines: Int
        public var chatRateLimitPeriod: TimeAmount
        /// A logged-in connection's session is validated again this often (zero: never), so a
        /// ban or sign-out on the web site reaches players already connected.
        public var sessionRecheckInterval: TimeAmount
        /// How long a character stays in the world link-dead after its connection drops, and
        /// what RESUME_TOKEN announces (zero: no link-dead characters and no resume tokens).
        public var resumeGrace: TimeAmount

        public init(_ configuration: PacketServerConfiguration = PacketServerConfiguration(gatewayId: "")) {
            maxFrameSize = configuration.maxFrameSize
            helloTimeout = TimeAmount(configuration.helloTimeout)
            loginTimeout = TimeAmount(configuration.loginTimeout)
            idleTimeout = TimeAmount(configuration.idleTimeout)
            rateLimitFramesPerSecond = configuration.rateLimitFramesPerSecond
            rateLimitBurst = configuration.rateLimitBurst
            maxRateLimitedFrames = configuration.maxRateLimitedFrames
            maxIllegalFrames = configuration.maxIllegalFrames
            maxFailedLogins = configuration.maxFailedLogins
            chatRateLimitLines = configuration.chatRateLimitLines
            chatRateLimitPeriod = TimeAmount(configuration.chatRateLimitPeriod)
            sessionRecheckInterval = TimeAmount(configuration.sessionRecheckInterval)
            resumeGrace = TimeAmount(configuration.resumeGrace)
        }
    }

    /// What the connection handler must do next.
    public enum Action: Sendable, Equatable {
        case none
        /// Write this message (flushed at the end of the read burst or at once for async events).
        case write(ServerMessage)
        /// Close the connection (see `CloseAction`).
        case close(CloseAction)
        /// Ask the auth service; answer with `loginCompleted` (for RESUME too).
        case validateSession(token: String)
        /// RESUME: take the token's ticket from the resume token store (single use); answer with
        /// `resumeTokenClaimed`.
        case claimResumeToken(String)
        /// Write `message`, then issue a resume token for `ticket` (revoking the account's
        /// previous one); answer with `resumeTokenIssued`.
        case writeAndIssueResumeToken(ServerMessage, ResumeTicket)
        /// Ask the auth service again about the logged-in session (periodic re-check, beside any
        /// pending request); answer with `sessionRecheckCompleted`.
        case recheckSession(token: String)
        /// Register the account on this gateway, disconnecting an older connection of the same
        /// account (takeover); answer with `accountClaimed()` once that one is out of the world.
        /// For a LOGIN (`resuming` false) the account's link-dead character on this gateway leaves
        /// the world and its resume token is revoked; for a RESUME the older connection's
        /// character is kept (link-dead) for the resume to take over.
        case claimAccount(AccountIdentity, resuming: Bool = false)
        /// Ask the character service; answer with the matching `…Completed`.
        case listCharacters(accountId: String)
        case createCharacter(accountId: String, name: String, classId: UInt8, appearance: UInt32)
        case deleteCharacter(accountId: String, characterId: UInt64)
        case selectCharacter(accountId: String, characterId: UInt64)
        /// Send `PlayerJoin` over the world link; the world answers with `worldJoinAccepted` or
        /// `worldJoinRejected` (call `worldJoinRejected(.serviceUnavailable)` if the link is down
        /// and `joinTimedOut()` if no answer comes in time).
        case joinWorld(WorldJoin)
        /// Forward an input to the world (no reply).
        case forwardMove(seq: UInt32, x: Float, y: Float)
        case forwardSay(text: String)
        /// Send `PlayerLeave` over the world link, then write `reply` (if any).
        case leaveWorld(reply: ServerMessage?)
    }

    /// How to close: write `message` (if any), then DISCONNECT(code, reason) (if `code` is set;
    /// nil when the peer is already gone), then close. Before that, if `leaveWorld`, send
    /// `PlayerLeave` for this session over the world link.
    /// Instead of leaving, if `linkDead` is set, the character stays in the world link-dead for
    /// the grace period (its resume token stays usable); otherwise the token is discarded.
    public struct CloseAction: Sendable, Equatable {
        public var message: ServerMessage?
        public var disconnect: ResultCode?
        public var reason: String
        public var leaveWorld: Bool
        public var linkDead: LinkDeadCharacter?

        public init(
            message: ServerMessage? = nil, disconnect: ResultCode?, reason: String, leaveWorld: Bool,
            linkDead: LinkDeadCharacter? = nil
        ) {
            self.message = message
            self.disconnect = disconnect
            self.reason = reason
            self.leaveWorld = leaveWorld
            self.linkDead = linkDead
        }
    }

    /// The character a closing connection leaves link-dead (docs/protocol.md "Reconnecting").
    public struct LinkDeadCharacter: Sendable, Equatable {
        public var accountId: String
        public var characterId: UInt64
        public init(accountId: String, characterId: UInt64) {
            self.accountId = accountId
            self.characterId = characterId
        }
    }

    enum Phase: Sendable, Equatable {
        case connected
        case awaitingLogin
        case characterSelect(AccountIdentity)
        case inWorld(AccountIdentity, characterId: UInt64)
        case closed
    }

    /// The one request/response exchange in flight, if any.
    enum Pending: Sendable, Equatable {
        case login
        case claimingAccount(AccountIdentity)
        case characterList
        case characterCreate
        case characterDelete(characterId: UInt64)
        case selectingCharacter(characterId: UInt64)
        case joiningWorld(characterId: UInt64)
        // RESUME, in order: the token is claimed, the session behind it validated again, the
        // character re-read (it must still be the account's), the account claimed on this
        // gateway (an older connection of it closes, keeping the character), the world join.
        case resumeClaimingToken
        case resumeValidating(ResumeTicket)
        case resumeSelecting(AccountIdentity, characterId: UInt64)
        case resumeClaimingAccount(AccountIdentity, WorldJoin)
        case resumeJoining(AccountIdentity, characterId: UInt64)
    }

    public let limits: Limits
    private(set) var phase: Phase = .connected
    private(set) var pending: Pending?
    /// True from the moment a join is sent until the world no longer has this session
    /// (rejected, left, leave sent, link lost): then the connection owes the world a leave.
    public private(set) var worldSessionOpen = false
    /// Flood control over every frame.
    private var bucket: TokenBucket
    /// Flood control over chat lines (SAY), on top of `bucket`.
    private var chatBucket: TokenBucket
    private var lastActivity: NIODeadline
    private let openedAt: NIODeadline
    /// Set by HELLO: AWAITING_LOGIN ends by then, whatever else the client sends.
    private var loginDeadline: NIODeadline?
    /// The token of the LOGIN being checked, then of the logged-in session (for re-checks).
    /// Held in memory only; never logged.
    private var sessionToken: String?
    /// The protocol version this connection speaks (the client's HELLO; 0 before it).
    public private(set) var protocolVersion: UInt16 = 0
    /// Version 2 clients know RESUME_TOKEN and VIEW_RESET; version 1 clients get neither, and
    /// their characters are not kept link-dead (they could never resume them).
    var speaksResume: Bool { protocolVersion >= 2 }
    /// When the logged-in session is next validated again; nil while a re-check is in flight
    /// (or re-checks are off, or nobody is logged in).
    private var nextRecheck: NIODeadline?
    public private(set) var illegalFrames = 0
    public private(set) var rateLimitedFrames = 0
    public private(set) var failedLogins = 0

    public init(limits: Limits, now: NIODeadline) {
        self.limits = limits
        self.bucket = TokenBucket(ratePerSecond: limits.rateLimitFramesPerSecond, burst: limits.rateLimitBurst, now: now)
        self.chatBucket = TokenBucket(tokens: limits.chatRateLimitLines, per: limits.chatRateLimitPeriod, now: now)
        self.lastActivity = now
        self.openedAt = now
    }

    // MARK: - Observers

    /// The protocol state, as in the opcode table.
    public var state: ConnectionState {
        switch phase {
        case .connected: .connected
        case .awaitingLogin: .awaitingLogin
        case .characterSelect: .characterSelect
        case .inWorld: .inWorld
        case .closed: .closed
        }
    }

    /// The logged-in account, once LOGIN succeeded.
    public var account: AccountIdentity? {
        switch phase {
        case .characterSelect(let a), .inWorld(let a, _): a
        case .connected, .awaitingLogin, .closed: nil
        }
    }

    /// True while a request/response exchange is in flight.
    public var hasPendingRequest: Bool { pending != nil }

    /// True while waiting for the world's answer to a join (ENTER_WORLD or RESUME).
    public var isJoiningWorld: Bool {
        switch pending {
        case .joiningWorld, .resumeJoining: true
        default: false
        }
    }

    /// When the handshake, login or idle deadline passes, if nothing arrives before. Nil once
    /// closed.
    public var timeoutDeadline: NIODeadline? {
        switch phase {
        case .connected: openedAt + limits.helloTimeout
        case .awaitingLogin: min(lastActivity + limits.idleTimeout, loginDeadline ?? .distantFuture)
        case .characterSelect, .inWorld: min(lastActivity + limits.idleTimeout, nextRecheck ?? .distantFuture)
        case .closed: nil
        }
    }

    // MARK: - Client input

    /// A frame arrived. Rate limiting comes first (a dropped frame is not even decoded), then
    /// decoding (any protocol error closes), then `receive(_:now:)`.
    public mutating func receive(frame: Frame, now: NIODeadline) -> Action {
        guard phase != .closed else { return .none }
        lastActivity = now
        guard bucket.take(now: now) else {
            rateLimitedFrames += 1
            if rateLimitedFrames > limits.maxRateLimitedFrames {
                return close(disconnect: .rateLimited, reason: "too many frames")
            }
            return .write(.error(requestOpcode: frame.opcode, code: .rateLimited))
        }
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(frame)
        } catch {
            return protocolError(error)
        }
        return receive(message, now: now)
    }

    /// A decoded client message. The opcode table decides legality before any handler runs.
    public mutating func receive(_ message: ClientMessage, now: NIODeadline) -> Action {
        let opcode = message.opcode
        guard phase != .closed else { return .none }
        let rule = OpcodeTable.rule(for: opcode)
        guard rule.legalIn.contains(state) else {
            // Anything but HELLO first is not a client of this protocol (or one that skipped the
            // handshake): nothing it sends later can be trusted, so it is not worth keeping.
            if phase == .connected {
                return close(disconnect: .illegalState, reason: "HELLO must come first")
            }
            illegalFrames += 1
            if illegalFrames > limits.maxIllegalFrames {
                return close(disconnect: .illegalState, reason: "too many packets in the wrong state")
            }
            return .write(.error(requestOpcode: opcode.rawValue, code: .illegalState))
        }
        if rule.isRequest, pending != nil {
            return .write(.error(requestOpcode: opcode.rawValue, code: .busy))
        }

        switch (message, phase) {
        case (.hello(let hello), .connected):
            guard hello.magic == ProtocolLimits.helloMagic else {
                return close(disconnect: .badHello, reason: "not an MMOR client")
            }
            guard (ProtocolLimits.oldestVersion...ProtocolLimits.version).contains(hello.version) else {
                return close(
                    disconnect: .unsupportedVersion,
                    reason: "server speaks protocol versions \(ProtocolLimits.oldestVersion)-\(ProtocolLimits.version)")
            }
            protocolVersion = hello.version
            phase = .awaitingLogin
            loginDeadline = now + limits.loginTimeout
            // The connection speaks the client's version: HELLO_ACK says which.
            return .write(.helloAck(version: hello.version, maxClientFrame: UInt32(clamping: limits.maxFrameSize)))

        case (.ping(let nonce), _):
            return .write(.pong(nonce: nonce))

        case (.logout, _):
            return close(disconnect: .ok, reason: "logged out")

        case (.login(let token), .awaitingLogin):
            pending = .login
            sessionToken = token
            return .validateSession(token: token)

        case (.resume(let token), .awaitingLogin):
            pending = .resumeClaimingToken
            return .claimResumeToken(token)

        case (.characterList, .characterSelect(let account)):
            pending = .characterList
            return .listCharacters(accountId: account.id)

        case (.characterCreate(let name, let classId, let appearance), .characterSelect(let account)):
            pending = .characterCreate
            return .createCharacter(accountId: account.id, name: name, classId: classId, appearance: appearance)

        case (.characterDelete(let id), .characterSelect(let account)):
            pending = .characterDelete(characterId: id)
            return .deleteCharacter(accountId: account.id, characterId: id)

        case (.enterWorld(let id), .characterSelect(let account)):
            pending = .selectingCharacter(characterId: id)
            return .selectCharacter(accountId: account.id, characterId: id)

        case (.move(let seq, let x, let y), .inWorld):
            return .forwardMove(seq: seq, x: x, y: y)

        case (.say(let text), .inWorld):
            // An empty line is not chat. Chat rules are connection rules, enforced here so the
            // client hears why a line went nowhere; a refused line costs no chat token.
            if text.isEmpty { return .none }
            guard text.utf8.count <= ProtocolLimits.maxChatBytes else {
                return .write(.error(requestOpcode: opcode.rawValue, code: .chatTooLong))
            }
            guard ChatText.isAllowed(text) else {
                return .write(.error(requestOpcode: opcode.rawValue, code: .chatInvalidText))
            }
            guard chatBucket.take(now: now) else {
                return .write(.error(requestOpcode: opcode.rawValue, code: .chatRateLimited))
            }
            return .forwardSay(text: text)

        case (.leaveWorld, .inWorld(let account, _)):
            // The handler discards the resume token: leaving on purpose ends it.
            phase = .characterSelect(account)
            worldSessionOpen = false
            return .leaveWorld(reply: .leftWorld(code: .ok))

        default:
            // Unreachable while OpcodeTable and this switch agree; refusing is the safe answer.
            return .write(.error(requestOpcode: opcode.rawValue, code: .illegalState))
        }
    }

    /// The frame decoder (or the message decoder) failed: DISCONNECT with the error's code.
    public mutating func protocolError(_ error: ProtocolError) -> Action {
        guard phase != .closed else { return .none }
        let reason: String
        switch error {
        case .frameTooLarge(let length, let limit): reason = "frame of \(length) bytes exceeds \(limit)"
        case .frameTooShort(let length): reason = "frame length \(length) is shorter than an opcode"
        case .unknownOpcode(let opcode): reason = "unknown opcode 0x\(String(opcode, radix: 16))"
        case .malformed(let opcode, let why): reason = "malformed 0x\(String(opcode, radix: 16)): \(why)"
        }
        return close(disconnect: error.resultCode, reason: reason)
    }

    // MARK: - Backend answers

    /// The auth service answered LOGIN (or failed: `.failure`).
    public mutating func loginCompleted(_ result: Result<SessionValidation, any Error>) -> Action {
        if case .resumeValidating(let ticket) = pending, phase == .awaitingLogin {
            return resumeValidated(result, ticket: ticket)
        }
        guard pending == .login, phase == .awaitingLogin else { return .none }
        switch result {
        case .failure:
            // Our outage, not the client's fault: not counted as a failed login.
            pending = nil
            sessionToken = nil
            return .write(.loginResult(code: .serviceUnavailable, accountId: "", displayName: ""))
        case .success(let validation) where validation.status == .valid && !validation.accountId.isEmpty:
            let account = AccountIdentity(id: validation.accountId, displayName: validation.displayName)
            pending = .claimingAccount(account)
            return .claimAccount(account)
        case .success(let validation):
            pending = nil
            sessionToken = nil
            let code = validation.status == .valid ? ResultCode.internalError : validation.status.resultCode
            let result = ServerMessage.loginResult(code: code, accountId: "", displayName: "")
            failedLogins += 1
            if failedLogins >= limits.maxFailedLogins {
                // The client still learns why this login failed; the DISCONNECT says why it
                // may not try again.
                return close(message: result, disconnect: .rateLimited, reason: "too many failed logins")
            }
            return .write(result)
        }
    }

    /// The account is registered to this connection and any older connection of it is out of
    /// the world: the login succeeds. (For a RESUME: the older connection is closed, its
    /// character link-dead; the world is asked to hand it over.)
    public mutating func accountClaimed() -> Action {
        if case .resumeClaimingAccount(let account, let join) = pending, phase == .awaitingLogin {
            pending = .resumeJoining(account, characterId: join.character.id)
            worldSessionOpen = true
            return .joinWorld(join)
        }
        guard case .claimingAccount(let account) = pending, phase == .awaitingLogin else { return .none }
        pending = nil
        phase = .characterSelect(account)
        // Counted from the LOGIN frame, the last activity: close enough for a periodic check.
        if limits.sessionRecheckInterval > .zero { nextRecheck = lastActivity + limits.sessionRecheckInterval }
        return .write(.loginResult(code: .ok, accountId: account.id, displayName: account.displayName))
    }

    /// The character service answered CHARACTER_LIST (or failed: `.failure`).
    public mutating func characterListCompleted(_ result: Result<CharacterList, any Error>) -> Action {
        guard pending == .characterList, case .characterSelect = phase else { return .none }
        pending = nil
        switch result {
        case .success(let list):
            return .write(.characterListResult(
                code: .ok,
                maxCharacters: UInt8(clamping: list.maxCharacters),
                characters: list.characters.map(CharacterSummary.init)))
        case .failure:
            return .write(.characterListResult(code: .serviceUnavailable, maxCharacters: 0, characters: []))
        }
    }

    /// The character service answered CHARACTER_CREATE; OK without a character is its fault.
    public mutating func characterCreateCompleted(_ result: Result<CharacterCreation, any Error>) -> Action {
        guard pending == .characterCreate, case .characterSelect = phase else { return .none }
        pending = nil
        switch result {
        case .success(let creation):
            let code = creation.status.resultCode
            let character = code == .ok ? creation.character.map(CharacterSummary.init) : nil
            if code == .ok, character == nil {
                return .write(.characterCreateResult(code: .internalError, character: nil, detail: "character service sent no character"))
            }
            return .write(.characterCreateResult(code: code, character: character, detail: creation.detail))
        case .failure:
            return .write(.characterCreateResult(code: .serviceUnavailable, character: nil, detail: "character service unavailable"))
        }
    }

    /// The character service answered CHARACTER_DELETE.
    public mutating func characterDeleteCompleted(_ result: Result<CharacterStatus, any Error>) -> Action {
        guard case .characterDelete(let id) = pending, case .characterSelect = phase else { return .none }
        pending = nil
        switch result {
        case .success(let status):
            return .write(.characterDeleteResult(code: status.resultCode, characterId: id))
        case .failure:
            return .write(.characterDeleteResult(code: .serviceUnavailable, characterId: id))
        }
    }

    /// The character service answered ENTER_WORLD's ownership check; on success the world is asked.
    public mutating func selectCharacterCompleted(_ result: Result<CharacterSelection, any Error>) -> Action {
        if case .resumeSelecting(let account, let id) = pending, phase == .awaitingLogin {
            switch result {
            case .success(let selection):
                // Deleted (or no longer the account's) since the token was issued: nothing to resume.
                guard selection.status == .ok, var character = selection.character else {
                    return resumeFailed(selection.status == .ok ? .internalError : .resumeRejected)
                }
                character.id = id
                pending = .resumeClaimingAccount(account, WorldJoin(character: character, accountId: account.id, resume: true))
                return .claimAccount(account, resuming: true)
            case .failure:
                return resumeFailed(.serviceUnavailable)
            }
        }
        guard case .selectingCharacter(let id) = pending, case .characterSelect(let account) = phase else { return .none }
        switch result {
        case .success(let selection):
            guard selection.status == .ok, var character = selection.character else {
                pending = nil
                let code = selection.status == .ok ? ResultCode.internalError : selection.status.resultCode
                return .write(.enterWorldResult(code: code, entry: nil))
            }
            pending = .joiningWorld(characterId: id)
            worldSessionOpen = true
            // The join names the character that was asked for, whatever the service echoed.
            character.id = id
            return .joinWorld(WorldJoin(character: character, accountId: account.id))
        case .failure:
            pending = nil
            return .write(.enterWorldResult(code: .serviceUnavailable, entry: nil))
        }
    }

    // MARK: - World answers

    public mutating func worldJoinAccepted(_ entry: WorldEntry) -> Action {
        if case .resumeJoining(let account, let id) = pending, phase == .awaitingLogin {
            pending = nil
            phase = .inWorld(account, characterId: id)
            // The resumed session is re-checked like a logged-in one, from now.
            if limits.sessionRecheckInterval > .zero { nextRecheck = lastActivity + limits.sessionRecheckInterval }
            let session = ResumedSession(accountId: account.id, displayName: account.displayName, characterId: id, entry: entry)
            return withResumeToken(.resumeResult(code: .ok, session: session), account: account, characterId: id)
        }
        guard case .joiningWorld(let id) = pending, case .characterSelect(let account) = phase else { return .none }
        pending = nil
        phase = .inWorld(account, characterId: id)
        return withResumeToken(.enterWorldResult(code: .ok, entry: entry), account: account, characterId: id)
    }

    /// `message`, then a resume token for the character just in the world (unless resuming is
    /// off or the session token is unknown, which only a test's machine lacks).
    private func withResumeToken(_ message: ServerMessage, account: AccountIdentity, characterId: UInt64) -> Action {
        guard limits.resumeGrace > .zero, speaksResume, let sessionToken else { return .write(message) }
        let ticket = ResumeTicket(
            accountId: account.id, displayName: account.displayName, sessionToken: sessionToken, characterId: characterId)
        return .writeAndIssueResumeToken(message, ticket)
    }

    /// RESUME_TOKEN for `token` while in the world; nil when the connection is no longer in it
    /// (the caller discards the token).
    public func resumeTokenMessage(_ token: String) -> ServerMessage? {
        guard case .inWorld = phase else { return nil }
        let seconds = limits.resumeGrace.nanoseconds / 1_000_000_000
        return .resumeToken(token: token, graceSeconds: UInt16(clamping: seconds))
    }

    // MARK: - RESUME

    /// The resume token store answered RESUME's claim: nil is an unknown, used or expired token.
    public mutating func resumeTokenClaimed(_ result: Result<ResumeTicket?, any Error>) -> Action {
        guard pending == .resumeClaimingToken, phase == .awaitingLogin else { return .none }
        switch result {
        case .failure:
            return resumeFailed(.serviceUnavailable)
        case .success(nil):
            return resumeFailed(.resumeRejected)
        case .success(let ticket?):
            pending = .resumeValidating(ticket)
            sessionToken = ticket.sessionToken
            return .validateSession(token: ticket.sessionToken)
        }
    }

    /// The session behind a claimed token was validated again, as for LOGIN and with its codes.
    private mutating func resumeValidated(_ result: Result<SessionValidation, any Error>, ticket: ResumeTicket) -> Action {
        switch result {
        case .failure:
            return resumeFailed(.serviceUnavailable)
        case .success(let validation) where validation.status == .valid && validation.accountId == ticket.accountId:
            let account = AccountIdentity(id: validation.accountId, displayName: validation.displayName)
            pending = .resumeSelecting(account, characterId: ticket.characterId)
            return .selectCharacter(accountId: account.id, characterId: ticket.characterId)
        case .success(let validation):
            // Valid for another account cannot happen with a ticket we issued: treat it as gone.
            return resumeFailed(validation.status == .valid ? .tokenUnknown : validation.status.resultCode)
        }
    }

    /// RESUME_RESULT(code); the connection stays in AWAITING_LOGIN. Counted as a failed login
    /// unless it is our outage (SERVICE_UNAVAILABLE), with the same limit as LOGIN.
    private mutating func resumeFailed(_ code: ResultCode) -> Action {
        pending = nil
        sessionToken = nil
        let result = ServerMessage.resumeResult(code: code == .ok ? .internalError : code, session: nil)
        guard code != .serviceUnavailable else { return .write(result) }
        failedLogins += 1
        if failedLogins >= limits.maxFailedLogins {
            return close(message: result, disconnect: .rateLimited, reason: "too many failed logins")
        }
        return .write(result)
    }

    /// The world refused the join, or the link could not carry it.
    public mutating func worldJoinRejected(_ code: ResultCode) -> Action {
        if case .resumeJoining = pending, phase == .awaitingLogin {
            worldSessionOpen = false
            return resumeFailed(code)
        }
        guard case .joiningWorld = pending, case .characterSelect = phase else { return .none }
        pending = nil
        worldSessionOpen = false
        return .write(.enterWorldResult(code: code == .ok ? .internalError : code, entry: nil))
    }

    /// No answer from the world in time: give up, and leave in case the join lands later.
    public mutating func joinTimedOut() -> Action {
        if case .resumeJoining = pending, phase == .awaitingLogin {
            pending = nil
            sessionToken = nil
            worldSessionOpen = false
            return .leaveWorld(reply: .resumeResult(code: .serviceUnavailable, session: nil))
        }
        guard case .joiningWorld = pending, case .characterSelect = phase else { return .none }
        pending = nil
        worldSessionOpen = false
        return .leaveWorld(reply: .enterWorldResult(code: .serviceUnavailable, entry: nil))
    }

    /// The world removed the character (e.g. it logged in elsewhere, or the zone shut down).
    /// Ignored unless in the world: a `LeftWorld` answering our own `PlayerLeave` arrives after
    /// LEFT_WORLD was already sent.
    public mutating func worldLeft(_ code: ResultCode) -> Action {
        guard case .inWorld(let account, _) = phase else { return .none }
        phase = .characterSelect(account)
        worldSessionOpen = false
        return .write(.leftWorld(code: code))
    }

    /// The world re-admitted this session after the link to it broke and came back, as a new
    /// entity: VIEW_RESET, before the fresh snapshot the world sends next.
    public mutating func worldReadmitted(_ entry: WorldEntry) -> Action {
        // A version 1 client has no VIEW_RESET: it carries on (with the entity id it had).
        guard case .inWorld = phase, speaksResume else { return .none }
        return .write(.viewReset(entityId: entry.entityId, zoneId: entry.zoneId, x: entry.x, y: entry.y))
    }

    /// True when a WORLD_UPDATE for this session should be forwarded.
    public var acceptsWorldUpdates: Bool {
        if case .inWorld = phase { return true }
        return false
    }

    /// The world stream failed: whatever the world had of this session is gone.
    public mutating func worldLinkLost() -> Action {
        guard worldSessionOpen else { return .none }
        worldSessionOpen = false
        switch (phase, pending) {
        case (.inWorld(let account, _), _):
            phase = .characterSelect(account)
            return .write(.leftWorld(code: .serviceUnavailable))
        case (.characterSelect, .joiningWorld?):
            pending = nil
            return .write(.enterWorldResult(code: .serviceUnavailable, entry: nil))
        case (.awaitingLogin, .resumeJoining?):
            return resumeFailed(.serviceUnavailable)
        default:
            return .none
        }
    }

    // MARK: - Connection events

    /// The handshake or idle deadline may have passed.
    public mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline = timeoutDeadline, now >= deadline else { return .none }
        if phase == .connected {
            return close(disconnect: .idleTimeout, reason: "no HELLO in time")
        }
        if phase == .awaitingLogin, let loginDeadline, now >= loginDeadline {
            return close(disconnect: .loginTimeout, reason: "no login in time")
        }
        if now < lastActivity + limits.idleTimeout, let recheck = nextRecheck, now >= recheck, let token = sessionToken {
            nextRecheck = nil
            return .recheckSession(token: token)
        }
        // Silence is how a dead link looks from here: the character may be resumed.
        return close(disconnect: .idleTimeout, reason: "no frame in time", keepCharacter: true)
    }

    /// The auth service answered a periodic re-check. A session that is no longer valid (signed
    /// out, expired, banned) ends the connection with its code; an outage of ours is not the
    /// player's fault and only schedules the next check.
    public mutating func sessionRecheckCompleted(_ result: Result<SessionValidation, any Error>, now: NIODeadline) -> Action {
        switch phase {
        case .characterSelect(let account), .inWorld(let account, _):
            switch result {
            case .success(let validation) where validation.status != .valid || validation.accountId != account.id:
                let code = validation.status == .valid ? ResultCode.tokenUnknown : validation.status.resultCode
                return close(disconnect: code, reason: "session no longer valid")
            case .success, .failure:
                nextRecheck = now + limits.sessionRecheckInterval
                return .none
            }
        case .connected, .awaitingLogin, .closed:
            return .none
        }
    }

    /// Another connection logged in to this account, or the server shuts down. A shutdown, or
    /// a RESUME taking over (`keepCharacter`), leaves the character link-dead instead of out of
    /// the world; any other kick ends it.
    public mutating func kick(_ code: ResultCode, reason: String, keepCharacter: Bool = false) -> Action {
        guard phase != .closed else { return .none }
        return close(disconnect: code, reason: reason, keepCharacter: keepCharacter || code == .serverShuttingDown)
    }

    /// The peer closed (or the socket failed). Nothing can be written any more.
    /// A drop in the world leaves the character link-dead (see "Reconnecting").
    public mutating func connectionClosed() -> Action {
        guard phase != .closed else { return .none }
        return closeAction(message: nil, disconnect: nil, reason: "connection closed", keepCharacter: true)
    }

    private mutating func close(
        message: ServerMessage? = nil, disconnect code: ResultCode, reason: String, keepCharacter: Bool = false
    ) -> Action {
        closeAction(message: message, disconnect: code, reason: reason, keepCharacter: keepCharacter)
    }

    /// Only a character in the world (not one still joining) can be link-dead, and only with a
    /// grace period configured; otherwise a world session is left at once.
    private mutating func closeAction(
        message: ServerMessage?, disconnect code: ResultCode?, reason: String, keepCharacter: Bool
    ) -> Action {
        var linkDead: LinkDeadCharacter?
        if keepCharacter, worldSessionOpen, limits.resumeGrace > .zero, speaksResume,
            case .inWorld(let account, let characterId) = phase
        {
            linkDead = LinkDeadCharacter(accountId: account.id, characterId: characterId)
        }
        let leave = worldSessionOpen && linkDead == nil
        phase = .closed
        pending = nil
        worldSessionOpen = false
        return .close(CloseAction(message: message, disconnect: code, reason: reason, leaveWorld: leave, linkDead: linkDead))
    }
}
