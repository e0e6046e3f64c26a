import Crypto
import Foundation
import Logging
import Testing

@testable import MMOLauncher

/// A fresh folder under the system temp folder, removed when the test's closure returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async rethrows -> T {
    let path = FileManager.default.temporaryDirectory.path + "/mmo-launcher-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Resolve /tmp links so paths compare equal to the launcher's resolved ones.
    return try await body(URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

/// Deterministic pseudo-random bytes (so a failure reproduces).
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

func writeFile(_ path: String, _ bytes: [UInt8], executable: Bool = false) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
}

func writeFile(_ path: String, _ text: String, executable: Bool = false) throws {
    try writeFile(path, Array(text.utf8), executable: executable)
}

func readBytes(_ path: String) -> [UInt8]? {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map { Array($0) }
}

func readText(_ path: String) -> String? {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

func fileExists(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
}

/// Every path under `root` (files and folders, relative, sorted), to show nothing was written.
func listTree(_ root: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    return (enumerator.allObjects as? [String] ?? []).sorted()
}

let quietLogger: Logger = {
    var logger = Logger(label: "launcher-tests") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}()

/// A manifest entry for `bytes` at `path`.
func entry(_ path: String, _ bytes: [UInt8], executable: Bool = false) -> Manifest.File {
    Manifest.File(path: path, size: Int64(bytes.count), sha256: sha256Hex(bytes), executable: executable)
}

let rawToken = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
