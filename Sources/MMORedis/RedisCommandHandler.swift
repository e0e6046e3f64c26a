import Logging
import NIOCore

/// A command on its way to Redis, together with the promise for its reply.
struct RedisCommand: Sendable {
    enum Arguments: Sendable {
        case strings([String])
        case buffers([ByteBuffer])
    }

    var arguments: Arguments
    var replyPromise: EventLoopPromise<RESPValue>
}

/// Decodes RESP2 replies off the wire. All the logic lives in the pure ``RESPParser``.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private var parser: RESPParser

    init(limits: RESPParser.Limits = .init()) {
        self.parser = RESPParser(limits: limits)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try self.parser.next(from: &buffer) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial reply at EOF is simply lost; the command handler fails its promise
        // when the channel goes inactive.
        try self.decode(context: context, buffer: &buffer)
    }
}

/// Pipelines commands on one connection: encodes them, queues their promises and completes
/// them in FIFO order as replies arrive. Enforces the command timeout.
///
/// Server error replies are delivered as ``RESPValue/error(_:)`` values; turning them into
/// thrown errors is up to the caller, since only it knows whether an error is expected.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = ByteBuffer

    private var stateMachine: RedisConnectionStateMachine<EventLoopPromise<RESPValue>>
    private var timer: Scheduled<Void>?
    private var flushPending = false
    private var removed = false
    private let logger: Logger

    init(commandTimeout: TimeAmount, logger: Logger) {
        self.stateMachine = RedisConnectionStateMachine(commandTimeout: commandTimeout)
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = Self.unwrapOutboundIn(data)
        switch self.stateMachine.enqueue(command.replyPromise, now: .now()) {
        case .fail(var error):
            error.commandWasNotSent = true
            command.replyPromise.fail(error)
            promise?.fail(error)
        case .write(let armTimer):
            var buffer: ByteBuffer
            switch command.arguments {
            case .strings(let arguments):
                // Sized up front so encoding never reallocates; utf8.count is O(1) for native strings.
                buffer = context.channel.allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
                RESPEncoder.writeCommand(arguments, into: &buffer)
            case .buffers(let arguments):
                buffer = context.channel.allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.readableBytes + 16 })
                RESPEncoder.writeCommand(arguments, into: &buffer)
            }
            // The caller's write promise means "accepted for this connection". A failed socket
            // write closes the channel, which fails the reply promise via channelInactive.
            context.write(Self.wrapOutboundOut(buffer), promise: nil)
            promise?.succeed(())
            if let deadline = armTimer {
                self.scheduleTimer(context: context, deadline: deadline)
            }
        }
    }

    /// Consolidates flushes: many tasks sending at once each enqueue a write+flush on the event
    /// loop; flushing once after all of them are written turns N syscalls into one.
    func flush(context: ChannelHandlerContext) {
        guard !self.flushPending else { return }
        self.flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushPending = false
            if !self.removed {
                context.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.stateMachine.received(Self.unwrapInboundIn(data)) {
        case .succeed(let promise, let value):
            promise.succeed(value)
        case .ignore:
            break
        case .failAllAndClose(let promises, let error):
            self.failAndClose(context: context, promises: promises, error: error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError: RedisError
        switch error {
        case let error as RedisError:
            redisError = error
        case let error as RESPParser.Error:
            redisError = .protocolError(error.message)
        default:
            redisError = RedisError(code: .connectionClosed, message: "connection failed", underlying: error)
        }
        if !self.stateMachine.isClosed {
            self.logger.warning("Redis connection error, closing", metadata: ["error": "\(redisError)"])
        }
        self.failAndClose(context: context, promises: self.stateMachine.close(redisError), error: redisError)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = RedisError(code: .connectionClosed, message: "connection closed by peer or network")
        self.fail(self.stateMachine.close(error), with: error)
        self.cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.removed = true
        let error = RedisError(code: .connectionClosed, message: "connection closed")
        self.fail(self.stateMachine.close(error), with: error)
        self.cancelTimer()
    }

    private func scheduleTimer(context: ChannelHandlerContext, deadline: NIODeadline) {
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            switch self.stateMachine.timerFired(now: .now()) {
            case .none:
                break
            case .rearm(let deadline):
                self.scheduleTimer(context: context, deadline: deadline)
            case .failAllAndClose(let promises, let error):
                self.logger.warning(
                    "Redis command timed out, closing connection",
                    metadata: ["redis.in_flight": "\(promises.count)"]
                )
                self.failAndClose(context: context, promises: promises, error: error)
            }
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }

    private func failAndClose(context: ChannelHandlerContext, promises: [EventLoopPromise<RESPValue>], error: RedisError) {
        self.cancelTimer()
        self.fail(promises, with: error)
        context.close(promise: nil)
    }

    private func fail(_ promises: [EventLoopPromise<RESPValue>], with error: RedisError) {
        for promise in promises {
            promise.fail(error)
        }
    }
}

@available(*, unavailable)
extension RedisCommandHandler: Sendable {}
