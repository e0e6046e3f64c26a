import Configuration
import SystemPackage

/// Builds the process-wide `ConfigReader`.
///
/// Precedence, highest first: command line (`--packet-port 7777`), environment
/// (`PACKET_PORT=7777`), then an optional JSON file named by `--config FILE` or `MMO_CONFIG`
/// (`{"packet": {"port": 7777}}`). Every key is listed in docs/configuration.md.
public enum ConfigLoader {
    /// Keys whose values are secrets: never echoed by access logging.
    static let secretSuffixes = ["SECRET", "PASSWORD", "TOKEN", "URL"]

    public static func load(
        arguments: [String] = CommandLine.arguments,
        environment: [String: String]? = nil
    ) async throws -> ConfigReader {
        var providers: [any ConfigProvider] = [
            CommandLineArgumentsProvider(arguments: arguments, secretsSpecifier: .dynamic { key, _ in
                secretSuffixes.contains { key.uppercased().contains($0) }
            }),
        ]
        let env = environment.map { EnvironmentVariablesProvider(environmentVariables: $0, secretsSpecifier: envSecrets) }
            ?? EnvironmentVariablesProvider(secretsSpecifier: envSecrets)
        providers.append(env)
        let bootstrap = ConfigReader(providers: providers)
        if let path = bootstrap.string(forKey: "config") ?? bootstrap.string(forKey: "mmo.config") {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
        }
        return ConfigReader(providers: providers)
    }

    private static var envSecrets: SecretsSpecifier<String, String> {
        .dynamic { key, _ in secretSuffixes.contains { key.uppercased().contains($0) } }
    }
}
