import MMOTime
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A pooled, pipelining Redis client speaking RESP2.
///
/// Any number of tasks may call it concurrently. Commands are spread round-robin over up to
/// ``RedisClientConfiguration/poolSize`` connections, opened on first use; on each connection commands are
/// pipelined and replies matched in order, so throughput does not depend on the pool size nearly
/// as much as on the number of concurrent callers.
///
/// Failure behaviour:
/// - A server error reply throws ``RedisError`` with code ``RedisError/Code/serverError``;
///   the connection stays usable.
/// - A dropped connection fails its in-flight commands with
///   ``RedisError/Code/connectionClosed``; the next command reconnects.
/// - If Redis can't be reached, commands fail within ``RedisClientConfiguration/connectTimeout``; after a
///   failed connect, further commands fail immediately for a short, growing backoff period.
/// - A command without a reply after ``RedisClientConfiguration/commandTimeout`` fails with
///   ``RedisError/Code/timeout``.
/// - Cancelling the calling task makes `send` throw `CancellationError` right away; a command
///   already sent still runs on the server and its reply is discarded.
///
/// Call ``shutdown()`` when done.
///
/// Rejected with ``RedisError/Code/invalidCommand``: `SUBSCRIBE`/`PSUBSCRIBE`/`SSUBSCRIBE`/
/// `MONITOR` (push modes), and `MULTI`/`WATCH`/`SELECT`, whose state is per connection while
/// connections are shared and consecutive commands may go to different ones. Blocking commands
/// (`BLPOP`...) hold up every command pipelined behind them and must finish within
/// ``RedisClientConfiguration/commandTimeout``.
public final class RedisClient: Sendable {
    public let configuration: RedisClientConfiguration
    private let slots: [ConnectionSlot]
    private let nextSlot = Atomic<UInt>(0)
    private let isShutdown = Atomic<Bool>(false)
    private let logger: Logger

    /// Creates a client. No connection is opened until the first command.
    /// A ``RedisClientConfiguration/poolSize`` below 1 is treated as 1.
    ///
    /// - Parameters:
    ///   - eventLoopGroup: Connections are spread over its event loops.
    ///   - logger: Gets connect/disconnect events. Never gets passwords, keys or values.
    public init(
        configuration: RedisClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.host"] = "\(configuration.host)"
        logger[metadataKey: "redis.port"] = "\(configuration.port)"
        logger[metadataKey: "redis.db"] = "\(configuration.database)"
        self.logger = logger
        self.slots = (0..<max(1, configuration.poolSize)).map { index in
            var slotLogger = logger
            slotLogger[metadataKey: "redis.connection"] = "\(index)"
            return ConnectionSlot(configuration: configuration, eventLoop: eventLoopGroup.next(), logger: slotLogger)
        }
    }

    deinit {
        // Forgetting shutdown() must not leak sockets for the lifetime of the process.
        if !self.isShutdown.load(ordering: .acquiring) {
            for slot in self.slots {
                _ = slot.shutdown()
            }
        }
    }

    // MARK: Commands

    /// Sends one command (e.g. `["SET", "k", "v", "PX", "1000"]`) and returns the reply.
    ///
    /// - Throws: ``RedisError``; a top-level error reply is thrown as
    ///   ``RedisError/Code/serverError``.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        guard let name = arguments.first else { throw RedisError.emptyCommand }
        try Self.rejectUnsupported(name.utf8)
        return try Self.throwingServerError(await self.execute(.strings(arguments)))
    }

    /// Sends one command given as binary-safe arguments and returns the reply.
    ///
    /// - Throws: ``RedisError``; a top-level error reply is thrown as
    ///   ``RedisError/Code/serverError``.
    public func send(_ arguments: [ByteBuffer]) async throws -> RESPValue {
        guard let name = arguments.first else { throw RedisError.emptyCommand }
        try Self.rejectUnsupported(name.readableBytesView)
        return try Self.throwingServerError(await self.execute(.buffers(arguments)))
    }

    /// `GET key`. Returns `nil` if the key does not exist.
    public func get(_ key: String) async throws -> ByteBuffer? {
        let reply = try await self.send(["GET", key])
        guard case .bulkString(let value) = reply else {
            throw RedisError.unexpectedReply(reply, expected: "bulk string")
        }
        return value
    }

    /// `SET key value [PX milliseconds]`.
    ///
    /// - Parameter expiresIn: Time to live, rounded up to whole milliseconds; `nil` for none.
    ///   A zero or negative duration is rejected by Redis with a server error.
    public func set(_ key: String, value: ByteBuffer, expiresIn: Duration?) async throws {
        var arguments = [ByteBuffer(staticString: "SET"), ByteBuffer(string: key), value]
        if let expiresIn {
            arguments.append(ByteBuffer(staticString: "PX"))
            arguments.append(ByteBuffer(string: String(expiresIn.millisecondsRoundedUp)))
        }
        let reply = try await self.send(arguments)
        guard case .simpleString = reply else {
            throw RedisError.unexpectedReply(reply, expected: "OK")
        }
    }

    /// `DEL key...`. Returns the number of keys that existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        // DEL without keys is a syntax error; deleting nothing needs no round trip.
        guard !keys.isEmpty else { return 0 }
        return try await self.integer(self.send(["DEL"] + keys))
    }

    /// `PING`. Throws unless Redis answers `PONG`; meant for health checks.
    public func ping() async throws {
        let reply = try await self.send(["PING"])
        guard case .simpleString("PONG") = reply else {
            throw RedisError.unexpectedReply(reply, expected: "PONG")
        }
    }

    /// `PUBLISH channel message`. Returns the number of subscribers that received it.
    public func publish(_ channel: String, message: String) async throws -> Int {
        try await self.integer(self.send(["PUBLISH", channel, message]))
    }

    /// Closes all connections; commands in flight fail with
    /// ``RedisError/Code/connectionClosed`` and later calls throw
    /// ``RedisError/Code/clientShutdown``.
    public func shutdown() async {
        guard !self.isShutdown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let closes = self.slots.map { $0.shutdown() }
        for close in closes {
            try? await close.get()
        }
        self.logger.debug("Redis client shut down")
    }

    // MARK: Internals

    private func execute(_ arguments: RedisCommand.Arguments) async throws -> RESPValue {
        var retried = false
        while true {
            let connection = try await self.connection()
            try Task.checkCancellation()
            let promise = connection.sendCommand(arguments)
            do {
                return try await withTaskCancellationHandler {
                    try await promise.futureResult.get()
                } onCancel: {
                    promise.fail(CancellationError())
                }
            } catch let error as RedisError where error.commandWasNotSent && !retried {
                // The connection died before the command got onto it (e.g. the server closed it
                // while idle). Nothing was sent, so one retry on a fresh connection is safe.
                retried = true
            }
        }
    }

    private func connection() async throws -> RedisConnection {
        guard !self.isShutdown.load(ordering: .acquiring) else {
            throw RedisError.shutdown
        }
        let count = UInt(self.slots.count)
        let start = self.nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
        let acquisition = self.slots[Int(start % count)].acquire()
        if case .ready(let connection) = acquisition {
            return connection
        }
        // The chosen slot is connecting or backing off: rather than wait or fail, borrow any
        // other open connection.
        for offset in 1..<count {
            if let connection = self.slots[Int((start &+ offset) % count)].connectedConnection() {
                return connection
            }
        }
        switch acquisition {
        case .ready(let connection):
            return connection
        case .pending(let future):
            return try await future.get()
        case .unavailable(let error):
            throw error
        }
    }

    private func integer(_ reply: RESPValue) throws -> Int {
        guard case .integer(let value) = reply else {
            throw RedisError.unexpectedReply(reply, expected: "integer")
        }
        return Int(value)
    }

    private static func throwingServerError(_ reply: RESPValue) throws -> RESPValue {
        if case .error(let message) = reply {
            throw RedisError.server(message)
        }
        return reply
    }

    /// Commands that would break a shared, pipelined connection: push modes desynchronise
    /// request/reply matching, and connection state (transactions, selected database) would
    /// leak into other callers' commands.
    private static let unsupportedCommands: [[UInt8]] = [
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "MULTI", "WATCH", "SELECT",
    ].map { Array($0.utf8) }

    /// Compares ASCII case-insensitively without allocating; this runs for every command.
    private static func rejectUnsupported(_ name: some Collection<UInt8>) throws {
        let count = name.count
        guard (5...10).contains(count) else { return }
        for command in Self.unsupportedCommands where command.count == count {
            // OR-ing 0x20 lower-cases ASCII letters; all bytes of `command` are letters.
            if zip(name, command).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) {
                throw RedisError(
                    code: .invalidCommand,
                    message: "\(String(decoding: command, as: UTF8.self)) is not supported on a pooled, pipelined client"
                )
            }
        }
    }

}
