import Foundation
import Logging

/// The options every `launcher` command shares, as given on the command line: each one, when
/// set, overrides the configuration file's value.
public struct LauncherOptions: Sendable, Equatable {
    /// `--config FILE`; nil looks for `launcher.json` next to the executable.
    public var configPath: String?
    public var scheme: String?
    public var installDirectory: String?
    public var manifestURL: String?
    /// `--verify`: "cached" or "full".
    public var verify: String?
    public var allowInsecureHTTP: Bool
    public var parallel: Int?
    public var retries: Int?

    public init(
        configPath: String? = nil, scheme: String? = nil, installDirectory: String? = nil, manifestURL: String? = nil,
        verify: String? = nil, allowInsecureHTTP: Bool = false, parallel: Int? = nil, retries: Int? = nil
    ) {
        self.configPath = configPath
        self.scheme = scheme
        self.installDirectory = installDirectory
        self.manifestURL = manifestURL
        self.verify = verify
        self.allowInsecureHTTP = allowInsecureHTTP
        self.parallel = parallel
        self.retries = retries
    }

    /// `--config` as an absolute path (relative ones are relative to `currentDirectory`).
    public func absoluteConfigPath(currentDirectory: String) -> String? {
        configPath.map { Self.absolute($0, in: currentDirectory) }
    }

    /// The configuration file (the explicit one, which must exist, or `launcher.json` in
    /// `launcherDirectory` if there is one) with these options applied over it, validated.
    public func configuration(
        launcherDirectory: String?, currentDirectory: String, environment: [String: String]
    ) throws(LauncherConfigurationError) -> LauncherConfiguration {
        var file = LauncherConfiguration()
        if let path = absoluteConfigPath(currentDirectory: currentDirectory) {
            file = try LauncherConfiguration.load(path: path, required: true, home: environment["HOME"])
        } else if let launcherDirectory {
            file = try LauncherConfiguration.load(
                path: launcherDirectory + "/" + LauncherConfiguration.fileName, required: false, home: environment["HOME"])
        }
        var options = LauncherConfiguration()
        options.scheme = scheme
        options.installDirectory = installDirectory.map { Self.absolute($0, in: currentDirectory) }
        options.manifestURL = manifestURL
        if let verify {
            guard let mode = PatchPlanner.Verification(rawValue: verify) else {
                throw LauncherConfigurationError("--verify must be cached or full")
            }
            options.verify = mode
        }
        if allowInsecureHTTP { options.allowInsecureHTTP = true }
        if let parallel {
            guard (1...16).contains(parallel) else { throw LauncherConfigurationError("--parallel must be from 1 to 16") }
            options.parallelDownloads = parallel
        }
        if let retries {
            guard (0...10).contains(retries) else { throw LauncherConfigurationError("--retries must be from 0 to 10") }
            options.retries = retries
        }
        let merged = file.overridden(by: options)
        try merged.validate()
        return merged
    }

    private static func absolute(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }
}

extension LaunchRequest {
    /// The request `launcher play` was given: a launch URL, or `--server` with `--token` (the
    /// token defaulting to `$MMO_SESSION_TOKEN`), never a mix of both. `secrets` are the
    /// strings to hide in the process's command line (`ArgumentScrubber`): the token as it was
    /// typed in the URL or option, and as decoded.
    public static func fromCommandLine(
        url: String?, server: String?, token: String?, scheme: String, environment: [String: String]
    ) throws(LaunchRequestError) -> (request: LaunchRequest, secrets: [String]) {
        let request: LaunchRequest
        var secrets: [String] = []
        if let url {
            guard server == nil, token == nil else { throw .conflictingSources }
            request = try LaunchURLParser(scheme: scheme).parse(url)
            // The raw (possibly percent-encoded) spelling is what sits in argv.
            if let range = url.range(of: "token=") {
                secrets.append(String(url[range.upperBound...].prefix(while: { $0 != "&" })))
            }
        } else {
            guard let server, let token = token ?? environment[ClientLauncher.tokenVariable] else { throw .noLaunchRequest }
            request = try LaunchRequest(server: server, token: token)
            secrets.append(token)
        }
        secrets.append(request.credential.value)
        return (request, secrets)
    }
}

extension Launcher {
    /// `launcher update`: brings the install up to date without starting the client.
    public static func update(
        configuration: LauncherConfiguration, environment: [String: String], output: ProgressOutput, logger: Logger
    ) async throws -> PatchReport {
        guard let manifestURL = configuration.manifestURL else {
            throw LauncherConfigurationError("no manifest URL: set manifestURL or --manifest-url")
        }
        let scheme = configuration.scheme ?? LauncherConfiguration.defaultScheme
        guard
            let path = configuration.installDirectory
                ?? LauncherConfiguration.defaultInstallDirectory(scheme: scheme, environment: environment)
        else { throw LauncherConfigurationError("no install directory: set installDirectory or --install-dir") }
        let layout = try InstallLayout(creating: path)
        let client = Patcher.makeHTTPClient()
        let result: Result<PatchReport, any Error>
        do {
            result = .success(
                try await Patcher(layout: layout, options: configuration.patchOptions(manifestURL: manifestURL), client: client,
                                  output: output, logger: logger).update())
        } catch {
            result = .failure(error)
        }
        // Shut down on both paths before rethrowing: a client dropped while running traps.
        try? await client.shutdown()
        return try result.get()
    }

    /// `launcher register` / `unregister`: the URL-scheme registration for this launcher.
    ///
    /// - Parameter configPath: the explicit `--config` file, absolute. A desktop starts the
    ///   launcher with no options, so it goes into the registered command line.
    public static func registration(
        configuration: LauncherConfiguration, launcherPath: String?, configPath: String?, environment: [String: String],
        runDesktopTools: Bool
    ) throws(RegistrationError) -> SchemeRegistration {
        guard let launcherPath else { throw RegistrationError.io("cannot find the launcher's own path") }
        return try SchemeRegistration(
            scheme: configuration.scheme ?? LauncherConfiguration.defaultScheme, launcherPath: launcherPath,
            extraArguments: configPath.map { ["--config", $0] } ?? [], environment: environment, runDesktopTools: runDesktopTools)
    }
}

extension LauncherConfiguration {
    /// Patch settings from this configuration, with the documented defaults for unset values.
    func patchOptions(manifestURL: String) -> PatchOptions {
        PatchOptions(
            manifestURL: manifestURL, verification: verify ?? .cached, parallelDownloads: parallelDownloads ?? 4,
            retries: retries ?? 3, allowInsecureHTTP: allowInsecureHTTP ?? false)
    }
}

extension PatchReport {
    /// The line `launcher update` prints: version, files updated and removed, bytes downloaded.
    public var summary: String {
        "\(version): \(updatedFiles.count) file(s) updated, \(removedFiles.count) removed, \(downloadedBytes) bytes downloaded"
    }
}

extension ManifestBuilder {
    /// `launcher make-manifest`: the manifest of `directory`, written atomically to
    /// `outputPath` when given (its folder created; the file itself and its temporary are not
    /// listed in the manifest), and returned with its encoding for printing otherwise.
    public static func make(
        directory: String, version: String?, baseURL: String?, outputPath: String?
    ) throws -> (manifest: Manifest, data: Data) {
        let manifest = try build(
            directory: directory, version: version, baseURL: baseURL,
            excluding: Set([outputPath, outputPath.map { $0 + ".tmp" }].compactMap { $0 }))
        let data = try manifest.encoded()
        if let outputPath {
            try FileManager.default.createDirectory(
                atPath: (outputPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: outputPath), options: .atomic)
        }
        return (manifest, data)
    }

    /// What `make-manifest -o FILE` reports on stderr.
    public static func writtenLine(_ manifest: Manifest, path: String) -> String {
        "wrote \(path): version \(manifest.version), \(manifest.files.count) files, \(manifest.totalSize) bytes"
    }
}
