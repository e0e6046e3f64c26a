import ArgumentParser
import Foundation
import Logging
import MMOLauncher

/// `launcher`: the player-side launcher. `launcher URL` (what the desktop runs for a
/// `mmo://` link) is `launcher play URL`.
@main
struct LauncherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launcher",
        abstract: "Update the game and start it with a session from the web site.",
        discussion: """
            The web site's Play button opens a launch URL such as \
            mmo://play?server=play.example.com:7777&token=... ; the desktop runs `launcher URL`. \
            See docs/launcher.md for every option, the configuration file and the exit codes.
            """,
        subcommands: [Play.self, Update.self, Register.self, Unregister.self, MakeManifest.self],
        defaultSubcommand: Play.self)
}

/// Options every command that reads the configuration shares.
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("JSON configuration file (default: launcher.json next to the executable).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("URL scheme of launch URLs (default: mmo).", valueName: "scheme"))
    var scheme: String?

    @Option(name: .customLong("install-dir"), help: ArgumentHelp("Folder the game is installed in.", valueName: "dir"))
    var installDirectory: String?

    @Option(name: .customLong("manifest-url"), help: ArgumentHelp("Patch manifest URL (http or https).", valueName: "url"))
    var manifestURL: String?

    @Option(help: ArgumentHelp("How installed files are checked: cached (rehash changed files) or full (rehash all).", valueName: "mode"))
    var verify: String?

    @Flag(name: .customLong("allow-insecure-http"), help: "Allow a plain-HTTP manifest URL on a non-loopback host.")
    var allowInsecureHTTP = false

    @Option(help: ArgumentHelp("Downloads in flight at once (1-16).", valueName: "n"))
    var parallel: Int?

    @Option(help: ArgumentHelp("Extra attempts per file after a network failure (0-10).", valueName: "n"))
    var retries: Int?

    @Flag(name: .shortAndLong, help: "Only print errors.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print debug details.")
    var verbose = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The folder of the running executable, links resolved.
    var launcherDirectory: String? {
        Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    var launcherPath: String? {
        Bundle.main.executableURL?.resolvingSymlinksInPath().path
    }

    /// The explicit `--config` file as an absolute path.
    var absoluteConfigPath: String? {
        config.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
    }

    /// File (explicit, or next to the executable if present) with the options applied over it.
    func loadConfiguration() throws(ConfigurationError) -> LauncherConfiguration {
        var file = LauncherConfiguration()
        if let path = absoluteConfigPath {
            file = try LauncherConfiguration.load(path: path, required: true, home: environment["HOME"])
        } else if let directory = launcherDirectory {
            file = try LauncherConfiguration.load(
                path: directory + "/" + LauncherConfiguration.fileName, required: false, home: environment["HOME"])
        }
        var options = LauncherConfiguration()
        options.scheme = scheme
        options.installDirectory = installDirectory.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        options.manifestURL = manifestURL
        if let verify {
            guard let mode = PatchPlanner.Verification(rawValue: verify) else {
                throw ConfigurationError("--verify must be cached or full")
            }
            options.verify = mode
        }
        if allowInsecureHTTP { options.allowInsecureHTTP = true }
        if let parallel {
            guard (1...16).contains(parallel) else { throw ConfigurationError("--parallel must be from 1 to 16") }
            options.parallelDownloads = parallel
        }
        if let retries {
            guard (0...10).contains(retries) else { throw ConfigurationError("--retries must be from 0 to 10") }
            options.retries = retries
        }
        let merged = file.overridden(by: options)
        try merged.validate()
        return merged
    }

    func makeLogger() -> Logger {
        let level: Logger.Level = verbose ? .debug : (quiet ? .error : .notice)
        var logger = Logger(label: "launcher") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        return logger
    }

    var output: ProgressOutput { quiet ? .silent : .standardError() }
}

/// Prints the error (never the token: no error type here carries it) and exits with its code.
func fail(_ error: any Error) -> ExitCode {
    let code = LauncherExitCode.forError(error)
    FileHandle.standardError.write(Data("launcher: error: \(error)\n".utf8))
    return ExitCode(code.rawValue)
}

struct Play: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Update the game if needed and start the client (the default command).")

    @Argument(help: ArgumentHelp("Launch URL, e.g. mmo://play?server=HOST:PORT&token=TOKEN.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Game server as HOST:PORT (instead of a launch URL).", valueName: "host:port"))
    var server: String?

    @Option(help: ArgumentHelp(
        "Session token (instead of a launch URL; default: $MMO_SESSION_TOKEN). Visible to other local users while the launcher runs: prefer the environment.",
        valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("Game client program (overrides clientCommand).", valueName: "program"))
    var client: String?

    @Option(
        name: .customLong("client-arg"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Argument for --client (repeatable; may start with '-').", valueName: "arg"))
    var clientArguments: [String] = []

    @Flag(inversion: .prefixedNo, help: "Wait for the client and exit with its exit code.")
    var wait: Bool?

    @Flag(name: .customLong("no-patch"), help: "Do not contact the patch server; check the install and launch.")
    var noPatch = false

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let configuration: LauncherConfiguration
        let request: LaunchRequest
        do {
            var loaded = try common.loadConfiguration()
            if let client { loaded.clientCommand = [client] + clientArguments }
            if let wait { loaded.wait = wait }
            configuration = loaded
            request = try parseRequest(scheme: configuration.scheme ?? LauncherConfiguration.defaultScheme)
        } catch {
            throw fail(error)
        }
        do {
            let code = try await Launcher.play(
                PlaySettings(
                    request: request, configuration: configuration, patch: !noPatch,
                    launcherDirectory: common.launcherDirectory, environment: common.environment),
                output: common.output, logger: common.makeLogger())
            if code != 0 { throw ExitCode(code) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    /// The request from the URL or the options, never a mix of both; then hides the token in
    /// this process's command line.
    private func parseRequest(scheme: String) throws -> LaunchRequest {
        let request: LaunchRequest
        var secrets: [String] = []
        if let url {
            guard server == nil, token == nil else { throw LaunchRequestError.conflictingSources }
            request = try LaunchURLParser(scheme: scheme).parse(url)
            if let range = url.range(of: "token=") {
                secrets.append(String(url[range.upperBound...].prefix(while: { $0 != "&" })))
            }
        } else {
            guard let server, let token = token ?? common.environment[ClientLauncher.tokenVariable] else {
                throw LaunchRequestError.noLaunchRequest
            }
            request = try LaunchRequest(server: server, token: token)
            secrets.append(token)
        }
        secrets.append(request.credential.value)
        ArgumentScrubber.scrub(secrets)
        return request
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring the install up to date without starting the client.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        do {
            let configuration = try common.loadConfiguration()
            guard let manifestURL = configuration.manifestURL else {
                throw ConfigurationError("no manifest URL: set manifestURL or --manifest-url")
            }
            let scheme = configuration.scheme ?? LauncherConfiguration.defaultScheme
            guard
                let path = configuration.installDirectory
                    ?? LauncherConfiguration.defaultInstallDirectory(scheme: scheme, environment: common.environment)
            else { throw ConfigurationError("no install directory: set installDirectory or --install-dir") }
            let layout = try InstallLayout(creating: path)
            let client = Patcher.makeHTTPClient()
            let result: Result<PatchReport, any Error>
            do {
                let options = PatchOptions(
                    manifestURL: manifestURL, verification: configuration.verify ?? .cached,
                    parallelDownloads: configuration.parallelDownloads ?? 4, retries: configuration.retries ?? 3,
                    allowInsecureHTTP: configuration.allowInsecureHTTP ?? false)
                result = .success(
                    try await Patcher(layout: layout, options: options, client: client, output: common.output, logger: common.makeLogger())
                        .update())
            } catch {
                result = .failure(error)
            }
            try? await client.shutdown()
            let report = try result.get()
            if !common.quiet {
                print("\(report.version): \(report.updatedFiles.count) file(s) updated, \(report.removedFiles.count) removed, \(report.downloadedBytes) bytes downloaded")
            }
        } catch {
            throw fail(error)
        }
    }
}

struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make this launcher the handler of launch URLs for the current user (Linux desktops).")

    @Flag(name: .customLong("no-desktop-database"), help: "Do not run update-desktop-database.")
    var noDesktopDatabase = false

    @OptionGroup var common: CommonOptions

    func run() throws {
        do {
            let registration = try makeRegistration(common, runTools: !noDesktopDatabase)
            try registration.register()
            if !common.quiet {
                print("registered \(registration.scheme):// -> \(registration.desktopFilePath)")
            }
        } catch {
            throw fail(error)
        }
    }
}

struct Unregister: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Undo `launcher register`.")

    @Flag(name: .customLong("no-desktop-database"), help: "Do not run update-desktop-database.")
    var noDesktopDatabase = false

    @OptionGroup var common: CommonOptions

    func run() throws {
        do {
            let registration = try makeRegistration(common, runTools: !noDesktopDatabase)
            try registration.unregister()
            if !common.quiet { print("unregistered \(registration.scheme)://") }
        } catch {
            throw fail(error)
        }
    }
}

private func makeRegistration(_ common: CommonOptions, runTools: Bool) throws -> SchemeRegistration {
    let configuration = try common.loadConfiguration()
    guard let launcherPath = common.launcherPath else { throw RegistrationError.io("cannot find the launcher's own path") }
    // A desktop starts the launcher with no options: an explicit --config must be in Exec.
    let extra = common.absoluteConfigPath.map { ["--config", $0] } ?? []
    return try SchemeRegistration(
        scheme: configuration.scheme ?? LauncherConfiguration.defaultScheme, launcherPath: launcherPath, extraArguments: extra,
        environment: common.environment, runDesktopTools: runTools)
}

struct MakeManifest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-manifest", abstract: "Write the patch manifest of a folder (the studio's side).")

    @Argument(help: ArgumentHelp("Folder holding the game files as players should have them.", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("Version string (default: derived from the files' hashes).", valueName: "version"))
    var version: String?

    @Option(name: .customLong("base-url"), help: ArgumentHelp("baseURL to put in the manifest (default: none, files next to the manifest).", valueName: "url"))
    var baseURL: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the manifest here instead of stdout.", valueName: "file"))
    var output: String?

    func run() throws {
        do {
            let outputPath = output.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            let manifest = try ManifestBuilder.build(
                directory: directory, version: version, baseURL: baseURL, excluding: Set([outputPath, outputPath.map { $0 + ".tmp" }].compactMap { $0 }))
            let data = try manifest.encoded()
            if let outputPath {
                try FileManager.default.createDirectory(
                    atPath: (outputPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: outputPath), options: .atomic)
                FileHandle.standardError.write(
                    Data("wrote \(outputPath): version \(manifest.version), \(manifest.files.count) files, \(manifest.totalSize) bytes\n".utf8))
            } else {
                FileHandle.standardOutput.write(data)
            }
        } catch let error as ManifestBuilder.BuildError {
            throw fail(error)
        } catch {
            throw fail(error)
        }
    }
}
