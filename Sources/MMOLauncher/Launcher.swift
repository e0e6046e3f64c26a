import AsyncHTTPClient
import Foundation
import Logging

/// The launcher's exit codes, one per kind of failure, so a web page's helper or a support
/// script can tell them apart. With `--wait`, a started client's own exit code is returned
/// instead (128 + N when it died of signal N).
public enum LauncherExitCode: Int32, Sendable, CaseIterable {
    case success = 0
    /// Wrong options (ArgumentParser's own code).
    case usage = 64
    /// The launch URL or `--server`/`--token` were refused.
    case invalidLaunchRequest = 65
    /// The patch server could not be reached or answered with an error.
    case patchServerUnavailable = 69
    /// The game client could not be started.
    case clientStartFailed = 71
    /// Registering or unregistering the URL scheme failed.
    case registrationFailed = 72
    /// The install folder could not be written, or has links or foreign files in the way.
    case installFailed = 73
    /// Another launcher is updating the same install.
    case installBusy = 75
    /// The manifest was refused (bad JSON, paths, hashes, limits).
    case manifestRejected = 76
    /// The configuration file or options are invalid.
    case configurationInvalid = 78
    /// Downloaded content did not match the manifest's hash, or installed files are damaged
    /// and patching is off.
    case integrityFailure = 79

    /// The exit code for an error thrown by this library.
    public static func forError(_ error: any Error) -> LauncherExitCode {
        switch error {
        case is LaunchRequestError: return .invalidLaunchRequest
        case is LauncherConfigurationError: return .configurationInvalid
        case is ManifestError: return .manifestRejected
        case is ManifestBuilder.BuildError: return .installFailed
        case is ClientLaunchError: return .clientStartFailed
        case is RegistrationError: return .registrationFailed
        case is FileSystemError: return .installFailed
        case let error as InstallError:
            switch error {
            case .locked: return .installBusy
            case .damaged: return .integrityFailure
            case .unsafePath, .notInstalled: return .installFailed
            }
        case let error as PatchError:
            switch error {
            case .invalidURL, .insecureURL: return .configurationInvalid
            case .server: return .patchServerUnavailable
            case .sizeMismatch, .integrity: return .integrityFailure
            }
        default: return .installFailed
        }
    }
}

/// Everything `launcher play` needs, already validated.
public struct PlaySettings: Sendable {
    public var request: LaunchRequest
    /// The file's settings with the options applied over them.
    public var configuration: LauncherConfiguration
    /// False with `--no-patch`: launch what is installed (after checking it against the state).
    public var patch: Bool
    /// The folder of the launcher's executable (the client may live next to it).
    public var launcherDirectory: String?
    /// The environment the client inherits (plus the session variables).
    public var environment: [String: String]

    public init(
        request: LaunchRequest, configuration: LauncherConfiguration, patch: Bool = true, launcherDirectory: String?,
        environment: [String: String]
    ) {
        self.request = request
        self.configuration = configuration
        self.patch = patch
        self.launcherDirectory = launcherDirectory
        self.environment = environment
    }
}

/// The "Play" flow: check the request against the configuration, bring the install up to date,
/// start the client.
public enum Launcher {
    /// Runs the flow; returns the process exit code (0, or the client's with `wait`).
    public static func play(_ settings: PlaySettings, output: ProgressOutput, logger: Logger) async throws -> Int32 {
        let configuration = settings.configuration
        try configuration.validate()
        guard configuration.allows(host: settings.request.server.host) else {
            throw LaunchRequestError.serverNotAllowed(settings.request.server.host)
        }
        let scheme = configuration.scheme ?? LauncherConfiguration.defaultScheme
        guard
            let installPath = configuration.installDirectory
                ?? LauncherConfiguration.defaultInstallDirectory(scheme: scheme, environment: settings.environment)
        else { throw LauncherConfigurationError("no install directory: set installDirectory or --install-dir (HOME is not set)") }

        var installRoot: String?
        if let manifestURL = configuration.manifestURL, settings.patch {
            let layout = try InstallLayout(creating: installPath)
            installRoot = layout.root
            let options = configuration.patchOptions(manifestURL: manifestURL)
            let client = Patcher.makeHTTPClient()
            let result: Result<PatchReport, any Error>
            do {
                result = .success(try await Patcher(layout: layout, options: options, client: client, output: output, logger: logger).update())
            } catch {
                result = .failure(error)
            }
            try? await client.shutdown()
            let report = try result.get()
            if !report.updatedFiles.isEmpty || !report.removedFiles.isEmpty {
                output.write("launcher: installed version \(report.version)\n")
            }
        } else if FS.exists(installPath) {
            // No patching: still refuse to start a damaged install the launcher knows about.
            let layout = try InstallLayout(creating: installPath)
            installRoot = layout.root
            if FS.exists(layout.statePath) {
                // The offline check makes no request; the shared client needs no shutdown.
                let options = PatchOptions(manifestURL: "", verification: configuration.verify ?? .cached)
                _ = try Patcher(layout: layout, options: options, client: .shared, output: output, logger: logger).verifyInstalled()
            }
        }

        let command = try ClientLauncher.resolve(
            command: configuration.clientCommand ?? LauncherConfiguration.defaultClientCommand, request: settings.request,
            installDirectory: installRoot, launcherDirectory: settings.launcherDirectory, environment: settings.environment)
        logger.info("starting the client", metadata: ["program": "\(command.executable)", "server": "\(settings.request.server)"])
        let pid = try ClientLauncher.spawn(command)
        guard configuration.wait ?? false else { return 0 }
        return await ClientLauncher.waitIgnoringInteractiveSignals(for: pid)
    }
}
