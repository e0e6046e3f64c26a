import Foundation
import MMOTestSupport
import Synchronization
import Testing

/// The real `mmo serve` process with `packet.tls.*`: SIGHUP reloads the pair (and a failed reload
/// keeps the process serving), and a half-configured pair stops it at start with the key named.
@Suite("client port TLS in a real process", .serialized, .timeLimit(.minutes(2)))
struct ClientTLSReloadProcessTests {
    static let mmoBinary: String? = {
        var url = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = url.appendingPathComponent("mmo").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url = url.deletingLastPathComponent()
        }
        return nil
    }()

    /// `mmo serve` in `directory`, its stdout and stderr collected.
    final class Server: @unchecked Sendable {
        final class Output: Sendable { let text = Mutex("") }
        let process = Process()
        private let output = Output()

        init(arguments: [String], directory: URL) throws {
            process.executableURL = URL(fileURLWithPath: ClientTLSReloadProcessTests.mmoBinary!)
            process.arguments = arguments
            process.currentDirectoryURL = directory
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            pipe.fileHandleForReading.readabilityHandler = { [output] handle in
                let text = String(decoding: handle.availableData, as: UTF8.self)
                output.text.withLock { $0 += text }
            }
            try process.run()
        }

        var text: String { output.text.withLock { $0 } }

        func count(_ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

        func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
            try await eventually("mmo exited", timeout: timeout) { !process.isRunning }
            return process.terminationStatus
        }
    }

    static func arguments(port: Int, directory: URL, certificate: String?, key: String?) -> [String] {
        var arguments = ["serve", "--database-url", "sqlite:\(directory.appendingPathComponent("mmo.sqlite").path)",
                         "--packet-port", "\(port)", "--packet-host", "127.0.0.1", "--admin-port", "-1"]
        if let certificate { arguments += ["--packet-tls-certificate", certificate] }
        if let key { arguments += ["--packet-tls-private-key", key] }
        return arguments
    }

    @Test(.enabled(if: ClientTLSReloadProcessTests.mmoBinary != nil, "needs the mmo executable built next to the tests"))
    func sighupReloadsAndAFailedReloadKeepsServing() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        let port = try TestProcess.freePort()
        let server = try Server(
            arguments: Self.arguments(port: port, directory: certs.directory, certificate: certs.serverCertificate, key: certs.serverKey),
            directory: certs.directory)
        do {
            try await eventually("client port listening", timeout: .seconds(30)) { TestProcess.isListening(port) }
            kill(server.process.processIdentifier, SIGHUP)
            try await eventually("reload logged") { server.count("reloaded the client port's TLS certificate and key") == 1 }

            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: certs.serverCertificate))
            kill(server.process.processIdentifier, SIGHUP)
            try await eventually("failed reload logged") { server.count("TLS reload failed; still serving the previous certificate") == 1 }
            #expect(server.process.isRunning)
            #expect(TestProcess.isListening(port))
            #expect(!server.text.contains("PRIVATE KEY"))
        } catch {
            server.process.terminate()
            throw error
        }
        server.process.terminate()  // SIGTERM: graceful
        #expect(try await server.waitForExit() == 0, "\(server.text)")
    }

    @Test(.enabled(if: ClientTLSReloadProcessTests.mmoBinary != nil, "needs the mmo executable built next to the tests"))
    func aCertificateWithoutAKeyStopsTheStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try Server(
            arguments: Self.arguments(port: try TestProcess.freePort(), directory: directory, certificate: "/etc/mmo/server.pem", key: nil),
            directory: directory)
        #expect(try await server.waitForExit() == 1)
        #expect(server.text.contains("packet.tls.privateKey: not set"), "\(server.text)")
    }
}
