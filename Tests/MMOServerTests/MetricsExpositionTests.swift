import Foundation
import MMOTestSupport
import Testing
@testable import MMOServer
@testable import MMOUtils

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 7: `promtool check metrics` rejected every service (no HELP text).
@Suite("/metrics passes promtool", .serialized, .timeLimit(.minutes(1)))
struct MetricsExpositionTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    @Test("every metric label in Sources/ has help text in MetricHelp")
    func everyMetricHasHelp() throws {
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        var labels = Set<String>()
        let pattern = try Regex(#"label: "(mmo_[a-z0-9_]+)""#)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { labels.insert(String(name)) }
            }
        }
        #expect(labels.count > 20, "the scan found too few metrics: \(labels.count)")
        let missing = labels.filter { MetricHelp.texts[$0] == nil }.sorted()
        #expect(missing.isEmpty, "add these to MetricHelp.texts: \(missing)")
    }

    /// Where promtool is, or nil. Under CI or scripts/test.sh (which installs it) a missing
    /// promtool is a failure, never a skip (same rule as `TestServices.required()`).
    static func promtool() throws -> String? {
        let found = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        if found == nil, TestServices.required() {
            throw TestFailure("promtool is not installed (apt-get install prometheus)")
        }
        return found
    }

    @Test("the /metrics of a process running every service is clean for `promtool check metrics`")
    func promtoolIsClean() async throws {
        guard let promtool = try Self.promtool() else { return }
        MetricsSetup.bootstrap()
        let path = TestProcess.temporarySQLitePath()
        defer { TestProcess.removeSQLite(path) }
        let admin = try TestProcess.freePort()
        var configuration = ServerConfiguration()
        configuration.admin = AdminServerConfiguration(host: "127.0.0.1", port: admin)
        configuration.database.backend = .sqlite(path: path)
        configuration.packet.host = "127.0.0.1"
        configuration.packet.port = 0
        let process = try TestProcess.start(configuration)
        let url = URL(string: "http://127.0.0.1:\(admin)/metrics")!
        var exposition = Data()
        do {
            try await eventually("admin port up") { TestProcess.isListening(admin) }
            exposition = try await URLSession.shared.data(from: url).0
        } catch {
            await process.stop()
            throw error
        }
        await process.stop()
        let text = String(decoding: exposition, as: UTF8.self)
        for family in ["mmo_packet_connections", "mmo_world_players", "mmo_database_operation_duration"] {
            #expect(text.contains("# TYPE \(family) "), "\(family) missing from /metrics")
        }

        let run = Process()
        run.executableURL = URL(fileURLWithPath: promtool)
        run.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        run.standardInput = input
        run.standardOutput = output
        run.standardError = output
        try run.run()
        input.fileHandleForWriting.write(exposition)
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 0 && report.isEmpty, "promtool: \(report)")
    }
}
