import Logging
import NIOCore
import Synchronization

/// One place in the pool: at most one connection, opened lazily and reopened after it drops.
///
/// A failed connect starts an exponential backoff. While it lasts, commands routed here fail
/// immediately instead of each one paying for a connect attempt (or worse, spinning on one),
/// which is what keeps callers fast while Redis is down.
final class ConnectionSlot: Sendable {
    enum Acquisition {
        case ready(RedisConnection)
        /// A connect is in progress; wait for it.
        case pending(EventLoopFuture<RedisConnection>)
        /// Backing off after a failed connect, or shut down.
        case unavailable(RedisError)
    }

    private struct Backoff {
        static let initialDelay = TimeAmount.milliseconds(100)
        static let maximumDelay = TimeAmount.seconds(2)

        /// No connect before this time; `nil` when the last attempt did not fail.
        var notBefore: NIODeadline?
        var lastError: RedisError?
        /// The wait after the next failure.
        var nextDelay: TimeAmount = Self.initialDelay

        mutating func recordFailure(_ error: RedisError, now: NIODeadline) {
            self.notBefore = now + self.nextDelay
            self.lastError = error
            self.nextDelay = min(self.nextDelay * 2, Self.maximumDelay)
        }
    }

    private enum State {
        case idle(Backoff)
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
        case shutdown
    }

    private let state = Mutex<State>(.idle(Backoff()))
    private let configuration: RedisClientConfiguration
    private let eventLoop: any EventLoop
    private let logger: Logger

    init(configuration: RedisClientConfiguration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// The open connection, if there is one; never starts a connect.
    func connectedConnection() -> RedisConnection? {
        self.state.withLock { state in
            if case .connected(let connection) = state, connection.isActive {
                return connection
            }
            return nil
        }
    }

    /// Returns the connection, or starts connecting if allowed.
    func acquire() -> Acquisition {
        enum Action {
            case done(Acquisition)
            case connect(EventLoopPromise<RedisConnection>)
        }
        let action = self.state.withLock { state -> Action in
            var backoff = Backoff()
            switch state {
            case .shutdown:
                return .done(.unavailable(.shutdown))
            case .connecting(let future):
                return .done(.pending(future))
            case .connected(let connection):
                if connection.isActive {
                    return .done(.ready(connection))
                }
                // Closed, and the close callback hasn't run yet: reconnect right away.
            case .idle(let current):
                backoff = current
                if let notBefore = backoff.notBefore, NIODeadline.now() < notBefore {
                    let cause = backoff.lastError.map { ": \($0.message)" } ?? ""
                    return .done(.unavailable(RedisError(
                        code: .connectionFailed,
                        message: "Redis at \(self.configuration.host):\(self.configuration.port) is unavailable, retrying shortly (last attempt failed\(cause))",
                        underlying: backoff.lastError
                    )))
                }
            }
            let promise = self.eventLoop.makePromise(of: RedisConnection.self)
            state = .connecting(promise.futureResult)
            // Keep the backoff for the completion handler by capturing it there.
            promise.futureResult.whenComplete { [backoff] result in
                self.connectCompleted(result, backoff: backoff)
            }
            return .connect(promise)
        }

        switch action {
        case .done(let acquisition):
            return acquisition
        case .connect(let promise):
            // Outside the lock: NIO may run callbacks inline.
            self.logger.debug("Connecting to Redis")
            RedisConnection.connect(configuration: self.configuration, eventLoop: self.eventLoop, logger: self.logger)
                .cascade(to: promise)
            return .pending(promise.futureResult)
        }
    }

    private func connectCompleted(_ result: Result<RedisConnection, any Error>, backoff: Backoff) {
        switch result {
        case .success(let connection):
            let keep = self.state.withLock { state -> Bool in
                guard case .connecting = state else { return false }  // shut down meanwhile
                state = .connected(connection)
                return true
            }
            guard keep else {
                _ = connection.close()
                return
            }
            self.logger.debug("Connected to Redis")
            connection.channel.closeFuture.whenComplete { _ in
                self.connectionClosed(connection)
            }

        case .failure(let error):
            let redisError = error as? RedisError
                ?? RedisError(code: .connectionFailed, message: "could not connect", underlying: error)
            var backoff = backoff
            backoff.recordFailure(redisError, now: .now())
            let retryDelay = backoff.notBefore.map { $0 - .now() } ?? .zero
            self.state.withLock { state in
                if case .connecting = state {
                    state = .idle(backoff)
                }
            }
            self.logger.warning(
                "Redis connect failed",
                metadata: ["error": "\(redisError)", "redis.retry_after_ms": "\(retryDelay.nanoseconds / 1_000_000)"]
            )
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let wasCurrent = self.state.withLock { state -> Bool in
            guard case .connected(let current) = state, current === connection else { return false }
            // The connection worked, so reconnect on the next command without backoff.
            state = .idle(Backoff())
            return true
        }
        if wasCurrent {
            self.logger.info("Redis connection closed; reconnecting on next command")
        }
    }

    /// Stops the slot for good and closes its connection.
    func shutdown() -> EventLoopFuture<Void> {
        let previous = self.state.withLock { state -> State in
            let previous = state
            state = .shutdown
            return previous
        }
        switch previous {
        case .connected(let connection):
            return connection.close()
        case .connecting(let future):
            // connectCompleted closes it too, since the state is no longer `.connecting`;
            // waiting here makes shutdown return only once the socket is gone.
            return future.flatMap { $0.close() }.recover { _ in }
        case .idle, .shutdown:
            return self.eventLoop.makeSucceededVoidFuture()
        }
    }
}
