import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import MMORedis

/// Against a real redis-server; see ``TestRedis`` for where it comes from.
@Suite(.timeLimit(.minutes(1)))
struct RedisClientIntegrationTests {
    @Test func setGetDeleteAndExpiry() async throws {
        try await TestRedis.withServer { configuration in
            try await withClient(configuration) { client in
                let key = TestRedis.uniqueKey()
                #expect(try await client.get(key) == nil)
                try await client.set(key, value: ByteBuffer(string: "hello"), expiresIn: nil)
                #expect(try await client.get(key) == ByteBuffer(string: "hello"))
                #expect(try await client.send(["TTL", key]) == .integer(-1))

                // Overwrite with an expiry.
                // Long enough that a loaded CI machine still reads it before it expires.
                try await client.set(key, value: ByteBuffer(string: "short-lived"), expiresIn: .milliseconds(1500))
                #expect(try await client.get(key) == ByteBuffer(string: "short-lived"))
                let ttl = try #require(try await client.send(["PTTL", key]).int64Value)
                #expect(ttl > 0 && ttl <= 1500)
                try await Task.sleep(for: .milliseconds(1800))
                #expect(try await client.get(key) == nil)

                let other = TestRedis.uniqueKey()
                try await client.set(key, value: ByteBuffer(string: "a"), expiresIn: .seconds(60))
                try await client.set(other, value: ByteBuffer(string: "b"), expiresIn: nil)
                #expect(try await client.delete([key, other, TestRedis.uniqueKey()]) == 2)
                #expect(try await client.delete([key]) == 0)
                #expect(try await client.delete([]) == 0)
                #expect(try await client.get(other) == nil)

                try await client.ping()
                #expect(try await client.publish(TestRedis.uniqueKey(), message: "nobody listens") == 0)
                #expect(try await client.send(["ECHO", "x"]) == bulk("x"))
                #expect(try await client.send(["GET", TestRedis.uniqueKey()]) == .bulkString(nil))
            }
        }
    }

    @Test func binarySafeValues() async throws {
        try await TestRedis.withServer { configuration in
            try await withClient(configuration) { client in
                var value = ByteBuffer()
                value.writeBytes((0...255).map { UInt8($0) })
                value.writeString("\r\n$-1\r\n*2\r\n")
                let key = TestRedis.uniqueKey() + " with spaces \u{1F3AE}"
                try await client.set(key, value: value, expiresIn: .seconds(30))
                #expect(try await client.get(key) == value)

                // A few megabytes, so the reply arrives in many reads.
                var large = ByteBuffer()
                let block = (0..<4093).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }  // prime length
                for _ in 0..<768 {
                    large.writeBytes(block)
                }
                try await client.set(key, value: large, expiresIn: .seconds(30))
                #expect(try await client.get(key) == large)

                // Binary arguments via send([ByteBuffer]).
                let reply = try await client.send([ByteBuffer(string: "ECHO"), value])
                #expect(reply == .bulkString(value))
                try await client.delete([key])
            }
        }
    }

    @Test func thousandConcurrentSendsGetTheirOwnReplies() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 2
            try await withClient(configuration) { client in
                let counter = TestRedis.uniqueKey()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<1000 {
                        group.addTask {
                            let token = "reply-\(index)-" + String(repeating: "x", count: index % 50)
                            let reply = try await client.send(["ECHO", token])
                            #expect(reply == bulk(token))
                            _ = try await client.send(["INCR", counter])
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await client.get(counter) == ByteBuffer(string: "1000"))
                try await client.delete([counter])
            }
        }
    }

    @Test func serverErrorsThrowWithoutBreakingTheConnection() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 1
            try await withClient(configuration) { client in
                let key = TestRedis.uniqueKey()
                try await client.set(key, value: ByteBuffer(string: "string"), expiresIn: .seconds(30))
                let clientID = try await client.send(["CLIENT", "ID"])

                let error = await expectRedisError(.serverError) {
                    _ = try await client.send(["LPUSH", key, "x"])
                }
                #expect(error?.serverErrorPrefix == "WRONGTYPE")
                await expectRedisError(.serverError) {
                    _ = try await client.send(["NOSUCHCOMMAND"])
                }
                // get() on a list: the server error surfaces as RedisError too.
                let list = TestRedis.uniqueKey()
                _ = try await client.send(["RPUSH", list, "a"])
                await expectRedisError(.serverError) {
                    _ = try await client.get(list)
                }

                // Errors interleaved with successes in one pipeline keep their positions.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            if index % 3 == 0 {
                                await expectRedisError(.serverError) {
                                    _ = try await client.send(["INCR", key])
                                }
                            } else {
                                let reply = try await client.send(["ECHO", "\(index)"])
                                #expect(reply == bulk("\(index)"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                #expect(try await client.get(key) == ByteBuffer(string: "string"))
                #expect(try await client.send(["CLIENT", "ID"]) == clientID, "connection was replaced")
                try await client.delete([key, list])
            }
        }
    }

    @Test func rejectsCommandsThatWouldBreakAPipelinedConnection() async throws {
        // Rejected before anything is sent, so no server is needed.
        let client = RedisClient(configuration: .init(port: 1), logger: TestRedis.logger)
        for command in [["subscribe", "c"], ["PSUBSCRIBE", "*"], ["Monitor"], ["MULTI"], ["WATCH", "k"], ["SELECT", "1"], []] {
            await expectRedisError(.invalidCommand) {
                _ = try await client.send(command)
            }
        }
        await expectRedisError(.invalidCommand) {
            _ = try await client.send([ByteBuffer(string: "SSUBSCRIBE"), ByteBuffer(string: "c")])
        }
        await client.shutdown()
    }

    @Test func selectsConfiguredDatabase() async throws {
        try await TestRedis.withServer { configuration in
            var database5 = configuration
            database5.database = 5
            let key = TestRedis.uniqueKey()
            try await withClient(database5) { client in
                try await client.set(key, value: ByteBuffer(string: "in db 5"), expiresIn: .seconds(30))
                let info = try await client.send(["CLIENT", "INFO"]).stringValue ?? ""
                #expect(info.contains(" db=5 "))
            }
            var database0 = configuration
            database0.database = 0
            let fromDatabase0 = try await withClient(database0) { client in
                try await client.get(key)
            }
            #expect(fromDatabase0 == nil)
            try await withClient(database5) { client in
                #expect(try await client.get(key) == ByteBuffer(string: "in db 5"))
                try await client.delete([key])
            }
        }
    }

    @Test func inFlightCommandsFailAndNextCommandReconnectsAfterClientKill() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 1
            configuration.commandTimeout = .seconds(20)
            try await withClient(configuration) { victim in
                try await withClient(configuration) { killer in
                    let victimID = try #require(try await victim.send(["CLIENT", "ID"]).int64Value)

                    // Park a command on the victim's connection, then kill that connection.
                    let blocked = Task { try await victim.send(["BLPOP", TestRedis.uniqueKey(), "0"]) }
                    try await Task.sleep(for: .milliseconds(200))
                    #expect(try await killer.send(["CLIENT", "KILL", "ID", String(victimID)]) == .integer(1))
                    await expectRedisError(.connectionClosed) {
                        _ = try await blocked.value
                    }

                    // The next command reconnects.
                    try await victim.ping()
                    let newID = try #require(try await victim.send(["CLIENT", "ID"]).int64Value)
                    #expect(newID != victimID)

                    // Killed while idle: the next command must still work (the client either
                    // notices the close first, or retries the unsent command).
                    #expect(try await killer.send(["CLIENT", "KILL", "ID", String(newID)]) == .integer(1))
                    try await Task.sleep(for: .milliseconds(50))
                    try await victim.ping()
                }
            }
        }
    }

    @Test func commandTimeoutFailsAndClosesTheConnection() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 1
            // Long enough for the connect and CLIENT ID on a loaded CI machine.
            configuration.commandTimeout = .seconds(1)
            try await withClient(configuration) { client in
                let firstID = try #require(try await client.send(["CLIENT", "ID"]).int64Value)
                let clock = ContinuousClock()
                let start = clock.now
                // BLPOP with timeout 0 blocks forever; a pipelined ECHO is stuck behind it.
                let stuck = Task { try await client.send(["ECHO", "behind"]) }
                await expectRedisError(.timeout) {
                    _ = try await client.send(["BLPOP", TestRedis.uniqueKey(), "0"])
                }
                let elapsed = clock.now - start
                #expect(elapsed >= .milliseconds(950) && elapsed < .seconds(15), "took \(elapsed)")
                do {
                    _ = try await stuck.value
                } catch let error as RedisError {
                    // Sent before or after the BLPOP depending on scheduling.
                    #expect(error.code == .timeout)
                }

                try await client.ping()
                let secondID = try #require(try await client.send(["CLIENT", "ID"]).int64Value)
                #expect(secondID != firstID)
            }
        }
    }

    @Test func authenticatesWithPasswordProtectedServer() async throws {
        let password = "s3cret p@ss:/\u{E9}"
        try await TestRedis.withOwnServer(extraArguments: ["--requirepass", password]) { configuration in
            #expect(configuration.password == password)
            try await withClient(configuration) { client in
                try await client.ping()
                let key = TestRedis.uniqueKey()
                try await client.set(key, value: ByteBuffer(string: "v"), expiresIn: .seconds(10))
                #expect(try await client.get(key) == ByteBuffer(string: "v"))
            }

            // Via URL with percent-encoding, and with SELECT on top.
            let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let url = "redis://:\(encoded)@127.0.0.1:\(configuration.port)/2"
            try await withClient(RedisClientConfiguration(url: url)) { client in
                try await client.ping()
                #expect((try await client.send(["CLIENT", "INFO"]).stringValue ?? "").contains(" db=2 "))
            }

            var wrong = configuration
            wrong.password = "not-the-password"
            try await withClient(wrong) { client in
                let error = await expectRedisError(.connectionFailed) {
                    try await client.ping()
                }
                #expect(error.map { "\($0)" }?.contains("WRONGPASS") == true)
                #expect(error.map { "\($0)" }?.contains("not-the-password") == false)
            }

            var none = configuration
            none.password = nil
            try await withClient(none) { client in
                let error = await expectRedisError(.serverError) {
                    try await client.ping()
                }
                #expect(error?.serverErrorPrefix == "NOAUTH")
            }
        }
    }

    @Test func authenticatesAsACLUser() async throws {
        try await TestRedis.withServer { configuration in
            let user = "mmoredis-test-\(UUID().uuidString.prefix(8))"
            try await withClient(configuration) { admin in
                _ = try await admin.send(["ACL", "SETUSER", user, "on", ">pw-\(user)", "~*", "+@all"])
                var asUser = configuration
                asUser.username = user
                asUser.password = "pw-\(user)"
                asUser.database = 0
                let whoami = try await withClient(asUser) { client in
                    try await client.send(["ACL", "WHOAMI"]).stringValue
                }
                #expect(whoami == user)
                _ = try await admin.send(["ACL", "DELUSER", user])
            }
        }
    }

    @Test func failsFastWhenNothingListens() async throws {
        let port = try await TestRedis.freePort()
        // A long connect timeout: a refused connect, and commands during the backoff after it,
        // must fail long before it. (Bounds below are loose because CPU-heavy tests run in
        // parallel; what matters is "promptly", not an exact latency.)
        var configuration = RedisClientConfiguration(port: port, connectTimeout: .seconds(10))
        configuration.poolSize = 2
        try await withClient(configuration) { client in
            let clock = ContinuousClock()
            for attempt in 0..<5 {
                let start = clock.now
                await expectRedisError(.connectionFailed) {
                    try await client.ping()
                }
                let elapsed = clock.now - start
                #expect(elapsed < .seconds(3), "attempt \(attempt) took \(elapsed)")
            }
            // Many callers at once while down: all fail promptly, none hangs.
            let start = clock.now
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        await expectRedisError(.connectionFailed) {
                            _ = try await client.get("k")
                        }
                    }
                }
            }
            #expect(clock.now - start < .seconds(3))
        }
    }

    @Test func recoversWhenRedisComesBack() async throws {
        let port = try await TestRedis.freePort()
        var configuration = RedisClientConfiguration(port: port)
        configuration.poolSize = 1
        try await withClient(configuration) { client in
            // Fail a few times so the backoff grows.
            for _ in 0..<3 {
                await expectRedisError(.connectionFailed) { try await client.ping() }
                try await Task.sleep(for: .milliseconds(120))
            }
            try await TestRedis.withOwnServer(port: port) { _ in
                // Backoff is capped at 2 s, so within a few seconds commands work again.
                let deadline = ContinuousClock.now + .seconds(5)
                while true {
                    do {
                        try await client.ping()
                        break
                    } catch let error as RedisError where error.code == .connectionFailed && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        }
    }

    @Test func handshakeTimeoutFailsInsteadOfHanging() async throws {
        // A server that accepts connections and never says anything.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(silent.localAddress?.port)
        var configuration = RedisClientConfiguration(port: port, password: "pw", commandTimeout: .milliseconds(300))
        configuration.poolSize = 1
        try await withClient(configuration) { client in
            let start = ContinuousClock.now
            await expectRedisError(.connectionFailed) { try await client.ping() }
            // Generous: the bound is "doesn't hang", and CPU-heavy tests run in parallel.
            #expect(ContinuousClock.now - start < .seconds(5))
        }
        // Without a handshake, the first command itself times out.
        configuration.password = nil
        try await withClient(configuration) { client in
            await expectRedisError(.timeout) { try await client.ping() }
        }
        try await silent.close()
    }

    @Test func shutdownFailsInFlightAndLaterCommands() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 1
            configuration.commandTimeout = .seconds(20)
            let client = RedisClient(configuration: configuration, logger: TestRedis.logger)
            try await client.ping()
            let blocked = Task { try await client.send(["BLPOP", TestRedis.uniqueKey(), "0"]) }
            try await Task.sleep(for: .milliseconds(100))
            await client.shutdown()
            await expectRedisError(.connectionClosed) { _ = try await blocked.value }
            await expectRedisError(.clientShutdown) { try await client.ping() }
            await client.shutdown()  // idempotent
        }
    }
}

extension RedisClientIntegrationTests {
    @Test func cancellationReturnsEarlyAndKeepsTheConnectionInSync() async throws {
        try await TestRedis.withServer { configuration in
            var configuration = configuration
            configuration.poolSize = 1
            configuration.commandTimeout = .seconds(20)
            try await withClient(configuration) { client in
                let clientID = try await client.send(["CLIENT", "ID"])
                let list = TestRedis.uniqueKey()
                let blocked = Task { try await client.send(["BLPOP", list, "0"]) }
                try await Task.sleep(for: .milliseconds(100))
                blocked.cancel()
                await #expect(throws: CancellationError.self) { _ = try await blocked.value }

                // Unblock the BLPOP on the server (from another connection: commands behind a
                // blocked one wait). Its reply must be dropped, not handed to the next command.
                try await withClient(configuration) { other in
                    _ = try await other.send(["RPUSH", list, "item"])
                }
                #expect(try await client.send(["ECHO", "next"]) == bulk("next"))
                #expect(try await client.send(["CLIENT", "ID"]) == clientID)
                try await client.delete([list])
            }
        }
    }
}
