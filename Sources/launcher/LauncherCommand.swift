import ArgumentParser
import Foundation
import Logging
import MMOLauncher

/// `launcher`: the player-side launcher. `launcher URL` (what the desktop runs for a
/// `mmo://` link) is `launcher play URL`. The logic lives in MMOLauncher; this executable
/// parses flags, calls it, and turns errors into the documented exit codes.
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

    var currentDirectory: String { FileManager.default.currentDirectoryPath }

    /// The running executable, links resolved.
    var launcherPath: String? { Bundle.main.executableURL?.resolvingSymlinksInPath().path }

    var launcherDirectory: String? {
        Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    var options: LauncherOptions {
        LauncherOptions(
            configPath: config, scheme: scheme, installDirectory: installDirectory, manifestURL: manifestURL, verify: verify,
            allowInsecureHTTP: allowInsecureHTTP, parallel: parallel, retries: retries)
    }

    func loadConfiguration() throws(LauncherConfigurationError) -> LauncherConfiguration {
        try options.configuration(launcherDirectory: launcherDirectory, currentDirectory: currentDirectory, environment: environment)
    }

    func makeLogger() -> Logger {
        var logger = Logger(label: "launcher") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = verbose ? .debug : (quiet ? .error : .notice)
        return logger
    }

    var output: ProgressOutput { quiet ? .silent : .standardError() }
}

/// Prints the error (never the token: no error type here carries it) and exits with its code.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("launcher: error: \(error)\n".utf8))
    return ExitCode(LauncherExitCode.forError(error).rawValue)
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
        let settings: PlaySettings
        do {
            let configuration = try common.loadConfiguration()
                .overridden(by: LauncherConfiguration(clientCommand: client.map { [$0] + clientArguments }, wait: wait))
            let (request, secrets) = try LaunchRequest.fromCommandLine(
                url: url, server: server, token: token, scheme: configuration.scheme ?? LauncherConfiguration.defaultScheme,
                environment: common.environment)
            ArgumentScrubber.scrub(secrets)
            settings = PlaySettings(
                request: request, configuration: configuration, patch: !noPatch, launcherDirectory: common.launcherDirectory,
                environment: common.environment)
        } catch {
            throw fail(error)
        }
        let code: Int32
        do {
            code = try await Launcher.play(settings, output: common.output, logger: common.makeLogger())
        } catch {
            throw fail(error)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring the install up to date without starting the client.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        do {
            let report = try await Launcher.update(
                configuration: try common.loadConfiguration(), environment: common.environment, output: common.output,
                logger: common.makeLogger())
            if !common.quiet { print(report.summary) }
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
            let registration = try common.registration(runTools: !noDesktopDatabase)
            try registration.register()
            if !common.quiet { print("registered \(registration.scheme):// -> \(registration.desktopFilePath)") }
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
            let registration = try common.registration(runTools: !noDesktopDatabase)
            try registration.unregister()
            if !common.quiet { print("unregistered \(registration.scheme)://") }
        } catch {
            throw fail(error)
        }
    }
}

extension CommonOptions {
    fileprivate func registration(runTools: Bool) throws -> SchemeRegistration {
        try Launcher.registration(
            configuration: try loadConfiguration(), launcherPath: launcherPath,
            configPath: options.absoluteConfigPath(currentDirectory: currentDirectory), environment: environment,
            runDesktopTools: runTools)
    }
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
            let (manifest, data) = try ManifestBuilder.make(directory: directory, version: version, baseURL: baseURL, outputPath: outputPath)
            if let outputPath {
                FileHandle.standardError.write(Data((ManifestBuilder.writtenLine(manifest, path: outputPath) + "\n").utf8))
            } else {
                FileHandle.standardOutput.write(data)
            }
        } catch {
            throw fail(error)
        }
    }
}
