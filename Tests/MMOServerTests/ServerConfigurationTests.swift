import Configuration
import Foundation
import Testing
@testable import MMOServer
@testable import MMOUtils

@Suite struct ServerConfigurationTests {
    func configuration(_ arguments: [String], env: [String: String] = [:], services: [ServiceKind] = ServiceKind.allCases) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + arguments, environment: env)
        return try ServerConfiguration(reader: reader, services: services)
    }

    @Test func embeddedDefaults() async throws {
        let c = try await configuration([])
        #expect(c.services == ServiceKind.allCases)
        #expect(c.exposeGRPC == false)
        #expect(c.database.backend == .sqlite(path: "mmo.sqlite"))
        #expect(c.database.redis == nil)
        #expect(c.packet.port == 7777)
        #expect(c.admin?.port == 9100)
        #expect(c.world.tickRateHz == 20)
    }

    @Test func separateServiceReadsPeersAndPorts() async throws {
        let c = try await configuration(
            ["--database-address", "db.mmo.svc:6000", "--auth-grpc-port", "7001", "--admin-port", "-1"],
            env: ["DATABASE_URL": "postgres://mmo:pw@db:5432/game", "REDIS_URL": "redis://cache:6380/2", "BETTER_AUTH_SECRET": "s3cret"],
            services: [.auth])
        #expect(c.services == [.auth])
        #expect(c.exposeGRPC)
        #expect(c.peers[.database] == PeerAddress(host: "db.mmo.svc", port: 6000))
        #expect(c.grpcPorts[.auth] == 7001)
        #expect(c.admin == nil)
        #expect(c.auth.secret == "s3cret")
        #expect(c.database.redis?.port == 6380)
        #expect(c.database.redis?.database == 2)
        guard case .postgres(let pg) = c.database.backend else { Issue.record("expected postgres"); return }
        #expect(pg.host == "db" && pg.database == "game" && pg.username == "mmo")
    }

    @Test(arguments: [
        (["--log-level", "loud"], "log.level"),
        (["--packet-port", "70000"], "packet.port"),
        (["--database-auth-naming", "kebab"], "database.authNaming"),
        (["--world-tick-hz", "0"], "world.tickHz"),
        (["--auth-address", "nohost"], "auth.address"),
        (["--services", "auth,moon"], "unknown service"),
        (["--database-url", "mysql://x"], "database.url"),
        (["--packet-max-frame-size", "4"], "packet.maxFrameSize"),
    ])
    func badValuesNameTheirKey(_ arguments: [String], _ expected: String) async throws {
        do {
            _ = try await configuration(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func grpcBindsLoopbackAndReadsTheSecret() async throws {
        #expect(try await configuration([], services: [.auth]).grpcHost == "127.0.0.1")
        #expect(try await configuration([], services: [.auth]).grpcSecret == nil)
        let secret = "0123456789abcdef-secret"
        let fromEnv = try await configuration([], env: ["GRPC_SECRET": secret], services: [.auth])
        #expect(fromEnv.grpcSecret?.matches(secret.utf8) == true)
        let fromMMOEnv = try await configuration([], env: ["MMO_GRPC_SECRET": secret], services: [.auth])
        #expect(fromMMOEnv.grpcSecret?.matches(secret.utf8) == true)
        do {
            _ = try await configuration(["--grpc-secret", "short"], services: [.auth])
            Issue.record("a 5-character secret was accepted")
        } catch {
            #expect("\(error)".contains("grpc.secret") && !"\(error)".contains("short"))
        }
    }

    @Test func secretsNeverAppearInErrors() async throws {
        do {
            _ = try await configuration(["--database-url", "postgres://user:hunter2@"])
            Issue.record("accepted a URL without host")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test func documentedKeysMatchTheDocs() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(text.contains(ServerConfiguration.keysMarkdown()), "docs/configuration.md is stale: regenerate with `mmo config-keys`")
    }

    @Test func environmentNamesFollowSwiftConfiguration() async throws {
        for key in ServerConfiguration.keys.map(\.key) where key != "config" {
            let env = ServerConfiguration.environmentName(key)
            let reader = try await ConfigLoader.load(arguments: ["mmo"], environment: [env: "probe"])
            #expect(reader.string(forKey: ConfigKey(key)) == "probe", "\(key) is not read from \(env)")
        }
    }
}
