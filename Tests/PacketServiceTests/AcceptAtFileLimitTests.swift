import Foundation
import MMOProtocol
import MMOTestSupport
import NIOCore
import NIOPosix
import Testing

/// Issue 7: at the process's open-file limit `accept` fails with EMFILE while the client waits in
/// the backlog; the gateway used to retry at once, forever (a core at 100 %, new clients hanging).
/// Runs the real `mmo serve` under `ulimit -n 64` with no descriptor reserve, so 150 clients run
/// it out of descriptors.
@Suite(.timeLimit(.minutes(1))) struct AcceptAtFileLimitTests {
    /// `mmo`, built next to the test bundle (`swift build --build-tests` builds it).
    static let mmoBinary: String? = {
        var url = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = url.appendingPathComponent("mmo").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url = url.deletingLastPathComponent()
        }
        return nil
    }()

    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        return channel.localAddress!.port!
    }

    /// CPU time (user + system) of process `pid` so far, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }

    /// True if the gateway accepts a connection and answers it: PING before HELLO gets
    /// DISCONNECT(ILLEGAL_STATE).
    static func served(port: Int) async -> Bool {
        (try? await withRawClient(port: port) { client in
            try await client.send(.ping(nonce: 7))
            guard case .disconnect(.illegalState, _) = try await client.receive() else { return false }
            return true
        }) ?? false
    }

    @Test(.enabled(if: mmoBinary != nil && FileManager.default.fileExists(atPath: "/proc/self/stat"), "needs the mmo executable and /proc"))
    func acceptPausesAtTheOpenFileLimitAndRecovers() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fdlimit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try await Self.freePort()
        let admin = try await Self.freePort()
        let log = dir.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // Every listener on a free port: `mmo serve` also serves gRPC on TCP, and a default gRPC
        // port taken by another test's process would end this server mid-test.
        var grpcPorts = ""
        for service in ["database", "auth", "character", "world"] {
            grpcPorts += " --\(service)-grpc-port \(try await Self.freePort())"
        }
        process.arguments = [
            "-c",
            "ulimit -n 64 && exec \"$0\" serve --packet-port \(port) --admin-port \(admin)\(grpcPorts) --packet-file-descriptor-reserve 0",
            Self.mmoBinary!,
        ]
        process.currentDirectoryURL = dir
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await eventually(timeout: .seconds(20)) { await Self.served(port: port) }

        // Far more clients than descriptors: the rest wait in the backlog while accept fails.
        var held: [any Channel] = []
        for _ in 0..<150 {
            held.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get())
        }
        try await Task.sleep(for: .seconds(1))
        let before = try Self.cpuTicks(process.processIdentifier)
        try await Task.sleep(for: .seconds(2))
        let used = Double(try Self.cpuTicks(process.processIdentifier) - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let logText = try String(contentsOf: log, encoding: .utf8)
        #expect(logText.contains("accept failed"), "the gateway never ran out of descriptors: this test proves nothing")
        #expect(used < 0.5, "\(used) s of CPU in 2 s at the open-file limit: the accept loop spins")

        for channel in held { try? await channel.close() }
        try await eventually(timeout: .seconds(10)) { await Self.served(port: port) }
    }
}
