import Foundation
import Testing

@testable import MMOLauncher

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fake game client: a shell script (the launcher itself never uses a shell; it executes
/// /bin/sh as the program) that records what it was given into $OUT.
private let fakeClientScript = """
    tr '\\0' ' ' < /proc/$$/cmdline > "$OUT/cmdline"
    printf %s "$MMO_SERVER" > "$OUT/server"
    printf %s "$MMO_SESSION_TOKEN" > "$OUT/token"
    pwd > "$OUT/cwd"
    ls /proc/self/fd > "$OUT/fds"
    exit 7
    """

private let signedToken = "\(rawToken).\(signature)"

@Suite("Starting the client")
struct ClientLaunchTests {
    private func request(token: String = signedToken) throws -> LaunchRequest {
        try LaunchRequest(server: "[::1]:7777", token: token)
    }

    @Test("the client gets server and token in its environment, the token never in its argv, and --wait returns its exit code")
    func environmentNotArguments() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/install", withIntermediateDirectories: true)
            let configuration = LauncherConfiguration(
                installDirectory: dir + "/install", clientCommand: ["/bin/sh", "-c", fakeClientScript, "fake-client", "--server", "{server}"],
                wait: true)
            let settings = PlaySettings(
                request: try request(), configuration: configuration, launcherDirectory: nil,
                environment: ["PATH": "/usr/bin:/bin", "OUT": dir, "HOME": dir])
            let code = try await Launcher.play(settings, output: .silent, logger: quietLogger)
            #expect(code == 7)
            let cmdline = try #require(readText(dir + "/cmdline"))
            #expect(cmdline.contains("fake-client --server [::1]:7777"))
            #expect(!cmdline.contains(rawToken))
            #expect(readText(dir + "/server") == "[::1]:7777")
            #expect(readText(dir + "/token") == signedToken)
            #expect(readText(dir + "/cwd") == dir + "/install\n", "the client runs in the install folder")
            // Only stdin, stdout, stderr (and ls's own descriptor for the listing) reach the client.
            let fds = try #require(readText(dir + "/fds")).split(separator: "\n").compactMap { Int($0) }
            #expect(fds.filter { $0 > 3 }.isEmpty, "descriptors leaked into the client: \(fds)")
        }
    }

    @Test("without --wait the launcher returns at once and the client runs on")
    func noWait() async throws {
        try await withTemporaryDirectory { dir in
            let configuration = LauncherConfiguration(
                installDirectory: dir, clientCommand: ["/bin/sh", "-c", "sleep 2; printf %s \"$MMO_SERVER\" > \"$OUT/server\""], wait: false)
            let started = ContinuousClock.now
            let code = try await Launcher.play(
                PlaySettings(request: try request(), configuration: configuration, launcherDirectory: nil, environment: ["OUT": dir]),
                output: .silent, logger: quietLogger)
            #expect(code == 0)
            #expect(ContinuousClock.now - started < .milliseconds(1500), "returned before the client finished")
            #expect(readText(dir + "/server") == nil)
            for _ in 0..<400 where readText(dir + "/server") == nil { try await Task.sleep(for: .milliseconds(20)) }
            #expect(readText(dir + "/server") == "[::1]:7777")
        }
    }

    @Test("a client killed by a signal is reported as 128 + the signal")
    func signalExit() async throws {
        let command = try ClientLauncher.resolve(
            command: ["/bin/sh", "-c", "kill -TERM $$"], request: try request(), installDirectory: nil, launcherDirectory: nil, environment: [:])
        let pid = try ClientLauncher.spawn(command)
        #expect(await ClientLauncher.wait(for: pid) == 128 + SIGTERM)
    }

    @Test("a bare program name is found in the install folder, then next to the launcher, then on PATH")
    func resolution() async throws {
        try await withTemporaryDirectory { dir in
            for folder in ["install", "launcher-dir", "path-dir"] {
                try writeFile("\(dir)/\(folder)/game", "#!/bin/sh\n", executable: true)
            }
            let request = try request()
            func resolve(_ install: String?, _ launcher: String?) throws -> String {
                try ClientLauncher.resolve(
                    command: ["game"], request: request, installDirectory: install, launcherDirectory: launcher,
                    environment: ["PATH": "relative:\(dir)/path-dir"]
                ).executable
            }
            #expect(try resolve(dir + "/install", dir + "/launcher-dir") == dir + "/install/game")
            #expect(try resolve(dir + "/nowhere", dir + "/launcher-dir") == dir + "/launcher-dir/game")
            #expect(try resolve(nil, nil) == dir + "/path-dir/game")
            // A path with a slash is relative to the install folder (the patched game).
            try writeFile(dir + "/install/bin/game", "#!/bin/sh\n", executable: true)
            let nested = try ClientLauncher.resolve(
                command: ["bin/game"], request: request, installDirectory: dir + "/install", launcherDirectory: nil, environment: [:])
            #expect(nested.executable == dir + "/install/bin/game")
            #expect(throws: ClientLaunchError.notFound("bin/game")) {
                try ClientLauncher.resolve(command: ["bin/game"], request: request, installDirectory: nil, launcherDirectory: nil, environment: [:])
            }
            #expect(throws: ClientLaunchError.notFound("nonexistent-game")) {
                try ClientLauncher.resolve(command: ["nonexistent-game"], request: request, installDirectory: nil, launcherDirectory: nil, environment: ["PATH": "/bin"])
            }
            // Not executable: refused.
            try writeFile(dir + "/install/data.pak", "x", executable: false)
            #expect(throws: ClientLaunchError.self) {
                try ClientLauncher.resolve(command: [dir + "/install/data.pak"], request: request, installDirectory: nil, launcherDirectory: nil, environment: [:])
            }
        }
    }

    @Test("{token} in the client command is refused, by the configuration and by the launcher")
    func tokenPlaceholderRefused() throws {
        #expect(throws: ClientLaunchError.tokenInArguments) {
            try ClientLauncher.resolve(command: ["/bin/true", "--token={token}"], request: try request(), installDirectory: nil, launcherDirectory: nil, environment: [:])
        }
        #expect(throws: LauncherConfigurationError.self) { try LauncherConfiguration(clientCommand: ["/bin/true", "{token}"]).validate() }
    }

    @Test("a launch URL pointing at a server outside allowedServerHosts is refused before anything runs")
    func allowedHosts() async throws {
        try await withTemporaryDirectory { dir in
            let configuration = LauncherConfiguration(
                installDirectory: dir, clientCommand: ["/bin/sh", "-c", "touch \"$OUT/ran\""], wait: true, allowedServerHosts: ["*.example.com"])
            let settings = PlaySettings(
                request: try LaunchRequest(server: "evil.example.net:7777", token: rawToken), configuration: configuration,
                launcherDirectory: nil, environment: ["OUT": dir])
            await #expect(throws: LaunchRequestError.serverNotAllowed("evil.example.net")) {
                try await Launcher.play(settings, output: .silent, logger: quietLogger)
            }
            #expect(!fileExists(dir + "/ran"))
        }
    }

    @Test("with patching off, a damaged install the launcher knows about is not started")
    func damagedInstallNotStarted() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/game.dat", "tampered")
            try InstallState(version: "1", files: ["game.dat": .init(size: 8, sha256: sha256Hex("original"), executable: false)])
                .save(to: dir + "/" + ManifestPath.stateFile)
            let configuration = LauncherConfiguration(installDirectory: dir, clientCommand: ["/bin/sh", "-c", "touch \"$OUT/ran\""], wait: true)
            let settings = PlaySettings(
                request: try request(), configuration: configuration, launcherDirectory: nil, environment: ["OUT": dir])
            await #expect(throws: InstallError.damaged(["game.dat"])) { try await Launcher.play(settings, output: .silent, logger: quietLogger) }
            #expect(!fileExists(dir + "/ran"))
        }
    }

    @Test("the token is overwritten in a command line buffer, wherever and however often it appears")
    func scrubber() {
        let text = "mmo://play?server=a.b:1&token=\(rawToken)&x=\(rawToken)"
        let pointer = strdup(text)!
        defer { free(pointer) }
        #expect(ArgumentScrubber.scrub(pointer, secrets: [rawToken]))
        let scrubbed = String(cString: pointer)
        #expect(scrubbed == "mmo://play?server=a.b:1&token=\(String(repeating: "*", count: 32))&x=\(String(repeating: "*", count: 32))")
        #expect(!ArgumentScrubber.scrub(pointer, secrets: [rawToken]), "nothing left to hide")
    }

    @Test("wait statuses decode like a shell's $?")
    func waitStatus() {
        #expect(ClientLauncher.exitCode(fromWaitStatus: 0) == 0)
        #expect(ClientLauncher.exitCode(fromWaitStatus: 3 << 8) == 3)
        #expect(ClientLauncher.exitCode(fromWaitStatus: 9) == 137)
    }

    /// The built `launcher` executable next to the test bundle, if this build has it.
    static let launcherBinary: String? = {
        var url = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = url.appendingPathComponent("launcher").path
            if FS.isExecutableFile(candidate) { return candidate }
            url = url.deletingLastPathComponent()
        }
        return nil
    }()

    @Test(
        "end to end: the launcher executable hides the token in its own /proc/PID/cmdline and exits with the client's code",
        .enabled(if: ClientLaunchTests.launcherBinary != nil, "needs the launcher executable built next to the tests"))
    func launcherExecutable() async throws {
        try await withTemporaryDirectory { dir in
            // The fake client reads its parent's (the launcher's) command line.
            let script = "tr '\\0' ' ' < /proc/$PPID/cmdline > \"$OUT/parent\"; printf %s \"$MMO_SESSION_TOKEN\" > \"$OUT/token\"; exit 5"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.launcherBinary!)
            process.arguments = [
                "mmo://play?server=127.0.0.1:7777&token=\(rawToken)", "--install-dir", dir + "/install", "--wait", "--client", "/bin/sh",
                "--client-arg", "-c", "--client-arg", script, "--config", dir + "/empty.json",
            ]
            try writeFile(dir + "/empty.json", "{}")
            process.environment = ["OUT": dir, "PATH": "/usr/bin:/bin", "HOME": dir]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 5)
            let parent = try #require(readText(dir + "/parent"))
            #expect(parent.contains("mmo://play?server=127.0.0.1:7777&token=****"))
            #expect(!parent.contains(rawToken))
            #expect(readText(dir + "/token") == rawToken)

            // A bad URL: the distinct exit code, and the client never starts.
            let bad = Process()
            bad.executableURL = URL(fileURLWithPath: Self.launcherBinary!)
            bad.arguments = ["mmo://play?server=127.0.0.1:0&token=\(rawToken)", "--install-dir", dir + "/install", "--config", dir + "/empty.json"]
            bad.standardError = FileHandle.nullDevice
            try bad.run()
            bad.waitUntilExit()
            #expect(bad.terminationStatus == LauncherExitCode.invalidLaunchRequest.rawValue)
        }
    }
}
