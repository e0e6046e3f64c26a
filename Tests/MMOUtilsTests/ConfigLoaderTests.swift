import Configuration
import Foundation
import Testing
@testable import MMOUtils

@Suite struct ConfigLoaderTests {
    @Test func commandLineBeatsEnvironmentBeatsFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-config-\(UUID().uuidString).json")
        try Data(#"{"packet": {"port": 1111, "host": "10.0.0.1"}, "log": {"level": "debug"}, "world": {"tickHz": 30}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = try await ConfigLoader.load(
            arguments: ["mmo", "--packet-port", "3333", "--config", file.path],
            environment: ["PACKET_PORT": "2222", "PACKET_HOST": "10.0.0.2", "WORLD_TICK_HZ": "25"])
        #expect(reader.int(forKey: "packet.port") == 3333)       // flag
        #expect(reader.string(forKey: "packet.host") == "10.0.0.2")  // env over file
        #expect(reader.int(forKey: "world.tickHz") == 25)        // camelCase key -> WORLD_TICK_HZ
        #expect(reader.string(forKey: "log.level") == "debug")   // file only
        #expect(reader.string(forKey: "missing.key") == nil)
    }

    @Test func configFileFromEnvironment() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-config-\(UUID().uuidString).json")
        try Data(#"{"packet": {"port": 4444}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = try await ConfigLoader.load(arguments: ["mmo"], environment: ["MMO_CONFIG": file.path])
        #expect(reader.int(forKey: "packet.port") == 4444)
    }

    @Test func missingConfigFileIsAnError() async {
        await #expect(throws: (any Error).self) {
            _ = try await ConfigLoader.load(arguments: ["mmo", "--config", "/nonexistent/mmo.json"], environment: [:])
        }
    }
}
