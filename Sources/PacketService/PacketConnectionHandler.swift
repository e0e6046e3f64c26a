import Foundation
import Logging
import MMOProtocol
import NIOCore

/// Everything a connection handler uses besides its channel; shared by all connections.
struct GatewayServices: Sendable {
    var authenticator: any SessionAuthenticator
    var characters: any CharacterDirectory
    var world: any WorldSessionLink
    var registry: SessionRegistry
    /// Where resume tokens live (in memory, or Redis shared by all gateways).
    var resumeTokens: any ResumeTokenStore
    var metrics: PacketMetrics
    var limits: ConnectionStateMachine.Limits
    /// Deadline for the world's answer to a join.
    var joinTimeout: TimeAmount
    var maxUnwritableWorldUpdates: Int
    var logger: Logger
}

/// Executes a `ConnectionStateMachine`'s actions on one client channel. It decides nothing:
/// every event goes to the machine, and whatever comes back is carried out here (writes, backend
/// calls, world link inputs, timers, closing).
///
/// Sits behind `ByteToMessageHandler(FrameDecoder)`, whose protocol errors arrive in
/// `errorCaught`. All methods run on the channel's event loop; other threads reach the handler
/// through `ConnectionHandle` (which hops to the loop).
final class PacketConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    let id: UInt64
    private let services: GatewayServices
    private var logger: Logger
    /// The channel's event loop: every method runs on it, and it is the clock.
    private let eventLoop: any EventLoop
    /// Exists from the start (its hello deadline counts from the handler's creation, when the
    /// TCP connection was accepted), so no event ever finds it missing.
    private(set) var machine: ConnectionStateMachine
    /// Set once the connection is registered (`start`), so it starts only once.
    private var started = false
    private var context: ChannelHandlerContext?
    private var timeoutTask: Scheduled<Void>?
    /// When `timeoutTask` fires; re-armed earlier if the machine's deadline moves before it.
    private var scheduledTimeout: NIODeadline?
    private var joinTimeoutTask: Scheduled<Void>?
    private var requestTask: Task<Void, Never>?
    /// The periodic session re-check in flight, if any (it runs beside client requests).
    private var recheckTask: Task<Void, Never>?
    /// Issuing this connection's resume token (beside any request).
    private var tokenTask: Task<Void, Never>?
    private var requestStarted: NIODeadline?
    private var inReadBurst = false
    private var needsFlush = false
    private var registered = false
    /// The account this connection claimed in the registry (released when it closes).
    private var claimedAccount: String?
    /// What the registry counts this connection's address under (nil: exempt or not counted).
    private var addressKey: ClientAddress?
    /// The world link epoch the current join was sent on; a loss of another epoch is stale.
    private var worldEpoch: UInt64?
    /// World updates that arrived while the socket was unwritable, in a row.
    private var unwritableUpdates = 0
    /// The resume token of this connection's character in the world (memory only, never
    /// logged). It lives while the connection is in the world and, link-dead, for the grace
    /// period after a drop; any other way out of the world discards it.
    private var resumeToken: String?
    /// Failed logins (and refused RESUMEs) already counted against the address.
    private var reportedFailedLogins = 0

    static let addressBlockedReason = "too many failed logins from your address"

    /// - Parameter eventLoop: the loop of the channel this handler is added to.
    init(id: UInt64, services: GatewayServices, eventLoop: any EventLoop) {
        self.id = id
        self.services = services
        self.eventLoop = eventLoop
        self.machine = ConnectionStateMachine(limits: services.limits, now: eventLoop.now)
        var logger = services.logger
        logger[metadataKey: "connection"] = "\(id)"
        self.logger = logger
    }

    private var loopBound: NIOLoopBound<PacketConnectionHandler> {
        NIOLoopBound(self, eventLoop: eventLoop)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let handle = ConnectionHandle(id: id, eventLoop: context.eventLoop, handler: loopBound)
        let address = context.channel.remoteAddress.flatMap(ClientAddress.init)
        switch services.registry.register(handle, address: address, now: context.eventLoop.now) {
        case .registered(let key):
            registered = true
            addressKey = key
            services.metrics.connections.record(services.registry.connectionCount)
            logger.debug("client connected", metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
            scheduleTimeout()
        case .full:
            services.metrics.connectionsRejected.increment()
            execute(machine.kick(.serviceUnavailable, reason: "server is full"))
        case .shuttingDown:
            execute(machine.kick(.serverShuttingDown, reason: "server is shutting down"))
        case .tooManyFromAddress:
            services.metrics.connectionsRejected.increment()
            execute(machine.kick(.tooManyConnections, reason: "too many connections from your address"))
        case .addressBlocked:
            services.metrics.connectionsRejected.increment()
            execute(machine.kick(.addressBlocked, reason: Self.addressBlockedReason))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        services.metrics.frameIn(frame.opcode)
        inReadBurst = true
        execute(machine.receive(frame: frame, now: context.eventLoop.now))
        // HELLO brings the login deadline, which may come before the armed (hello) deadline.
        rescheduleTimeoutIfEarlier()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            logger.debug("protocol error", metadata: ["error": "\(error)"])
            execute(machine.protocolError(error))
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { unwritableUpdates = 0 }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        execute(machine.connectionClosed())
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    private func tearDown() {
        timeoutTask?.cancel()
        timeoutTask = nil
        joinTimeoutTask?.cancel()
        joinTimeoutTask = nil
        requestTask?.cancel()
        requestTask = nil
        recheckTask?.cancel()
        recheckTask = nil
        if registered {
            registered = false
            services.registry.unregister(id, account: claimedAccount, addressKey: addressKey, now: eventLoop.now)
            services.metrics.connections.record(services.registry.connectionCount)
        }
    }

    // MARK: - Events from other threads (via ConnectionHandle, on this loop)

    /// Takeover or shutdown: the world leave (or the link-dead hand-over) is done before this
    /// returns.
    func kick(_ code: ResultCode, reason: String, keepCharacter: Bool = false) {
        execute(machine.kick(code, reason: reason, keepCharacter: keepCharacter))
    }

    /// This session's outputs from one world batch, in order; flushed once at the end.
    func receiveWorldOutputs(_ outputs: [WorldOutput]) {
        for output in outputs {
            receiveWorldOutput(output)
        }
        flushIfNeeded()
    }

    private func receiveWorldOutput(_ output: WorldOutput) {
        guard let context else { return }
        switch output {
        case .update(let body):
            guard machine.acceptsWorldUpdates else { return }
            if !context.channel.isWritable {
                unwritableUpdates += 1
                if unwritableUpdates > services.maxUnwritableWorldUpdates {
                    // The client does not read; its outbound buffer would grow without bound.
                    // The kick queues DISCONNECT behind the backlog and closes once it is out or
                    // after the grace period; no more updates are queued (the machine is closed).
                    // Closing here at once would drop that DISCONNECT (a bare close).
                    logger.info("closing a client that does not read its world updates")
                    execute(machine.kick(.rateLimited, reason: "not reading"))
                    return
                }
            }
            var buffer = context.channel.allocator.buffer(capacity: ProtocolLimits.frameHeaderSize + body.count)
            buffer.writeFrame(opcode: .worldUpdate) { $0.writeBytes(body) }
            context.write(wrapOutboundOut(buffer), promise: nil)
            services.metrics.frameOut(.worldUpdate)
            needsFlush = true
        case .joined(let entry):
            joinTimeoutTask?.cancel()
            joinTimeoutTask = nil
            execute(machine.worldJoinAccepted(entry), flush: false)
        case .readmitted(let entry):
            execute(machine.worldReadmitted(entry), flush: false)
        case .rejected(let code):
            joinTimeoutTask?.cancel()
            joinTimeoutTask = nil
            execute(machine.worldJoinRejected(code), flush: false)
        case .left(let code):
            execute(machine.worldLeft(code), flush: false)
        }
    }

    /// The world link lost the stream that carried epoch `epoch`.
    func worldLinkLost(epoch: UInt64) {
        guard worldEpoch == epoch else { return }
        worldEpoch = nil
        joinTimeoutTask?.cancel()
        joinTimeoutTask = nil
        execute(machine.worldLinkLost())
    }

    // MARK: - Executing actions

    private func execute(_ action: ConnectionStateMachine.Action, flush: Bool = true) {
        guard let context else { return }
        reportFailedLogins()
        defer { discardResumeTokenOutOfWorld() }
        switch action {
        case .none:
            break

        case .write(let message):
            write(message, context: context)
            if flush { flushIfNeeded() }

        case .close(let close):
            if close.leaveWorld { services.world.leave(session: id) }
            if let character = close.linkDead {
                logger.debug("character left link-dead", metadata: ["grace": "\(services.limits.resumeGrace)"])
                services.enterLinkDead(session: id, character, token: resumeToken, eventLoop: eventLoop)
                resumeToken = nil
            }
            worldEpoch = nil
            requestTask?.cancel()
            requestTask = nil
            recheckTask?.cancel()
            recheckTask = nil
            joinTimeoutTask?.cancel()
            joinTimeoutTask = nil
            timeoutTask?.cancel()
            timeoutTask = nil
            guard context.channel.isActive else { return }
            if let message = close.message { write(message, context: context) }
            guard let code = close.disconnect else {
                context.close(promise: nil)
                return
            }
            services.metrics.disconnect(code)
            logger.debug("disconnecting client", metadata: ["code": "\(code)", "reason": "\(close.reason)"])
            var buffer = context.channel.allocator.buffer(capacity: 16 + close.reason.utf8.count)
            ServerMessage.disconnect(code: code, message: close.reason).encode(into: &buffer)
            services.metrics.frameOut(.disconnect)
            needsFlush = false
            // Stop reading, let the DISCONNECT reach the socket, then close. A peer that does
            // not read is closed after a short grace period anyway.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            let channel = context.channel
            let grace = context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
                grace.cancel()
                channel.close(promise: nil)
            }

        case .validateSession(let token):
            // A blocked address may not even try: that is what makes guessing expensive.
            guard services.registry.mayLogIn(addressKey: addressKey, now: context.eventLoop.now) else {
                execute(machine.kick(.addressBlocked, reason: Self.addressBlockedReason), flush: flush)
                return
            }
            let authenticator = services.authenticator
            requestStarted = context.eventLoop.now
            perform({ try await authenticator.validate(token: token) }) { handler, result in
                if let started = handler.requestStarted {
                    handler.services.metrics.loginDuration.recordNanoseconds((handler.eventLoop.now - started).nanoseconds)
                }
                return handler.machine.loginCompleted(result)
            }

        case .claimResumeToken(let token):
            // A RESUME is a login attempt: a blocked address may not try either.
            guard services.registry.mayLogIn(addressKey: addressKey, now: context.eventLoop.now) else {
                execute(machine.kick(.addressBlocked, reason: Self.addressBlockedReason), flush: flush)
                return
            }
            let store = services.resumeTokens
            requestStarted = context.eventLoop.now
            perform({ try await store.claim(token) }) { $0.machine.resumeTokenClaimed($1) }

        case .writeAndIssueResumeToken(let message, let ticket):
            write(message, context: context)
            if case .resumeResult(.ok, _) = message {
                services.metrics.resumes.increment()
                logger.info("character resumed", metadata: ["character": "\(ticket.characterId)"])
            }
            if flush { flushIfNeeded() }
            let store = services.resumeTokens
            let ttl = services.resumeTokenTTLWhileConnected
            perform({ try await store.issue(ticket, ttl: ttl) }, into: .token) { handler, result in
                guard case .success(let token) = result else { return .none }
                guard let message = handler.machine.resumeTokenMessage(token) else {
                    // Out of the world before the token came: it resumes nothing.
                    handler.services.discardResumeToken(token)
                    return .none
                }
                handler.resumeToken = token
                return .write(message)
            }

        case .recheckSession(let token):
            // The resume token lives as long as the connection: its lifetime is refreshed here.
            if let resumeToken, let account = machine.account {
                let store = services.resumeTokens
                let ttl = services.resumeTokenTTLWhileConnected
                Task { try? await store.expire(resumeToken, accountId: account.id, after: ttl) }
            }
            let authenticator = services.authenticator
            perform({ try await authenticator.validate(token: token) }, into: .recheck) { handler, result in
                let action = handler.machine.sessionRecheckCompleted(result, now: handler.eventLoop.now)
                if case .none = action { handler.rescheduleTimeoutIfEarlier() }
                return action
            }

        case .claimAccount(let account, let resuming):
            claimedAccount = account.id
            // A LOGIN ends the account's resumable character (a RESUME is about to take it).
            if !resuming { services.endAccountResume(accountId: account.id) }
            guard let previous = services.registry.claim(account: account.id, for: id) else {
                execute(machine.accountClaimed())
                return
            }
            services.metrics.takeovers.increment()
            logger.info("account logged in again: disconnecting its older connection", metadata: ["previous": "\(previous.id)"])
            let me = loopBound
            previous.kick(.loggedInElsewhere, reason: "your account logged in from another client", keepCharacter: resuming)
                .hop(to: context.eventLoop)
                .whenComplete { _ in
                    let handler = me.value
                    handler.execute(handler.machine.accountClaimed())
                }

        case .listCharacters(let accountId):
            let characters = services.characters
            perform({ try await characters.list(accountId: accountId) }) { $0.machine.characterListCompleted($1) }

        case .createCharacter(let accountId, let name, let classId, let appearance):
            let characters = services.characters
            perform({ try await characters.create(accountId: accountId, name: name, classId: classId, appearance: appearance) }) {
                $0.machine.characterCreateCompleted($1)
            }

        case .deleteCharacter(let accountId, let characterId):
            let characters = services.characters
            perform({ try await characters.delete(accountId: accountId, characterId: characterId) }) {
                $0.machine.characterDeleteCompleted($1)
            }

        case .selectCharacter(let accountId, let characterId):
            let characters = services.characters
            perform({ try await characters.select(accountId: accountId, characterId: characterId) }) {
                $0.machine.selectCharacterCompleted($1)
            }

        case .joinWorld(let join):
            guard let epoch = services.world.join(session: id, join) else {
                execute(machine.worldJoinRejected(.serviceUnavailable), flush: flush)
                return
            }
            worldEpoch = epoch
            joinTimeoutTask?.cancel()
            let me = loopBound
            joinTimeoutTask = context.eventLoop.scheduleTask(in: services.joinTimeout) {
                let handler = me.value
                handler.joinTimeoutTask = nil
                handler.logger.warning("world did not answer a join in time")
                handler.execute(handler.machine.joinTimedOut())
            }

        case .forwardMove(let seq, let x, let y):
            services.world.move(session: id, seq: seq, x: x, y: y)

        case .forwardSay(let text):
            services.world.say(session: id, text: text)

        case .leaveWorld(let reply):
            services.world.leave(session: id)
            worldEpoch = nil
            joinTimeoutTask?.cancel()
            joinTimeoutTask = nil
            if let reply {
                write(reply, context: context)
                if flush { flushIfNeeded() }
            }
        }
    }

    /// Counts the machine's new failed logins (LOGIN and RESUME) against the address, which
    /// blocks it past its limit.
    private func reportFailedLogins() {
        while reportedFailedLogins < machine.failedLogins {
            reportedFailedLogins += 1
            if services.registry.recordFailedLogin(addressKey: addressKey, now: eventLoop.now) {
                logger.info("address blocked for failed logins", metadata: [
                    "address": "\(addressKey.map { "\($0)" } ?? "?")",
                ])
            }
        }
    }

    /// A resume token resumes a character in the world: out of it (LEAVE_WORLD, the world took
    /// the character away, a close that did not leave it link-dead) the token dies.
    private func discardResumeTokenOutOfWorld() {
        guard resumeToken != nil, machine.state != .inWorld else { return }
        services.discardResumeToken(resumeToken)
        resumeToken = nil
    }

    /// Runs a backend call off the event loop (request/response commands only: never per input)
    /// and feeds its result back to the machine on the loop.
    private func perform<R: Sendable>(
        _ work: @escaping @Sendable () async throws -> R,
        into slot: TaskSlot = .request,
        then complete: @escaping @Sendable (PacketConnectionHandler, Result<R, any Error>) -> ConnectionStateMachine.Action
    ) {
        let me = loopBound
        let loop = eventLoop
        let task = Task {
            let result: Result<R, any Error>
            do {
                result = .success(try await work())
            } catch {
                result = .failure(error)
            }
            loop.execute {
                let handler = me.value
                guard handler.context != nil else { return }
                handler.setTask(nil, in: slot)
                if case .failure(let error) = result, !(error is CancellationError) {
                    handler.logger.warning("backend call failed", metadata: ["error": "\(error)"])
                }
                handler.execute(complete(handler, result))
            }
        }
        // On the loop, before the completion (queued to the loop) can clear it.
        setTask(task, in: slot)
    }

    /// Where a backend call's task is kept, so closing the connection cancels it: the client's
    /// one request at a time, or the periodic session re-check beside it.
    enum TaskSlot: Sendable {
        case request, recheck, token
    }

    private func setTask(_ task: Task<Void, Never>?, in slot: TaskSlot) {
        switch slot {
        case .request: requestTask = task
        case .recheck: recheckTask = task
        case .token: tokenTask = task
        }
    }

    private func write(_ message: ServerMessage, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 32)
        message.encode(into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        services.metrics.frameOut(message.opcode)
        needsFlush = true
    }

    private func flushIfNeeded() {
        guard needsFlush, !inReadBurst, let context else { return }
        needsFlush = false
        context.flush()
    }

    // MARK: - Timeouts

    private func scheduleTimeout() {
        guard let deadline = machine.timeoutDeadline, let context else { return }
        let me = loopBound
        scheduledTimeout = deadline
        timeoutTask = context.eventLoop.scheduleTask(deadline: deadline) {
            me.value.timeoutFired()
        }
    }

    /// Re-arms the timer when the machine's deadline moved before the armed one (HELLO brings
    /// the login deadline; a finished re-check sets the next one), or arms it if none is.
    private func rescheduleTimeoutIfEarlier() {
        guard let deadline = machine.timeoutDeadline else { return }
        if let scheduled = scheduledTimeout, deadline >= scheduled { return }
        timeoutTask?.cancel()
        scheduleTimeout()
    }

    private func timeoutFired() {
        guard let context else { return }
        timeoutTask = nil
        scheduledTimeout = nil
        let action = machine.timerFired(now: context.eventLoop.now)
        execute(action)
        // Only a close ends the timer: after a re-check starts, the idle deadline still holds.
        if case .close = action { return }
        scheduleTimeout()
    }
}
