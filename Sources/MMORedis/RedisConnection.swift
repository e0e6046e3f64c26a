import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis, ready for commands (AUTH and SELECT already done).
final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var isActive: Bool { self.channel.isActive }

    /// Hands a command to the connection's pipeline. The promise fails with a ``RedisError``
    /// when the connection closes or the command times out; error replies are successful
    /// ``RESPValue/error(_:)`` values.
    ///
    /// The caller may fail the returned promise early (e.g. on task cancellation): the reply,
    /// when it arrives, is still consumed in order and then dropped, so the connection stays
    /// in sync.
    func sendCommand(_ arguments: RedisCommand.Arguments) -> EventLoopPromise<RESPValue> {
        let replyPromise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        let writePromise = self.channel.eventLoop.makePromise(of: Void.self)
        writePromise.futureResult.whenFailure { error in
            // The command handler never saw the command (the pipeline is already torn down),
            // so the reply promise is ours to fail. If the handler did fail it, this is a no-op.
            var redisError = error as? RedisError
                ?? RedisError(code: .connectionClosed, message: "connection closed", underlying: error)
            redisError.commandWasNotSent = true
            replyPromise.fail(redisError)
        }
        self.channel.writeAndFlush(RedisCommand(arguments: arguments, replyPromise: replyPromise), promise: writePromise)
        return replyPromise
    }

    func send(_ arguments: RedisCommand.Arguments) -> EventLoopFuture<RESPValue> {
        self.sendCommand(arguments).futureResult
    }

    /// Closes the connection; in-flight commands fail with ``RedisError/Code/connectionClosed``.
    func close() -> EventLoopFuture<Void> {
        let promise = self.channel.eventLoop.makePromise(of: Void.self)
        self.channel.close(promise: promise)
        // Closing an already closed channel fails; for us that is success.
        return promise.futureResult.recover { _ in }
    }

    /// Connects and runs the handshake (AUTH, SELECT). Every failure, including a handshake
    /// command timing out or being rejected, is reported as ``RedisError/Code/connectionFailed``.
    static func connect(
        configuration: RedisClientConfiguration,
        eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let commandTimeout = TimeAmount(configuration.commandTimeout)
        let endpoint = "\(configuration.host):\(configuration.port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(RESPDecoder()),
                        RedisCommandHandler(commandTimeout: commandTimeout, logger: logger)
                    )
                }
            }

        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error {
                    throw RedisError(
                        code: .connectionFailed,
                        message: "connect to \(endpoint) timed out after \(configuration.connectTimeout)",
                        underlying: error
                    )
                }
                throw RedisError(code: .connectionFailed, message: "could not connect to \(endpoint)", underlying: error)
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel)
                return connection.handshake(configuration: configuration)
                    .map { connection }
                    .flatMapError { error in
                        let error = RedisError(
                            code: .connectionFailed,
                            message: "handshake with \(endpoint) failed: \((error as? RedisError)?.message ?? "\(error)")",
                            underlying: error
                        )
                        return connection.close().flatMapThrowing { throw error }
                    }
            }
    }

    private func handshake(configuration: RedisClientConfiguration) -> EventLoopFuture<Void> {
        var future = self.channel.eventLoop.makeSucceededVoidFuture()
        if let password = configuration.password {
            let arguments = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            future = future.flatMap {
                self.send(.strings(arguments)).flatMapThrowing { reply in
                    // Redis's AUTH errors (WRONGPASS, ERR ... no password is set) never echo
                    // the password, so the message is safe to surface.
                    if case .error(let message) = reply {
                        throw RedisError(code: .serverError, message: "AUTH rejected: \(message)")
                    }
                }
            }
        }
        if configuration.database != 0 {
            let database = String(configuration.database)
            future = future.flatMap {
                self.send(.strings(["SELECT", database])).flatMapThrowing { reply in
                    if case .error(let message) = reply {
                        throw RedisError(code: .serverError, message: "SELECT \(database) rejected: \(message)")
                    }
                }
            }
        }
        return future
    }
}
