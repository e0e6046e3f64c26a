import ArgumentParser
import AuthService
import Crypto
import DatabaseService
import DevTools
import Foundation
import Logging
import MMOServer
import MMOUtils

/// `mmo`: the whole server in one process, and operator commands.
@main
struct MMOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmo",
        abstract: "MMORPG server: run services, migrate the database, development helpers.",
        version: "0.1.0",
        subcommands: [Serve.self, Migrate.self, Dev.self, ConfigKeys.self],
        defaultSubcommand: Serve.self)
}

/// Options not known to ArgumentParser are configuration keys (`--packet-port 7777`); they are
/// handed to swift-configuration together with the environment and `--config FILE`.
struct ConfigArguments: ParsableArguments {
    @Argument(parsing: .allUnrecognized, help: "Configuration keys as flags, e.g. --packet-port 7777 (see `mmo config-keys`).")
    var keys: [String] = []

    func serverConfiguration(services: [ServiceKind]) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + keys)
        return try ServerConfiguration(reader: reader, services: services)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run services (all by default) in this process, on embedded defaults unless configured.")

    @Option(help: "`all` or a comma-separated subset of database,auth,character,world,packet.")
    var services: String = "all"

    @OptionGroup var config: ConfigArguments

    func run() async throws {
        let kinds = try ServiceKind.parseList(services)
        let configuration = try await config.serverConfiguration(services: kinds)
        try await ServerAssembly.run(configuration)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the game-table migrations to database.url and exit.")

    @OptionGroup var config: ConfigArguments

    func run() async throws {
        var configuration = try await config.serverConfiguration(services: [.database])
        configuration.database.runMigrations = false  // migrate explicitly below, report what ran
        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let applied = try await GameDatabase.withRunning(
            configuration: configuration.database, logger: Logger(label: "mmo.migrate"), prepare: false
        ) { database in
            try await database.migrate()
        }
        print(applied.isEmpty ? "database is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct ConfigKeys: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config-keys", abstract: "Print every configuration key as a Markdown table.")

    func run() {
        print(ServerConfiguration.keysMarkdown())
    }
}

struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Development helpers that play the web app's part.",
        subcommands: [CreateUser.self])
}

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-user",
        abstract: "Create better-auth-shaped users (user, credential account, session) and print their session tokens.",
        discussion: "Prints one token per line; with --count N creates N users named NAME1...NAMEN.")

    @Option(help: "Display name (and email local part).") var name: String = "Player"
    @Option(help: "Email; default NAME@example.test (lowercased).") var email: String?
    @Option(help: "Password (8-128 characters); default password123 for one user. With --count, users get no password unless one is given (scrypt costs ~0.1 s per user).")
    var password: String?
    @Option(help: "How many users to create.") var count: Int = 1
    @Option(help: "Session lifetime in seconds.") var lifetime: Int = 7 * 24 * 3600
    @Option(help: "Write the tokens to this file instead of standard output.") var output: String?
    @Flag(help: "Print the signed cookie form (needs auth.secret) instead of the raw token.") var signed = false

    @OptionGroup var config: ConfigArguments

    func run() async throws {
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be 1...100000") }
        let configuration = try await config.serverConfiguration(services: [.database])
        LoggingSetup.bootstrap(format: configuration.logFormat, level: .warning)
        let secret = configuration.auth.secret.map { SymmetricKey(data: Data($0.utf8)) }
        if signed && secret == nil { throw ValidationError("--signed needs auth.secret (or AUTH_SECRET)") }
        let suffix = count == 1 ? [""] : (1...count).map(String.init)
        let tokens = try await GameDatabase.withRunning(configuration: configuration.database, logger: Logger(label: "mmo.dev")) { database in
            var tokens: [String] = []
            tokens.reserveCapacity(count)
            for s in suffix {
                let userName = name + s
                let mail = (email.map { count == 1 ? $0 : s + "." + $0 } ?? "\(userName)@example.test").lowercased()
                let userId = try await database.createAuthUser(name: userName, email: mail, password: password ?? (count == 1 ? "password123" : nil))
                let token = try await database.createAuthSession(userId: userId, lifetime: .seconds(lifetime))
                tokens.append(signed ? SessionToken.signedCookieValue(token: token, secret: secret!) : token)
            }
            return tokens
        }
        let text = tokens.joined(separator: "\n") + "\n"
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            FileHandle.standardError.write(Data("wrote \(tokens.count) token(s) to \(output)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }
}
