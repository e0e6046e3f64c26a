import Foundation

/// A problem with the launcher's configuration file or options (exit code 78).
public struct LauncherConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The launcher's settings: a JSON file (`launcher.json` next to the executable, or
/// `--config FILE`) overridden by command-line options. Every key is optional.
///
/// ```json
/// {
///   "installDirectory": "~/Games/mmo",
///   "manifestURL": "https://patch.example.com/live/manifest.json",
///   "clientCommand": ["bin/game", "--fullscreen"],
///   "scheme": "mmo",
///   "wait": false,
///   "verify": "cached",
///   "allowedServerHosts": ["play.example.com", "*.eu.example.com"],
///   "allowInsecureHTTP": false,
///   "parallelDownloads": 4,
///   "retries": 3
/// }
/// ```
public struct LauncherConfiguration: Sendable, Equatable {
    /// Where the game is installed. Relative paths in a file are relative to the file's folder.
    public var installDirectory: String?
    /// The patch manifest; nil means "do not patch, launch what is installed".
    public var manifestURL: String?
    /// Program and arguments of the game client.
    public var clientCommand: [String]?
    public var scheme: String?
    /// Wait for the client and exit with its code.
    public var wait: Bool?
    public var verify: PatchPlanner.Verification?
    /// Host names (or `*.suffix` patterns) launch URLs may point at; nil allows any.
    public var allowedServerHosts: [String]?
    public var allowInsecureHTTP: Bool?
    public var parallelDownloads: Int?
    public var retries: Int?

    public init(
        installDirectory: String? = nil, manifestURL: String? = nil, clientCommand: [String]? = nil, scheme: String? = nil,
        wait: Bool? = nil, verify: PatchPlanner.Verification? = nil, allowedServerHosts: [String]? = nil,
        allowInsecureHTTP: Bool? = nil, parallelDownloads: Int? = nil, retries: Int? = nil
    ) {
        self.installDirectory = installDirectory
        self.manifestURL = manifestURL
        self.clientCommand = clientCommand
        self.scheme = scheme
        self.wait = wait
        self.verify = verify
        self.allowedServerHosts = allowedServerHosts
        self.allowInsecureHTTP = allowInsecureHTTP
        self.parallelDownloads = parallelDownloads
        self.retries = retries
    }

    public static let defaultScheme = "mmo"
    public static let defaultClientCommand = ["mmo-client"]
    public static let fileName = "launcher.json"
    public static let keys = [
        "installDirectory", "manifestURL", "clientCommand", "scheme", "wait", "verify", "allowedServerHosts",
        "allowInsecureHTTP", "parallelDownloads", "retries",
    ]

    /// `other`'s values where set, else ours (options over file).
    public func overridden(by other: LauncherConfiguration) -> LauncherConfiguration {
        LauncherConfiguration(
            installDirectory: other.installDirectory ?? installDirectory, manifestURL: other.manifestURL ?? manifestURL,
            clientCommand: other.clientCommand ?? clientCommand, scheme: other.scheme ?? scheme, wait: other.wait ?? wait,
            verify: other.verify ?? verify, allowedServerHosts: other.allowedServerHosts ?? allowedServerHosts,
            allowInsecureHTTP: other.allowInsecureHTTP ?? allowInsecureHTTP,
            parallelDownloads: other.parallelDownloads ?? parallelDownloads, retries: other.retries ?? retries)
    }

    /// Parses a configuration file. Unknown keys are refused (a typo would otherwise be
    /// silently ignored); relative `installDirectory` is resolved against `baseDirectory`, and a
    /// leading `~/` against `home`.
    public static func parse(_ data: Data, baseDirectory: String, home: String?) throws(LauncherConfigurationError) -> LauncherConfiguration {
        guard data.count <= 1 << 20 else { throw LauncherConfigurationError("the configuration file is larger than 1 MiB") }
        let file: FileForm
        do {
            file = try JSONDecoder().decode(FileForm.self, from: data)
        } catch let error as LauncherConfigurationError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw LauncherConfigurationError("\(context.codingPath.first?.stringValue ?? "the file") has the wrong type")
        } catch {
            throw LauncherConfigurationError("the configuration file is not a JSON object")
        }
        var configuration = LauncherConfiguration()
        configuration.installDirectory = file.installDirectory.map { expand($0, base: baseDirectory, home: home) }
        configuration.manifestURL = file.manifestURL
        configuration.clientCommand = file.clientCommand
        configuration.scheme = file.scheme
        configuration.wait = file.wait
        if let verify = file.verify {
            guard let mode = PatchPlanner.Verification(rawValue: verify) else { throw LauncherConfigurationError("verify must be \"cached\" or \"full\"") }
            configuration.verify = mode
        }
        configuration.allowedServerHosts = file.allowedServerHosts
        configuration.allowInsecureHTTP = file.allowInsecureHTTP
        if let n = file.parallelDownloads, !(1...16).contains(n) { throw LauncherConfigurationError("parallelDownloads must be from 1 to 16") }
        configuration.parallelDownloads = file.parallelDownloads
        if let n = file.retries, !(0...10).contains(n) { throw LauncherConfigurationError("retries must be from 0 to 10") }
        configuration.retries = file.retries
        if configuration.installDirectory?.isEmpty == true || configuration.manifestURL?.isEmpty == true {
            throw LauncherConfigurationError("installDirectory and manifestURL must not be empty")
        }
        try configuration.validate()
        return configuration
    }

    /// The file's shape. Unknown keys are refused: a typo must not be silently ignored.
    private struct FileForm: Decodable {
        var installDirectory: String?
        var manifestURL: String?
        var clientCommand: [String]?
        var scheme: String?
        var wait: Bool?
        var verify: String?
        var allowedServerHosts: [String]?
        var allowInsecureHTTP: Bool?
        var parallelDownloads: Int?
        var retries: Int?

        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !LauncherConfiguration.keys.contains($0) }) {
                throw LauncherConfigurationError(
                    "unknown configuration key \(String(reflecting: unknown)); known keys: \(LauncherConfiguration.keys.joined(separator: ", "))")
            }
            func value<T: Decodable>(_ key: String) throws -> T? {
                try container.decodeIfPresent(T.self, forKey: AnyKey(stringValue: key))
            }
            installDirectory = try value("installDirectory")
            manifestURL = try value("manifestURL")
            clientCommand = try value("clientCommand")
            scheme = try value("scheme")
            wait = try value("wait")
            verify = try value("verify")
            allowedServerHosts = try value("allowedServerHosts")
            allowInsecureHTTP = try value("allowInsecureHTTP")
            parallelDownloads = try value("parallelDownloads")
            retries = try value("retries")
        }
    }

    /// Loads `path`; with `required` false a missing file is an empty configuration.
    public static func load(path: String, required: Bool, home: String?) throws(LauncherConfigurationError) -> LauncherConfiguration {
        guard FS.exists(path) else {
            if required { throw LauncherConfigurationError("the configuration file \(displayPath(path)) does not exist") }
            return LauncherConfiguration()
        }
        let data: Data
        do throws(FileSystemError) {
            data = try FS.readFile(path, limit: 1 << 20)
        } catch {
            throw LauncherConfigurationError(error.description)
        }
        do throws(LauncherConfigurationError) {
            return try parse(data, baseDirectory: FS.parentDirectory(of: absolute(path)), home: home)
        } catch {
            throw LauncherConfigurationError("\(displayPath(path)): \(error.message)")
        }
    }

    /// Checks values that options can also set.
    public func validate() throws(LauncherConfigurationError) {
        if let scheme, !LaunchURLParser.isValidScheme(scheme) {
            throw LauncherConfigurationError("scheme must be a letter followed by letters, digits, '.' or '-'")
        }
        if let clientCommand {
            guard let first = clientCommand.first, !first.isEmpty else { throw LauncherConfigurationError("clientCommand must name a program") }
            if clientCommand.contains(where: { $0.contains("{token}") }) {
                throw LauncherConfigurationError("clientCommand must not contain {token}: the token is passed only in the environment")
            }
        }
        if let hosts = allowedServerHosts {
            for pattern in hosts {
                let name = pattern.hasPrefix("*.") ? String(pattern.dropFirst(2)) : pattern
                if (try? ServerAddress.validateDNSName(name.lowercased())) == nil && !ServerAddress.isIPv4Literal(name)
                    && !ServerAddress.isIPv6Literal(name.lowercased())
                {
                    throw LauncherConfigurationError("allowedServerHosts has an invalid entry \(String(reflecting: pattern))")
                }
            }
        }
    }

    /// Whether `host` is allowed by `allowedServerHosts` (always, when unset). `*.example.com`
    /// matches subdomains of example.com, not example.com itself.
    public func allows(host: String) -> Bool {
        guard let patterns = allowedServerHosts else { return true }
        let host = host.lowercased()
        return patterns.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
            return host == pattern
        }
    }

    static func expand(_ path: String, base: String, home: String?) -> String {
        if path == "~", let home { return home }
        if path.hasPrefix("~/"), let home { return home + path.dropFirst(1) }
        if path.hasPrefix("/") { return path }
        return base + "/" + path
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The per-user default install folder: `$XDG_DATA_HOME/<scheme>/game` on Linux,
    /// `~/Library/Application Support/<scheme>/game` on macOS.
    public static func defaultInstallDirectory(scheme: String, environment: [String: String]) -> String? {
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        #if canImport(Darwin)
        return home + "/Library/Application Support/\(scheme)/game"
        #else
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.local/share"
        return data + "/\(scheme)/game"
        #endif
    }
}
