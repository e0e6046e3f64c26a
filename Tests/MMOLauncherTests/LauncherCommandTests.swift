import Foundation
import Testing

@testable import MMOLauncher

/// The logic behind the `launcher` subcommands: options over the configuration file, where the
/// launch request comes from, `update`, `register` and `make-manifest`.
@Suite("Launcher commands")
struct LauncherCommandTests {
    @Test("options override launcher.json next to the executable; relative paths use the current folder")
    func optionsOverFile() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/bin/launcher.json", #"{"installDirectory": "game", "manifestURL": "https://a/m.json", "retries": 5}"#)
            let fileOnly = try LauncherOptions().configuration(launcherDirectory: dir + "/bin", currentDirectory: "/cwd", environment: [:])
            #expect(fileOnly == LauncherConfiguration(installDirectory: dir + "/bin/game", manifestURL: "https://a/m.json", retries: 5))

            let options = LauncherOptions(
                scheme: "mygame", installDirectory: "here", manifestURL: "https://b/m.json", verify: "full", allowInsecureHTTP: true,
                parallel: 2, retries: 0)
            let merged = try options.configuration(launcherDirectory: dir + "/bin", currentDirectory: "/cwd", environment: [:])
            #expect(merged == LauncherConfiguration(
                installDirectory: "/cwd/here", manifestURL: "https://b/m.json", scheme: "mygame", verify: .full, allowInsecureHTTP: true,
                parallelDownloads: 2, retries: 0))
            // No file anywhere: just the options.
            #expect(try LauncherOptions(retries: 1).configuration(launcherDirectory: dir, currentDirectory: "/", environment: [:])
                == LauncherConfiguration(retries: 1))
        }
    }

    @Test("an explicit --config must exist, relative to the current folder, and replaces the file next to the executable")
    func explicitConfig() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/bin/launcher.json", #"{"retries": 5}"#)
            try writeFile(dir + "/etc/mine.json", #"{"installDirectory": "~/g"}"#)
            let options = LauncherOptions(configPath: "etc/mine.json")
            #expect(options.absoluteConfigPath(currentDirectory: dir) == dir + "/etc/mine.json")
            #expect(LauncherOptions(configPath: "/abs.json").absoluteConfigPath(currentDirectory: dir) == "/abs.json")
            #expect(LauncherOptions().absoluteConfigPath(currentDirectory: dir) == nil)
            let configuration = try options.configuration(launcherDirectory: dir + "/bin", currentDirectory: dir, environment: ["HOME": "/h"])
            #expect(configuration == LauncherConfiguration(installDirectory: "/h/g"))
            #expect(throws: LauncherConfigurationError.self) {
                try LauncherOptions(configPath: "none.json").configuration(launcherDirectory: nil, currentDirectory: dir, environment: [:])
            }
        }
    }

    @Test("out-of-range options are refused with messages naming the option")
    func badOptions() {
        func refusal(_ options: LauncherOptions) -> String? {
            do {
                _ = try options.configuration(launcherDirectory: nil, currentDirectory: "/", environment: [:])
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refusal(LauncherOptions(verify: "sometimes")) == "--verify must be cached or full")
        #expect(refusal(LauncherOptions(parallel: 0)) == "--parallel must be from 1 to 16")
        #expect(refusal(LauncherOptions(parallel: 17)) == "--parallel must be from 1 to 16")
        #expect(refusal(LauncherOptions(retries: -1)) == "--retries must be from 0 to 10")
        #expect(refusal(LauncherOptions(retries: 11)) == "--retries must be from 0 to 10")
        // The merged result is validated too.
        #expect(refusal(LauncherOptions(scheme: "my game")) != nil)
        #expect(refusal(LauncherOptions(parallel: 16, retries: 10)) == nil)
    }

    @Test("a launch URL gives the request and the token spellings to hide from argv")
    func requestFromURL() throws {
        let (request, secrets) = try LaunchRequest.fromCommandLine(
            url: "mmo://play?server=127.0.0.1:7777&token=\(rawToken)", server: nil, token: nil, scheme: "mmo", environment: [:])
        #expect(request.server.description == "127.0.0.1:7777")
        #expect(request.credential.value == rawToken)
        #expect(secrets == [rawToken, rawToken])

        // The signed cookie form, percent-encoded in the URL: both the typed and the decoded
        // spelling are hidden.
        let plain = "\(rawToken).\(signature)"
        let typed = plain.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
        let (encoded, encodedSecrets) = try LaunchRequest.fromCommandLine(
            url: "mmo://play?token=\(typed)&server=h.example.com:1", server: nil, token: nil, scheme: "mmo", environment: [:])
        #expect(typed != plain)
        #expect(encoded.credential.value == plain)
        #expect(encodedSecrets == [typed, plain])

        #expect(throws: LaunchRequestError.wrongScheme(expected: "mygame")) {
            try LaunchRequest.fromCommandLine(url: "mmo://play?server=h:1&token=\(rawToken)", server: nil, token: nil, scheme: "mygame", environment: [:])
        }
    }

    @Test("--server takes the token from --token or the environment, never mixed with a URL")
    func requestFromOptions() throws {
        let (request, secrets) = try LaunchRequest.fromCommandLine(
            url: nil, server: "play.example.com:7777", token: nil, scheme: "mmo", environment: [ClientLauncher.tokenVariable: rawToken])
        #expect(request.server.host == "play.example.com")
        #expect(request.credential.value == rawToken)
        #expect(secrets == [rawToken, rawToken])
        let (explicit, _) = try LaunchRequest.fromCommandLine(
            url: nil, server: "h.example.com:1", token: String(rawToken.reversed()), scheme: "mmo", environment: [ClientLauncher.tokenVariable: rawToken])
        #expect(explicit.credential.value == String(rawToken.reversed()))

        #expect(throws: LaunchRequestError.conflictingSources) {
            try LaunchRequest.fromCommandLine(url: "mmo://play?server=h:1&token=\(rawToken)", server: "h:1", token: nil, scheme: "mmo", environment: [:])
        }
        #expect(throws: LaunchRequestError.conflictingSources) {
            try LaunchRequest.fromCommandLine(url: "mmo://play?server=h:1&token=\(rawToken)", server: nil, token: rawToken, scheme: "mmo", environment: [:])
        }
        #expect(throws: LaunchRequestError.noLaunchRequest) {
            try LaunchRequest.fromCommandLine(url: nil, server: "h:1", token: nil, scheme: "mmo", environment: [:])
        }
        #expect(throws: LaunchRequestError.noLaunchRequest) {
            try LaunchRequest.fromCommandLine(url: nil, server: nil, token: rawToken, scheme: "mmo", environment: [:])
        }
    }

    @Test("update needs a manifest URL and an install folder")
    func updatePreconditions() async throws {
        await #expect(throws: LauncherConfigurationError("no manifest URL: set manifestURL or --manifest-url")) {
            try await Launcher.update(configuration: LauncherConfiguration(installDirectory: "/x"), environment: [:], output: .silent, logger: quietLogger)
        }
        await #expect(throws: LauncherConfigurationError("no install directory: set installDirectory or --install-dir")) {
            try await Launcher.update(
                configuration: LauncherConfiguration(manifestURL: "http://127.0.0.1:1/m.json"), environment: [:], output: .silent, logger: quietLogger)
        }
    }

    @Test("update installs the published release and reports it in one line")
    func update() async throws {
        let server = try await TestPatchServer.start()
        do {
            let game = testBytes(3000, seed: 9)
            server.put("/v1/bin/game", game)
            server.put("/v1/manifest.json", Array(try Manifest(version: "v1", files: [entry("bin/game", game, executable: true)]).encoded()))
            try await withTemporaryDirectory { dir in
                let configuration = LauncherConfiguration(installDirectory: dir + "/install", manifestURL: "\(server.baseURL)/v1/manifest.json")
                let report = try await Launcher.update(configuration: configuration, environment: [:], output: .silent, logger: quietLogger)
                #expect(report.summary == "v1: 1 file(s) updated, 0 removed, 3000 bytes downloaded")
                #expect(readBytes(dir + "/install/bin/game") == game)
                // Up to date: nothing more to fetch.
                let again = try await Launcher.update(configuration: configuration, environment: [:], output: .silent, logger: quietLogger)
                #expect(again.summary == "v1: 0 file(s) updated, 0 removed, 0 bytes downloaded")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("registration uses the configured scheme and puts an explicit --config into the desktop command")
    func registration() throws {
        let environment = ["HOME": "/home/p"]
        let plain = try Launcher.registration(
            configuration: LauncherConfiguration(), launcherPath: "/opt/mmo/launcher", configPath: nil, environment: environment,
            runDesktopTools: false)
        #expect(plain.scheme == "mmo")
        #expect(plain.extraArguments == [])
        #expect(plain.desktopFilePath == "/home/p/.local/share/applications/mmo-launcher.desktop")
        #expect(plain.toolSearchPath == nil)

        let custom = try Launcher.registration(
            configuration: LauncherConfiguration(scheme: "MyGame"), launcherPath: "/opt/mmo/launcher", configPath: "/etc/mmo.json",
            environment: environment, runDesktopTools: true)
        #expect(custom.scheme == "mygame")
        #expect(custom.extraArguments == ["--config", "/etc/mmo.json"])
        #expect(custom.toolSearchPath != nil)

        #expect(throws: RegistrationError.io("cannot find the launcher's own path")) {
            try Launcher.registration(configuration: LauncherConfiguration(), launcherPath: nil, configPath: nil, environment: environment, runDesktopTools: false)
        }
    }

    @Test("make-manifest writes the file atomically outside the listing, or returns it for stdout")
    func makeManifest() async throws {
        try await withTemporaryDirectory { dir in
            try writeFile(dir + "/game/bin/play", "#!/bin/sh\n", executable: true)
            try writeFile(dir + "/game/data/world.dat", testBytes(100, seed: 1))

            let (printed, data) = try ManifestBuilder.make(directory: dir + "/game", version: nil, baseURL: nil, outputPath: nil)
            #expect(printed.files.map(\.path) == ["bin/play", "data/world.dat"])
            #expect(printed.version.hasPrefix("sha256-"))
            #expect(data == (try printed.encoded()))
            #expect(listTree(dir + "/game") == ["bin", "bin/play", "data", "data/world.dat"])

            // Written inside the folder it describes: the manifest must not list itself.
            let output = dir + "/game/out/manifest.json"
            let (written, _) = try ManifestBuilder.make(
                directory: dir + "/game", version: "2", baseURL: "https://cdn.example.com/v2/", outputPath: output)
            #expect(written.version == "2")
            #expect(written.baseURL == "https://cdn.example.com/v2/")
            #expect(written.files.map(\.path) == ["bin/play", "data/world.dat"])
            #expect(readBytes(output).map { Data($0) } == (try written.encoded()))
            #expect(ManifestBuilder.writtenLine(written, path: output) == "wrote \(output): version 2, 2 files, \(written.totalSize) bytes")
        }
    }
}
