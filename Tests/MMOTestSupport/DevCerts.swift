import Foundation

/// A throwaway CA and certificates from `scripts/dev-certs.sh`, made in a temporary directory
/// for one test (no key is committed): ca.pem, server.pem / server-key.pem (SAN localhost,
/// 127.0.0.1, ::1), client.pem / client-key.pem. Each call makes a new, unrelated CA.
public struct DevCerts: Sendable {
    public let directory: URL

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    public var ca: String { path("ca.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server-key.pem") }

    /// Runs the script; throws `TestFailure` with its output when it fails (no openssl?).
    public static func make() throws -> DevCerts {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmo-dev-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/dev-certs.sh").path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("scripts/dev-certs.sh failed: \(text)") }
        return DevCerts(directory: directory)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
