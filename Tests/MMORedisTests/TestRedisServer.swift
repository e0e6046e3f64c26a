import Foundation
import Logging
import MMOTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import MMORedis

/// Where integration tests find Redis.
///
/// - `MMO_TEST_REDIS_URL` set: that server is used (tests use unique keys and never flush).
/// - Unset and `CI` set: the test fails; CI must provide Redis explicitly rather than silently
///   testing against whatever happens to be installed.
/// - Unset locally: a throwaway `redis-server` is started on a free port and killed afterwards.
///
/// Tests that need a server with special settings (e.g. `requirepass`) always start their own,
/// which needs the `redis-server` binary (found on `PATH`, or `MMO_TEST_REDIS_SERVER`).
enum TestRedis {
    static let logger: Logger = {
        var logger = Logger(label: "MMORedisTests")
        logger.logLevel = ProcessInfo.processInfo.environment["MMO_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `body` with a configuration pointing at a usable Redis.
    @discardableResult
    static func withServer<T>(
        _ body: (RedisClientConfiguration) async throws -> T
    ) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["MMO_TEST_REDIS_URL"], !url.isEmpty {
            return try await body(RedisClientConfiguration(url: url))
        }
        if TestServices.required(environment) {
            throw SetupError(description: "MMO_TEST_REDIS_URL must be set when CI is set (e.g. redis://127.0.0.1:6379)")
        }
        return try await self.withOwnServer(body)
    }

    /// Starts a private `redis-server` for the duration of `body`, regardless of
    /// `MMO_TEST_REDIS_URL`.
    @discardableResult
    static func withOwnServer<T>(
        port: Int? = nil,
        extraArguments: [String] = [],
        _ body: (RedisClientConfiguration) async throws -> T
    ) async throws -> T {
        let server = try await RedisServerProcess.start(port: port, extraArguments: extraArguments)
        let result: T
        do {
            result = try await body(server.configuration)
        } catch {
            server.stop()
            throw error
        }
        server.stop()
        return result
    }

    /// A port nothing listens on right now (bound, read, released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    static func uniqueKey(_ name: String = #function) -> String {
        "mmoredis-test:\(name):\(UUID().uuidString)"
    }
}

/// A `redis-server` child process.
final class RedisServerProcess {
    let process: Process
    let configuration: RedisClientConfiguration

    private init(process: Process, configuration: RedisClientConfiguration) {
        self.process = process
        self.configuration = configuration
    }

    static func binary() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["MMO_TEST_REDIS_SERVER"] {
            return explicit
        }
        let searchPath = (environment["PATH"] ?? "") + ":/usr/bin:/usr/local/bin:/opt/homebrew/bin"
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        throw TestRedis.SetupError(description: "redis-server not found; install it or set MMO_TEST_REDIS_SERVER")
    }

    static func start(port fixedPort: Int? = nil, extraArguments: [String] = []) async throws -> RedisServerProcess {
        let binary = try self.binary()
        var lastError: (any Error)?
        // A free port can be taken between probing and binding; try a few.
        for _ in 0..<5 {
            let port: Int
            if let fixedPort {
                port = fixedPort
            } else {
                port = try await TestRedis.freePort()
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--loglevel", "warning",
            ] + extraArguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()

            var configuration = RedisClientConfiguration(host: "127.0.0.1", port: port)
            if let index = extraArguments.firstIndex(of: "--requirepass") {
                configuration.password = extraArguments[index + 1]
            }
            let server = RedisServerProcess(process: process, configuration: configuration)
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                lastError = error
                server.stop()
                if fixedPort != nil { break }
            }
        }
        throw TestRedis.SetupError(description: "could not start redis-server: \(lastError.map { "\($0)" } ?? "?")")
    }

    private func waitUntilReady() async throws {
        var configuration = self.configuration
        configuration.poolSize = 1
        configuration.connectTimeout = .milliseconds(500)
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            guard self.process.isRunning else {
                throw TestRedis.SetupError(description: "redis-server exited with status \(self.process.terminationStatus)")
            }
            // A fresh client each time, so the client's connect backoff doesn't slow this down.
            let client = RedisClient(configuration: configuration, logger: TestRedis.logger)
            do {
                try await client.ping()
                await client.shutdown()
                return
            } catch {
                await client.shutdown()
                if ContinuousClock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func stop() {
        // SIGKILL, not terminate(): the child inherits the test runner's signal mask, in which
        // SIGTERM is blocked, so redis-server would never see it. Nothing to persist anyway.
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
        self.process.waitUntilExit()
    }
}

/// Runs `body` with a client and shuts the client down afterwards, even on failure.
@discardableResult
func withClient<T>(
    _ configuration: RedisClientConfiguration,
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: configuration, logger: TestRedis.logger)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Asserts that `body` throws a `RedisError` with `code`, and returns it.
@discardableResult
func expectRedisError(
    _ code: RedisError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected RedisError.\(code), got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RedisError.\(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
