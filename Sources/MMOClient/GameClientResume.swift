import Logging
import MMOProtocol
import NIOCore
import Synchronization

/// Reconnect-and-resume settings (`GameClientConfiguration.resume`); the defaults are the ones
/// docs/protocol.md "Reconnecting" documents.
///
/// When the connection drops while the character is in the world (no LOGOUT or LEAVE_WORLD
/// from this side; the network, a dead link, `DISCONNECT(IDLE_TIMEOUT)` or
/// `DISCONNECT(SERVER_SHUTTING_DOWN)`) and the server has issued a RESUME_TOKEN, the client
/// reconnects to the same server with the same TLS settings, sends HELLO and RESUME, and tries
/// again with exponential backoff until the grace period from the RESUME_TOKEN runs out.
public struct GameClientResume: Sendable, Equatable {
    /// Off: a dropped connection ends the client as it always did.
    public var enabled = true
    /// In the world a PING goes out this often, so that a live server always has something to
    /// answer; nil turns the heartbeat (and dead-link detection) off.
    public var heartbeatInterval: Duration? = .seconds(5)
    /// In the world, nothing at all from the server for this long means the link is dead: the
    /// client closes it (and resumes).
    public var deadLinkTimeout: Duration = .seconds(15)
    /// At most this many reconnect attempts per drop (each is connect + HELLO + RESUME).
    public var maxAttempts = 20
    /// Wait after the first failed attempt; doubles up to `maxBackoff`. The first attempt is
    /// made at once.
    public var initialBackoff: Duration = .milliseconds(250)
    public var maxBackoff: Duration = .seconds(5)
    /// Bounds one attempt's connect and handshake (and RESUME's answer).
    public var attemptTimeout: Duration = .seconds(5)

    public init() {}
}

/// The client's lasting state across the connections a resume opens: the event stream, the
/// current connection, the resume token and what a fallback LOGIN + ENTER_WORLD needs.
/// Handlers of every connection report into it on their event loop; `GameClient` reads it from
/// any task. Events from a connection that is not (yet) the current one are dropped, so a
/// failed attempt never shows on `events`.
final class ClientSession: Sendable {
    enum Phase: Sendable, Equatable { case open, reconnecting, finished }

    struct State: Sendable {
        var channel: (any Channel)?
        /// The reconnect attempt's connection, so that `close()` can close it too.
        var attempt: (any Channel)?
        var phase = Phase.open
        var resumeToken: String?
        var graceSeconds: UInt16 = 60
        /// The token LOGIN succeeded with, for the fallback after a refused RESUME.
        var sessionToken: String?
        var characterId: UInt64?
        var inWorld = false
        /// LOGOUT, `close()` or `leaveWorld()` was asked for: no resume.
        var userEnded = false
        var leaving = false
        /// A fallback LOGIN + ENTER_WORLD runs on this connection after RESUME was refused with this code.
        var reentry: (channel: any Channel, code: ResultCode)?
        /// Requests wait on this while reconnecting.
        var ready: EventLoopPromise<Void>?
    }

    let state = Mutex(State())
    private let continuation: AsyncStream<ClientEvent>.Continuation
    private let observer: (@Sendable (ClientEvent) -> Void)?
    let finalReason = CloseReasonBox()
    /// Succeeds once the client is done for good (the stream finished).
    let finished: EventLoopPromise<Void>
    let eventLoop: any EventLoop
    let logger: Logger
    /// Starts the reconnect loop; set by `GameClient` once it exists.
    let reconnector = Mutex<(@Sendable (GameClientError) -> Void)?>(nil)

    /// `GameClientResume.enabled`.
    let resumeEnabled: Bool

    init(continuation: AsyncStream<ClientEvent>.Continuation, observer: (@Sendable (ClientEvent) -> Void)?, eventLoop: any EventLoop,
         logger: Logger, resumeEnabled: Bool = true) {
        self.resumeEnabled = resumeEnabled
        self.continuation = continuation
        self.observer = observer
        self.eventLoop = eventLoop
        self.finished = eventLoop.makePromise(of: Void.self)
        self.logger = logger
    }

    // A client that never got going (its connect failed) or was dropped unfinished: complete
    // the promises anyway, NIO insists.
    deinit {
        finished.succeed(())
        state.withLock { $0.ready }?.fail(GameClientError.connectionClosed)
    }

    var phase: Phase { state.withLock { $0.phase } }
    var currentChannel: (any Channel)? { state.withLock { $0.channel } }

    // MARK: events

    /// Delivers `event` when it comes from the current connection (or from none: the SDK's own).
    func deliver(_ event: ClientEvent, from channel: (any Channel)?) {
        if let channel {
            let current = state.withLock { $0.channel === channel && $0.phase != .finished }
            guard current else { return }
        }
        observer?(event)
        continuation.yield(event)
    }

    /// Makes `channel` the client's connection (after HELLO_ACK on the first connect). A
    /// connection that already closed finishes the client.
    func adopt(_ channel: any Channel, closeReason: CloseReasonBox) {
        state.withLock { $0.channel = channel }
        if !channel.isActive { finish(closeReason.value ?? .connectionClosed) }
    }

    /// Ends the client: `.connectionClosed` is the last event. Idempotent.
    func finish(_ reason: GameClientError) {
        let (first, ready, channels) = state.withLock { state -> (Bool, EventLoopPromise<Void>?, [any Channel]) in
            guard state.phase != .finished else { return (false, nil, []) }
            state.phase = .finished
            let ready = state.ready
            state.ready = nil
            state.resumeToken = nil
            return (true, ready, [state.channel, state.attempt].compactMap { $0 })
        }
        guard first else { return }
        finalReason.setIfUnset(reason)
        ready?.fail(finalReason.value ?? reason)
        for channel in channels where channel.isActive { channel.close(promise: nil) }
        observer?(.connectionClosed)
        continuation.yield(.connectionClosed)
        continuation.finish()
        finished.succeed(())
    }

    // MARK: reports from a connection's handler (on its event loop)

    func loggedIn(token: String, on channel: any Channel) {
        state.withLock { $0.sessionToken = token }
    }

    func receivedResumeToken(_ token: String, graceSeconds: UInt16, on channel: any Channel) {
        state.withLock { state in
            guard state.channel === channel else { return }
            state.resumeToken = token
            state.graceSeconds = graceSeconds
        }
    }

    /// ENTER_WORLD_RESULT(OK). On a fallback connection this is the moment it becomes the
    /// client's: `.reentered` goes out before the snapshot that follows.
    func enteredWorld(characterId: UInt64?, entry: WorldEntry, on channel: any Channel) {
        let reentered = state.withLock { state -> ResultCode? in
            if let reentry = state.reentry, reentry.channel === channel, state.phase == .reconnecting {
                state.reentry = nil
                state.channel = channel
                state.attempt = nil
                state.phase = .open
                state.inWorld = true
                return reentry.code
            }
            guard state.channel === channel else { return nil }
            state.inWorld = true
            state.leaving = false
            if let characterId { state.characterId = characterId }
            return nil
        }
        if let code = reentered {
            let characterId = state.withLock { $0.characterId } ?? 0
            deliver(.reentered(characterId: characterId, entry: entry, resumeCode: code), from: channel)
            becameReady()
        }
    }

    /// RESUME_RESULT(OK) on a reconnect attempt: it becomes the client's connection, and
    /// `.resumed` goes out before the snapshot that follows.
    func resumed(_ session: ResumedSession, on channel: any Channel) {
        // Only the attempt in progress: not one given up on, nor after `close()`.
        let current = state.withLock { state -> Bool in
            guard state.phase == .reconnecting, state.attempt === channel else { return false }
            state.channel = channel
            state.attempt = nil
            state.phase = .open
            state.inWorld = true
            state.characterId = session.characterId
            return true
        }
        guard current else { return }
        deliver(.resumed(session), from: channel)
        becameReady()
    }

    func leftWorld(on channel: any Channel) {
        state.withLock { state in
            guard state.channel === channel else { return }
            // The token dies with a character that left the world.
            state.inWorld = false
            state.leaving = false
            state.resumeToken = nil
        }
    }

    /// The connection closed (`reason` is the handler's first close reason). For the current
    /// connection this either starts a resume or finishes the client; a DISCONNECT that a
    /// resume may follow (IDLE_TIMEOUT, SERVER_SHUTTING_DOWN) was held back as `disconnect`
    /// and is delivered only when no resume follows.
    func connectionEnded(_ channel: any Channel, reason: GameClientError, heldDisconnect: ClientEvent?) {
        enum Decision { case ignore, resume, finish }
        let decision = state.withLock { state -> Decision in
            guard state.channel === channel, state.phase == .open else { return .ignore }
            guard resumeEnabled, state.inWorld, !state.userEnded, !state.leaving, state.resumeToken != nil, Self.isResumable(reason) else {
                return .finish
            }
            state.phase = .reconnecting
            state.ready = eventLoop.makePromise(of: Void.self)
            return .resume
        }
        switch decision {
        case .ignore:
            return
        case .finish:
            if let heldDisconnect { deliver(heldDisconnect, from: nil) }
            finish(reason)
        case .resume:
            logger.info("connection lost in the world; resuming", metadata: ["reason": "\(reason)"])
            deliver(.reconnecting(reason: reason), from: nil)
            let start = reconnector.withLock { $0 }
            if let start { start(reason) } else { finish(reason) }
        }
    }

    /// Whether a drop now would be resumed (in the world with a token, not ended by the user).
    var mayResume: Bool {
        resumeEnabled && state.withLock { $0.inWorld && !$0.userEnded && !$0.leaving && $0.resumeToken != nil && $0.phase != .finished }
    }

    /// Drops that leave the resume token usable (docs/protocol.md "Reconnecting").
    static func isResumable(_ reason: GameClientError) -> Bool {
        switch reason {
        case .connectionClosed: true
        case .disconnected(let code, _): code == .idleTimeout || code == .serverShuttingDown
        default: false
        }
    }

    private func becameReady() {
        let ready = state.withLock { state -> EventLoopPromise<Void>? in
            defer { state.ready = nil }
            return state.ready
        }
        ready?.succeed(())
    }

    // MARK: for GameClient

    /// The connection to put a request on; waits (at most `timeout`) while reconnecting.
    func channelForRequest(_ opcode: Opcode, timeout: Duration) async throws -> any Channel {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        while true {
            let (phase, channel, ready) = state.withLock { ($0.phase, $0.channel, $0.ready) }
            switch phase {
            case .finished:
                throw finalReason.value ?? GameClientError.connectionClosed
            case .open:
                if let channel { return channel }
                throw GameClientError.connectionClosed
            case .reconnecting:
                guard let ready else { throw finalReason.value ?? GameClientError.connectionClosed }
                let bounded = eventLoop.makePromise(of: Void.self)
                ready.futureResult.cascade(to: bounded)
                let timer = eventLoop.scheduleTask(deadline: deadline) { bounded.fail(GameClientError.timedOut(opcode)) }
                defer { timer.cancel() }
                try await bounded.futureResult.get()
            }
        }
    }

    /// Takes the resume token for one RESUME (a token works once).
    func takeResumeToken() -> String? {
        state.withLock { state in
            defer { state.resumeToken = nil }
            return state.resumeToken
        }
    }

    /// Puts back a token whose RESUME got no answer (the server may not have seen it).
    func restoreResumeToken(_ token: String) {
        state.withLock { state in
            if state.resumeToken == nil, state.phase == .reconnecting { state.resumeToken = token }
        }
    }

    func setAttempt(_ channel: (any Channel)?) -> Bool {
        state.withLock { state in
            guard state.phase == .reconnecting else { return false }
            state.attempt = channel
            return true
        }
    }

    /// Marks `channel` for a fallback LOGIN + ENTER_WORLD; returns the session token and the
    /// character, or nil when the SDK has neither.
    func beginReentry(on channel: any Channel, code: ResultCode) -> (token: String, characterId: UInt64)? {
        state.withLock { state in
            guard state.phase == .reconnecting, let token = state.sessionToken, let characterId = state.characterId else { return nil }
            state.reentry = (channel, code)
            return (token, characterId)
        }
    }

    /// LOGOUT, `close()` or deinit: no resume from now on; a reconnect in progress ends.
    func endByUser() -> Phase {
        let phase = state.withLock { state -> Phase in
            state.userEnded = true
            return state.phase
        }
        if phase == .reconnecting { finish(.connectionClosed) }
        return phase
    }

    func setLeaving(_ leaving: Bool) {
        state.withLock { $0.leaving = leaving }
    }
}

extension GameClient {
    /// The reconnect loop after a drop in the world: connect + HELLO + RESUME(token) with
    /// backoff until the grace period (from the last RESUME_TOKEN) runs out. A refusal falls
    /// back to LOGIN + ENTER_WORLD of the same character when the session token is known.
    static func resume(session: ClientSession, endpoint: Endpoint, settings: GameClientResume, reason: GameClientError) async {
        let grace = session.state.withLock { $0.graceSeconds }
        let deadline = ContinuousClock.now + .seconds(Int(grace))
        var backoff = settings.initialBackoff
        var lastError = reason
        var attempts = 0
        while attempts < settings.maxAttempts, session.phase == .reconnecting {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            guard let token = session.takeResumeToken() else { break }
            attempts += 1
            var attempt: Link?
            do {
                let link = try await open(endpoint, timeout: min(settings.attemptTimeout, remaining), session: session)
                attempt = link
                guard session.setAttempt(link.channel) else {
                    link.channel.close(promise: nil)
                    return
                }
                let reply = try await request(
                    on: link.channel, closeReason: link.closeReason, .resume(token: token), expecting: .resumeResult,
                    timeout: settings.attemptTimeout)
                guard case .resumeResult(let code, _) = reply else { throw GameClientError.unexpectedResponse("\(reply.opcode) to RESUME") }
                if code == .ok {
                    // The handler already made this the client's connection and sent `.resumed`.
                    session.logger.info("resumed", metadata: ["attempts": "\(attempts)"])
                    return
                }
                if code == .serviceUnavailable {
                    // A backend outage: pause before trying again. The server has used the token
                    // (docs/protocol.md), so the next attempt is refused and falls back to LOGIN,
                    // by then hopefully past the outage.
                    throw GameClientError.refused(code)
                }
                await fallBack(session: session, link: link, code: code, timeout: endpoint.configuration.requestTimeout)
                return
            } catch {
                lastError = error as? GameClientError ?? .connectionClosed
                attempt?.channel.close(promise: nil)
                // No answer to RESUME: the server may never have seen the token, so try it again
                // (a token it did use is refused, and the fallback covers that).
                session.restoreResumeToken(token)
                _ = session.setAttempt(nil)
                session.logger.debug("resume attempt failed", metadata: ["attempt": "\(attempts)", "error": "\(lastError)"])
            }
            let wait = min(backoff, deadline - ContinuousClock.now)
            if wait > .zero { try? await Task.sleep(for: wait) }
            backoff = min(backoff * 2, settings.maxBackoff)
        }
        guard session.phase == .reconnecting else { return }
        session.deliver(.resumeFailed(lastError), from: nil)
        session.finish(lastError)
    }

    /// RESUME was refused with `code`: LOGIN with the session token and ENTER_WORLD with the same
    /// character on the same connection, or give up.
    private static func fallBack(session: ClientSession, link: Link, code: ResultCode, timeout: Duration) async {
        let refusal = GameClientError.refused(code)
        guard let (token, characterId) = session.beginReentry(on: link.channel, code: code) else {
            session.logger.info("resume refused; no session token to log in again", metadata: ["code": "\(code.name)"])
            link.channel.close(promise: nil)
            session.deliver(.resumeFailed(refusal), from: nil)
            session.finish(refusal)
            return
        }
        session.logger.info("resume refused; logging in again", metadata: ["code": "\(code.name)"])
        do {
            let login = try await request(on: link.channel, closeReason: link.closeReason, .login(token: token), expecting: .loginResult, timeout: timeout)
            guard case .loginResult(.ok, _, _) = login else {
                if case .loginResult(let loginCode, _, _) = login { throw GameClientError.refused(loginCode) }
                throw GameClientError.unexpectedResponse("\(login.opcode) to LOGIN")
            }
            let entered = try await request(
                on: link.channel, closeReason: link.closeReason, .enterWorld(characterId: characterId), expecting: .enterWorldResult, timeout: timeout)
            guard case .enterWorldResult(.ok, _) = entered else {
                if case .enterWorldResult(let enterCode, _) = entered { throw GameClientError.refused(enterCode) }
                throw GameClientError.unexpectedResponse("\(entered.opcode) to ENTER_WORLD")
            }
            // The handler made this the client's connection and sent `.reentered`.
        } catch {
            guard session.phase == .reconnecting else { return }
            link.channel.close(promise: nil)
            let reason = error as? GameClientError ?? .connectionClosed
            session.deliver(.resumeFailed(reason), from: nil)
            session.finish(reason)
        }
    }
}
