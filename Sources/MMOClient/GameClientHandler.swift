import Logging
import MMOProtocol
import NIOCore
import Synchronization

/// What `GameClient` asks the connection to do. Written into the pipeline so that all
/// connection state lives on the channel's event loop and needs no lock.
/// Why the connection ended, readable from any thread after the handler is gone.
final class CloseReasonBox: Sendable {
    private let reason = Mutex<GameClientError?>(nil)

    var value: GameClientError? { reason.withLock { $0 } }

    /// Keeps the first reason: a DISCONNECT explains the close that follows it.
    func setIfUnset(_ newValue: GameClientError) {
        reason.withLock { if $0 == nil { $0 = newValue } }
    }
}

enum OutboundMessage: Sendable {
    /// A message with no answer (MOVE, SAY, LOGOUT).
    case send(ClientMessage)
    /// A request whose answer is the frame `expecting` or an `ERROR(request opcode, code)`.
    case request(ClientMessage, expecting: Opcode, timeout: TimeAmount, response: EventLoopPromise<ServerMessage>)
}

/// The client side of one connection: encodes commands, matches answers to requests, and turns
/// everything else into `ClientEvent`s. Runs entirely on the event loop; no Task per message.
///
/// Requests go on the wire strictly one at a time: the server serves one request per connection
/// and answers a second one with BUSY, so the client queues instead. Because only one request
/// is ever outstanding, an answer is matched to it exactly by opcode. A request that times out
/// after being sent stays outstanding (without a caller) until its late answer arrives, so that
/// answer is dropped instead of being mistaken for the answer to the next request.
final class GameClientHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = OutboundMessage
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let id: UInt64
        let message: ClientMessage
        let request: Opcode
        let response: Opcode
        /// nil for keep-alive pings and for requests whose caller already gave up (timed out).
        var promise: EventLoopPromise<ServerMessage>?
        var timeout: Scheduled<Void>?
    }

    /// The client's lasting state: the event stream, the resume token, reconnecting.
    private let session: ClientSession
    private let heartbeatInterval: TimeAmount?
    private let deadLinkTimeout: TimeAmount
    private let statistics: ClientStatistics
    private let keepAliveInterval: TimeAmount?
    private let keepAliveTimeout: TimeAmount
    private let logger: Logger

    private var context: ChannelHandlerContext?
    private var inFlight: Pending?
    private var queued = CircularBuffer<Pending>()
    private var nextId: UInt64 = 0
    private var nextNonce: UInt32 = 0x8000_0000  // keep-alive nonces never collide with ping()'s
    /// Server's limit for client frames; the protocol default until HELLO_ACK says otherwise.
    private var maxClientFrame = ProtocolLimits.defaultMaxClientFrame
    private var lastWrite = NIODeadline.now()
    private var keepAliveTimer: Scheduled<Void>?
    /// Last frame from the server, for dead-link detection.
    private var lastRead = NIODeadline.now()
    private var heartbeatTimer: Scheduled<Void>?
    /// Between ENTER_WORLD_RESULT(OK) or RESUME_RESULT(OK) and LEFT_WORLD: heartbeats run.
    private var inWorld = false
    /// A DISCONNECT after which a resume may follow; delivered only if none does.
    private var heldDisconnect: ClientEvent?
    /// Set once the connection is going away; every later request fails with it.
    private var closeReason: GameClientError? {
        didSet { if let closeReason { sharedCloseReason.setIfUnset(closeReason) } }
    }
    private let sharedCloseReason: CloseReasonBox
    /// The session has been told the connection ended.
    private var finished = false

    init(
        session: ClientSession,
        resume: GameClientResume = GameClientResume(),
        statistics: ClientStatistics,
        keepAliveInterval: TimeAmount?,
        keepAliveTimeout: TimeAmount,
        closeReason: CloseReasonBox,
        logger: Logger
    ) {
        self.sharedCloseReason = closeReason
        self.session = session
        self.heartbeatInterval = resume.heartbeatInterval.map { TimeAmount($0) }
        self.deadLinkTimeout = TimeAmount(resume.deadLinkTimeout)
        self.statistics = statistics
        self.keepAliveInterval = keepAliveInterval
        self.keepAliveTimeout = keepAliveTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(reason: closeReason ?? .connectionClosed)
        self.context = nil
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastRead = .now()
        statistics.recordReceived(frameBytes: ProtocolLimits.frameHeaderSize + frame.body.readableBytes)
        let message: ServerMessage
        do {
            message = try ServerMessage.decode(frame)
        } catch {
            fail(context: context, reason: .protocolViolation("\(error)"))
            return
        }

        switch message {
        case .worldUpdate(let tick, let worldEvents):
            statistics.recordWorldUpdate(events: worldEvents.count)
            deliver(.world(tick: tick, events: worldEvents))

        case .disconnect(let code, let text):
            let reason = GameClientError.disconnected(code, message: text)
            if closeReason == nil { closeReason = reason }
            if ClientSession.isResumable(reason) {
                // The session decides at close: `.reconnecting` if it resumes, this otherwise.
                heldDisconnect = .disconnected(code: code, message: text)
            } else {
                deliver(.disconnected(code: code, message: text))
            }
            // Fail now rather than at close: the server has said it will answer nothing more.
            failAllPending(reason)

        case .error(let requestOpcode, let code):
            if let pending = inFlight, pending.request.rawValue == requestOpcode {
                complete(context: context, with: .failure(GameClientError.refused(code)))
            } else {
                deliver(.refused(requestOpcode: requestOpcode, code: code))
            }

        case .leftWorld(let code):
            inWorld = false
            stopHeartbeat()
            session.leftWorld(on: context.channel)
            if let pending = inFlight, pending.response == .leftWorld {
                complete(context: context, with: .success(message))
            }
            // Always an event too: whoever tracks the world must learn it is gone.
            deliver(.leftWorld(code))

        case .helloAck(_, let maxFrame):
            maxClientFrame = Int(maxFrame)
            resolve(context: context, message)
            scheduleKeepAlive(context: context)

        case .pong(let nonce):
            // A heartbeat's PONG (high nonces, never queued) answers no request.
            if nonce & 0x8000_0000 != 0, inFlight?.message != .ping(nonce: nonce) { return }
            resolve(context: context, message)

        case .loginResult(let code, _, _):
            if code == .ok, let pending = inFlight, case .login(let token) = pending.message {
                session.loggedIn(token: token, on: context.channel)
            }
            resolve(context: context, message)

        case .enterWorldResult(let code, let entry):
            if code == .ok, let entry, inFlight?.response == .enterWorldResult {
                var characterId: UInt64?
                if case .enterWorld(let id) = inFlight?.message { characterId = id }
                enterWorld(context: context)
                // Before the answer and the snapshot behind it: a fallback re-entry's event first.
                session.enteredWorld(characterId: characterId, entry: entry, on: context.channel)
            }
            resolve(context: context, message)

        case .resumeResult(let code, let resumed):
            if code == .ok, let resumed, inFlight?.response == .resumeResult {
                enterWorld(context: context)
                session.resumed(resumed, on: context.channel)
            }
            resolve(context: context, message)

        case .resumeToken(let token, let graceSeconds):
            session.receivedResumeToken(token, graceSeconds: graceSeconds, on: context.channel)

        case .viewReset(let entityId, let zoneId, let x, let y):
            deliver(.viewReset(entityId: entityId, zoneId: zoneId, x: x, y: y))

        case .characterListResult, .characterCreateResult, .characterDeleteResult:
            resolve(context: context, message)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown(reason: closeReason ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let protocolError = error as? ProtocolError {
            fail(context: context, reason: .protocolViolation("\(protocolError)"))
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            fail(context: context, reason: .connectionClosed)
        }
    }

    // MARK: outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .send(let message):
            if let closeReason {
                promise?.fail(closeReason)
                return
            }
            if !writeMessage(context: context, message, flush: false, promise: promise) {
                promise?.fail(GameClientError.invalidArgument("frame exceeds the server's limit of \(maxClientFrame) bytes"))
            }

        case .request(let message, let expecting, let timeout, let response):
            promise?.succeed(())
            if let closeReason {
                response.fail(closeReason)
                return
            }
            nextId &+= 1
            var pending = Pending(id: nextId, message: message, request: message.opcode, response: expecting, promise: response)
            let id = nextId
            pending.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                self.timedOut(id: id)
            }
            queued.append(pending)
            sendNextIfIdle(context: context, flush: false)
        }
    }

    // MARK: private

    /// Puts the next queued request on the wire when none is outstanding.
    private func sendNextIfIdle(context: ChannelHandlerContext, flush: Bool) {
        while inFlight == nil, let next = queued.popFirst() {
            if writeMessage(context: context, next.message, flush: flush, promise: nil) {
                inFlight = next
            } else {
                next.timeout?.cancel()
                next.promise?.fail(GameClientError.invalidArgument("frame exceeds the server's limit of \(maxClientFrame) bytes"))
            }
        }
    }

    /// Encodes and writes one frame; false (writing nothing) when it breaks the server's frame limit.
    private func writeMessage(context: ChannelHandlerContext, _ message: ClientMessage, flush: Bool, promise: EventLoopPromise<Void>?) -> Bool {
        var buffer = context.channel.allocator.buffer(capacity: 32)
        message.encode(into: &buffer)
        guard buffer.readableBytes - 4 <= maxClientFrame else { return false }
        if case .move = message {
            statistics.recordSent(frameBytes: buffer.readableBytes, isMove: true)
        } else {
            statistics.recordSent(frameBytes: buffer.readableBytes, isMove: false)
        }
        lastWrite = .now()
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
        } else {
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
        return true
    }

    /// Completes the outstanding request with `message` if `message` is its answer.
    private func resolve(context: ChannelHandlerContext, _ message: ServerMessage) {
        guard let pending = inFlight, pending.response == message.opcode else {
            logger.debug("unsolicited answer dropped", metadata: ["opcode": "\(message.opcode)"])
            return
        }
        complete(context: context, with: .success(message))
    }

    private func complete(context: ChannelHandlerContext, with result: Result<ServerMessage, any Error>) {
        guard let pending = inFlight else { return }
        inFlight = nil
        pending.timeout?.cancel()
        pending.promise?.completeWith(result)
        // Called from channelRead: nobody else will flush this write.
        sendNextIfIdle(context: context, flush: true)
    }

    private func timedOut(id: UInt64) {
        if var pending = inFlight, pending.id == id {
            // Keep it outstanding without a caller so its late answer is recognised and dropped.
            pending.promise?.fail(GameClientError.timedOut(pending.request))
            pending.promise = nil
            inFlight = pending
        } else if let index = queued.firstIndex(where: { $0.id == id }) {
            let pending = queued.remove(at: index)
            pending.promise?.fail(GameClientError.timedOut(pending.request))
        }
    }

    /// Sends a PING after `keepAliveInterval` without any write, so the server's idle timeout
    /// does not fire on a client that is only listening.
    private func scheduleKeepAlive(context: ChannelHandlerContext) {
        guard let interval = keepAliveInterval, closeReason == nil else { return }
        keepAliveTimer?.cancel()
        let due = lastWrite + interval
        let delay = max(due - .now(), .milliseconds(1))
        keepAliveTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard let context = self.context, self.closeReason == nil else { return }
            if self.inFlight == nil, self.queued.isEmpty, NIODeadline.now() >= self.lastWrite + interval {
                self.nextNonce &+= 1
                self.nextId &+= 1
                let id = self.nextId
                var pending = Pending(id: id, message: .ping(nonce: self.nextNonce), request: .ping, response: .pong, promise: nil)
                pending.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: self.keepAliveTimeout) { [self] in
                    self.timedOut(id: id)
                }
                self.queued.append(pending)
                self.sendNextIfIdle(context: context, flush: true)
            }
            self.scheduleKeepAlive(context: context)
        }
    }

    private func deliver(_ event: ClientEvent) {
        session.deliver(event, from: context?.channel)
    }

    /// In the world: PING every `heartbeatInterval` whatever else is sent, and close the link
    /// when nothing has come from the server for `deadLinkTimeout` (the session then resumes).
    private func enterWorld(context: ChannelHandlerContext) {
        inWorld = true
        lastRead = .now()
        guard let interval = heartbeatInterval, heartbeatTimer == nil else { return }
        scheduleHeartbeat(context: context, in: interval)
    }

    private func scheduleHeartbeat(context: ChannelHandlerContext, in delay: TimeAmount) {
        heartbeatTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            self.heartbeatTimer = nil
            guard let context = self.context, self.closeReason == nil, self.inWorld, let interval = self.heartbeatInterval else { return }
            let silence = NIODeadline.now() - self.lastRead
            if silence >= self.deadLinkTimeout {
                self.logger.info("dead link: nothing from the server", metadata: ["silenceMs": "\(silence.nanoseconds / 1_000_000)"])
                self.fail(context: context, reason: .connectionClosed)
                return
            }
            self.nextNonce = (self.nextNonce &+ 1) | 0x8000_0000
            _ = self.writeMessage(context: context, .ping(nonce: self.nextNonce), flush: true, promise: nil)
            // Wake at the next PING or exactly when the link would count as dead, if sooner.
            self.scheduleHeartbeat(context: context, in: min(interval, self.deadLinkTimeout - silence))
        }
    }

    private func stopHeartbeat() {
        heartbeatTimer?.cancel()
        heartbeatTimer = nil
    }

    private func fail(context: ChannelHandlerContext, reason: GameClientError) {
        if closeReason == nil { closeReason = reason }
        failAllPending(closeReason!)
        context.close(promise: nil)
    }

    private func failAllPending(_ reason: GameClientError) {
        if let pending = inFlight {
            inFlight = nil
            pending.timeout?.cancel()
            pending.promise?.fail(reason)
        }
        while let pending = queued.popFirst() {
            pending.timeout?.cancel()
            pending.promise?.fail(reason)
        }
    }

    /// Idempotent: runs on the first of channelInactive / handlerRemoved.
    private func shutDown(reason: GameClientError) {
        if closeReason == nil { closeReason = reason }
        keepAliveTimer?.cancel()
        keepAliveTimer = nil
        stopHeartbeat()
        // The session first (it finishes the client or starts a resume), so that a caller whose
        // request fails below already sees the client's new state.
        if !finished, let channel = context?.channel {
            finished = true
            session.connectionEnded(channel, reason: closeReason!, heldDisconnect: heldDisconnect)
        }
        failAllPending(closeReason!)
    }
}
