import Foundation
import Synchronization
import Testing

@testable import MMOLauncher

@Suite("Configuration")
struct ConfigurationTests {
    private func parse(_ json: String) throws -> LauncherConfiguration {
        try LauncherConfiguration.parse(Data(json.utf8), baseDirectory: "/etc/mmo", home: "/home/p")
    }

    @Test("every key is read; relative and ~ paths are resolved")
    func keys() throws {
        let configuration = try parse("""
            {"installDirectory": "game", "manifestURL": "https://patch.example.com/m.json", "clientCommand": ["bin/game", "-x"],
             "scheme": "mygame", "wait": true, "verify": "full", "allowedServerHosts": ["*.example.com"],
             "allowInsecureHTTP": false, "parallelDownloads": 8, "retries": 0}
            """)
        #expect(configuration == LauncherConfiguration(
            installDirectory: "/etc/mmo/game", manifestURL: "https://patch.example.com/m.json", clientCommand: ["bin/game", "-x"],
            scheme: "mygame", wait: true, verify: .full, allowedServerHosts: ["*.example.com"], allowInsecureHTTP: false,
            parallelDownloads: 8, retries: 0))
        #expect(try parse(#"{"installDirectory": "~/Games/mmo"}"#).installDirectory == "/home/p/Games/mmo")
        #expect(try parse(#"{"installDirectory": "/abs"}"#).installDirectory == "/abs")
        #expect(try parse("{}") == LauncherConfiguration())
    }

    @Test(
        "unknown keys, wrong types and bad values are refused",
        arguments: [
            #"{"instalDirectory": "x"}"#, #"{"wait": "yes"}"#, #"{"wait": 1}"#, #"{"clientCommand": "game"}"#, #"{"clientCommand": []}"#,
            #"{"clientCommand": ["game", "{token}"]}"#, #"{"scheme": "my game"}"#, #"{"verify": "sometimes"}"#,
            #"{"parallelDownloads": 0}"#, #"{"retries": 11}"#, #"{"allowedServerHosts": ["bad host"]}"#, "[]", "nonsense",
            #"{"manifestURL": ""}"#,
        ])
    func refusals(json: String) {
        #expect(throws: LauncherConfigurationError.self) { try parse(json) }
    }

    @Test("options override the file, unset options do not")
    func precedence() {
        let file = LauncherConfiguration(installDirectory: "/file", manifestURL: "https://a/m.json", wait: true)
        let merged = file.overridden(by: LauncherConfiguration(manifestURL: "https://b/m.json", wait: false))
        #expect(merged.installDirectory == "/file")
        #expect(merged.manifestURL == "https://b/m.json")
        #expect(merged.wait == false)
    }

    @Test("allowedServerHosts matches exact names and *.suffix subdomains only")
    func hostPatterns() {
        let configuration = LauncherConfiguration(allowedServerHosts: ["play.example.com", "*.eu.example.com"])
        #expect(configuration.allows(host: "play.example.com"))
        #expect(configuration.allows(host: "PLAY.example.com"))
        #expect(configuration.allows(host: "a.eu.example.com"))
        #expect(!configuration.allows(host: "eu.example.com"))
        #expect(!configuration.allows(host: "evil-eu.example.com"))
        #expect(!configuration.allows(host: "play.example.com.evil.net"))
        #expect(LauncherConfiguration().allows(host: "anything.example"))
    }

    @Test("a missing optional file is empty; a missing --config file is an error")
    func loading() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try LauncherConfiguration.load(path: dir + "/none.json", required: false, home: nil) == LauncherConfiguration())
            #expect(throws: LauncherConfigurationError.self) { try LauncherConfiguration.load(path: dir + "/none.json", required: true, home: nil) }
            try writeFile(dir + "/launcher.json", #"{"installDirectory": "g"}"#)
            #expect(try LauncherConfiguration.load(path: dir + "/launcher.json", required: true, home: nil).installDirectory == dir + "/g")
        }
    }

    @Test("the default install folder follows XDG_DATA_HOME")
    func defaultInstall() {
        #expect(LauncherConfiguration.defaultInstallDirectory(scheme: "mmo", environment: ["HOME": "/h"]) == "/h/.local/share/mmo/game")
        #expect(LauncherConfiguration.defaultInstallDirectory(scheme: "mmo", environment: ["HOME": "/h", "XDG_DATA_HOME": "/d"]) == "/d/mmo/game")
        #expect(LauncherConfiguration.defaultInstallDirectory(scheme: "mmo", environment: [:]) == nil)
    }

    @Test("every failure kind has its own exit code")
    func exitCodes() {
        let errors: [any Error] = [
            LaunchRequestError.invalidPort, LauncherConfigurationError("x"), ManifestError.noFiles, ClientLaunchError.emptyCommand,
            RegistrationError.noHome, InstallError.locked("/x"), InstallError.damaged(["a"]), PatchError.server("u", reason: "r"),
            PatchError.integrity("a"), InstallError.unsafePath("a", reason: "b"),
        ]
        let codes = errors.map { LauncherExitCode.forError($0) }
        #expect(codes == [
            .invalidLaunchRequest, .configurationInvalid, .manifestRejected, .clientStartFailed, .registrationFailed, .installBusy,
            .integrityFailure, .patchServerUnavailable, .integrityFailure, .installFailed,
        ])
        let raw = LauncherExitCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
    }
}

@Suite("Progress display")
struct ProgressTests {
    @Test("bytes, durations and lines are formatted for people")
    func formatting() {
        #expect(TransferProgress.formatBytes(512) == "512 B")
        #expect(TransferProgress.formatBytes(1536) == "1.5 KiB")
        #expect(TransferProgress.formatBytes(12_900_000) == "12.3 MiB")
        #expect(TransferProgress.formatBytes(5 << 30) == "5.0 GiB")
        #expect(TransferProgress.formatDuration(5) == "0:05")
        #expect(TransferProgress.formatDuration(65.2) == "1:06")
        #expect(TransferProgress.formatDuration(3725) == "1:02:05")
        #expect(TransferProgress.formatDuration(.infinity) == "--:--")
        #expect(TransferProgress.formatLine(done: 50 << 20, total: 100 << 20, bytesPerSecond: Double(10 << 20), bar: false)
            == "download:  50%  50.0 MiB / 100.0 MiB  10.0 MiB/s  ETA 0:05")
        let bar = TransferProgress.formatLine(done: 25, total: 100, bytesPerSecond: nil, width: 200, bar: true)
        #expect(bar.hasPrefix("[##########------------------------------] "))
        #expect(bar.hasSuffix("-- B/s  ETA --:--"))
    }

    @Test("a log gets whole lines; a terminal gets a line redrawn in place")
    func outputModes() {
        let lines = Mutex<[String]>([])
        let plain = TransferProgress(total: 100, alreadyDone: 40, output: ProgressOutput(isInteractive: false) { text in lines.withLock { $0.append(text) } })
        plain.add(10)
        plain.add(50)
        plain.finish()
        let written = lines.withLock { $0 }
        #expect(written.first?.hasPrefix("download:  50%") == true, "the first add draws, counting resumed bytes")
        #expect(written.last?.hasPrefix("download: 100%") == true)
        #expect(written.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        #expect(plain.done == 100)

        let screen = Mutex<[String]>([])
        let tty = TransferProgress(total: 10, output: ProgressOutput(isInteractive: true) { text in screen.withLock { $0.append(text) } })
        tty.add(10)
        tty.finish()
        #expect(screen.withLock { $0 }.allSatisfy { $0.hasPrefix("\r") })
        #expect(screen.withLock { $0 }.last?.hasSuffix("\n") == true)
    }
}

@Suite("make-manifest")
struct ManifestBuilderTests {
    @Test("describes every file, sorted, with the executable bit, skipping the launcher's own files, the same every time")
    func build() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/bin/game", testBytes(1000, seed: 1), executable: true)
            try writeFile(dir + "/data/b.pak", "b")
            try writeFile(dir + "/data/a.pak", "a")
            try writeFile(dir + "/Z.txt", "z")
            try writeFile(dir + "/.staging/1/parts/x.part", "partial")
            try writeFile(dir + "/" + ManifestPath.stateFile, "{}")
            try writeFile(dir + "/" + ManifestPath.lockFile, "")
            try writeFile(dir + "/manifest.json", "old output")
            let manifest = try ManifestBuilder.build(directory: dir, version: "1.2.3", excluding: [dir + "/manifest.json"])
            #expect(manifest.version == "1.2.3")
            #expect(manifest.files.map(\.path) == ["Z.txt", "bin/game", "data/a.pak", "data/b.pak"])
            #expect(manifest.files.map(\.executable) == [false, true, false, false])
            #expect(manifest.files[2] == entry("data/a.pak", Array("a".utf8)))
            let again = try ManifestBuilder.build(directory: dir, version: "1.2.3", excluding: [dir + "/manifest.json"])
            #expect(try again.encoded() == manifest.encoded())
        }
    }

    @Test("the default version is derived from the content and changes with it")
    func derivedVersion() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/a", "one")
            let first = try ManifestBuilder.build(directory: dir).version
            #expect(first.hasPrefix("sha256-") && first.count == 7 + 16)
            #expect(try ManifestBuilder.build(directory: dir).version == first)
            try writeFile(dir + "/a", "two")
            #expect(try ManifestBuilder.build(directory: dir).version != first)
        }
    }

    @Test("symbolic links and names a manifest cannot carry are errors, not silently skipped")
    func refusals() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/a", "a")
            try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/a")
            #expect(throws: ManifestBuilder.BuildError.self) { try ManifestBuilder.build(directory: dir) }
            try FileManager.default.removeItem(atPath: dir + "/link")
            try writeFile(dir + "/back\\slash", "x")
            #expect(throws: ManifestBuilder.BuildError.self) { try ManifestBuilder.build(directory: dir) }
        }
    }

    @Test("a manifest made by make-manifest installs that folder exactly")
    func roundTrip() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/src/bin/game", testBytes(4000, seed: 3), executable: true)
            try writeFile(dir + "/src/readme", "hi")
            let manifest = try ManifestBuilder.build(directory: dir + "/src", version: "9")
            let server = try await TestPatchServer.start()
            let client = Patcher.makeHTTPClient()
            server.put("/9/manifest.json", Array(try manifest.encoded()))
            server.put("/9/bin/game", readBytes(dir + "/src/bin/game")!)
            server.put("/9/readme", "hi")
            let layout = try InstallLayout(creating: dir + "/install")
            let result = await Result(catching: {
                try await Patcher(
                    layout: layout, options: PatchOptions(manifestURL: "\(server.baseURL)/9/manifest.json"), client: client, output: .silent,
                    logger: quietLogger
                ).update()
            })
            try await client.shutdown()
            await server.stop()
            _ = try result.get()
            #expect(readBytes(dir + "/install/bin/game") == readBytes(dir + "/src/bin/game"))
            #expect(try FS.info(dir + "/install/bin/game")?.isExecutable == true)
            #expect(try ManifestBuilder.build(directory: dir + "/install", version: "9") == manifest, "the installed folder describes itself the same")
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
