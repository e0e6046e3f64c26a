import Foundation
import Testing

@testable import MMOLauncher

private let hash = String(repeating: "ab", count: 32)

private func manifestJSON(_ files: String, version: String = "\"1.0\"", extra: String = "") -> Data {
    Data("{\"version\": \(version), \(extra) \"files\": [\(files)]}".utf8)
}

private func file(_ path: String, size: Int64 = 1, sha: String = hash) -> String {
    let pathJSON = String(data: try! JSONEncoder().encode(path), encoding: .utf8)!
    return "{\"path\": \(pathJSON), \"size\": \(size), \"sha256\": \"\(sha)\"}"
}

private func decode(_ data: Data, limits: ManifestLimits = .default) -> Result<Manifest, ManifestError> {
    Result { () throws(ManifestError) in try Manifest.decode(data, limits: limits) }
}

@Suite("Manifest validation")
struct ManifestTests {
    @Test("a valid manifest decodes; uppercase hashes are normalized; unknown keys are ignored")
    func valid() throws {
        let data = manifestJSON(
            "{\"path\": \"bin/game\", \"size\": 5, \"sha256\": \"\(hash.uppercased())\", \"executable\": true, \"mode\": 1}, \(file("data/a b.pak"))",
            extra: "\"baseURL\": \"https://cdn.example.com/v1\", \"released\": \"today\",")
        let manifest = try Manifest.decode(data)
        #expect(manifest.version == "1.0")
        #expect(manifest.baseURL == "https://cdn.example.com/v1")
        #expect(manifest.files == [
            Manifest.File(path: "bin/game", size: 5, sha256: hash, executable: true),
            Manifest.File(path: "data/a b.pak", size: 1, sha256: hash, executable: false),
        ])
    }

    @Test(
        "paths that escape the install folder or cannot be stored everywhere are refused",
        arguments: [
            "../evil", "a/../../evil", "a/..", "..", ".", "./a", "a/./b", "/etc/passwd", "//server/share", "a\\b", "..\\evil",
            "a\u{0}b", "", "a//b", "a/", "C:/windows/x", "a:stream", "a\nb", "a\u{7F}", "con", "dir/NUL.txt", "LPT1",
            "com9.log", "a/b.", "a/b ", ".staging/1.0/files/x", ".launcher-state.json", ".LAUNCHER-journal.json",
            ".launcher.lock", "a|b", "a*b", "a?b", "a<b", "a\"b",
            String(repeating: "a", count: 256), String(repeating: "a/", count: 600) + "a",
        ])
    func badPaths(path: String) {
        guard case .failure(let error) = decode(manifestJSON(file(path))) else {
            Issue.record("accepted \(path.debugDescription)")
            return
        }
        guard case .invalidPath = error else {
            Issue.record("unexpected \(error)")
            return
        }
        // The message shows the path escaped: no raw control character reaches a terminal.
        #expect(!error.description.contains("\u{0}") && !error.description.contains("\n"))
    }

    @Test("launcher names below the top level are ordinary file names")
    func reservedOnlyAtTop() throws {
        #expect(throws: Never.self) { try Manifest.decode(manifestJSON(file("data/.staging") + "," + file("data/.launcher-state.json"))) }
    }

    @Test("duplicate paths, also differing only in case, and file/folder clashes are refused")
    func duplicates() {
        #expect(decode(manifestJSON(file("a/b") + "," + file("a/b"))) == .failure(.duplicatePath("a/b")))
        #expect(decode(manifestJSON(file("Game.exe") + "," + file("game.EXE"))) == .failure(.duplicatePath("game.EXE")))
        // Canonically equivalent Unicode (precomposed vs combining) is one file on macOS.
        #expect(decode(manifestJSON(file("caf\u{E9}") + "," + file("cafe\u{301}"))) == .failure(.duplicatePath("cafe\u{301}")))
        #expect(decode(manifestJSON(file("data") + "," + file("data/x"))) == .failure(.pathConflict("data", "data/x")))
        #expect(decode(manifestJSON(file("Data/x/y") + "," + file("data/X"))) == .failure(.pathConflict("data/X", "Data/x/y")))
    }

    @Test("hashes must be 64 hex digits", arguments: ["", "abc", String(hash.dropLast()), hash + "0", String(repeating: "g", count: 64), String(repeating: " ", count: 64)])
    func badHashes(sha: String) {
        #expect(decode(manifestJSON(file("a", sha: sha))) == .failure(.invalidHash("a")))
    }

    @Test("negative and oversized sizes, too many files and too large totals are refused")
    func sizes() {
        #expect(decode(manifestJSON(file("a", size: -1))) == .failure(.invalidSize("a")))
        #expect(decode(manifestJSON(file("a", size: (32 << 30) + 1))) == .failure(.invalidSize("a")))
        #expect(decode(manifestJSON(file("a", size: 1) + "," + file("b", size: 1)), limits: .init(maximumFileCount: 1)) == .failure(.tooManyFiles(limit: 1)))
        #expect(decode(manifestJSON(file("a", size: 6) + "," + file("b", size: 5)), limits: .init(maximumTotalSize: 10)) == .failure(.totalTooLarge(limit: 10)))
        // A size that does not fit 64 bits is not a number the decoder accepts.
        guard case .failure(.notJSON) = decode(manifestJSON(file("a").replacingOccurrences(of: "\"size\": 1", with: "\"size\": 99999999999999999999999"))) else {
            Issue.record("huge size accepted")
            return
        }
    }

    @Test("an over-large body is refused before parsing")
    func tooLarge() {
        let data = manifestJSON(file("a"), extra: "\"pad\": \"\(String(repeating: "x", count: 2000))\",")
        #expect(decode(data, limits: .init(maximumManifestBytes: 1000)) == .failure(.tooLarge(limit: 1000)))
    }

    @Test("versions name a folder, so they are held to a safe alphabet", arguments: ["\"\"", "\"../x\"", "\".hidden\"", "\"a/b\"", "\"a b\"", "\"\(String(repeating: "1", count: 65))\"", "1", "null"])
    func badVersions(version: String) {
        switch decode(manifestJSON(file("a"), version: version)) {
        case .failure(.invalidVersion), .failure(.notJSON): break
        default: Issue.record("accepted version \(version)")
        }
    }

    @Test("baseURL must be absolute http(s) without credentials", arguments: ["ftp://cdn.example.com/", "cdn.example.com/x", "https://user:pw@cdn.example.com/", "https:///x", "https://cdn.example.com/x?sig=1", "file:///etc"])
    func badBaseURL(base: String) {
        guard case .failure(.invalidBaseURL) = decode(manifestJSON(file("a"), extra: "\"baseURL\": \"\(base)\",")) else {
            Issue.record("accepted \(base)")
            return
        }
    }

    @Test("empty file lists, missing fields and non-JSON are refused")
    func structure() {
        #expect(decode(manifestJSON("")) == .failure(.noFiles))
        guard case .failure(.notJSON) = decode(Data("[]".utf8)) else {
            Issue.record("a JSON array accepted")
            return
        }
        guard case .failure(.notJSON(let detail)) = decode(Data("{\"version\": \"1\", \"files\": [{\"path\": \"a\", \"size\": 1}]}".utf8)) else {
            Issue.record("missing sha256 accepted")
            return
        }
        #expect(detail.contains("sha256"))
        guard case .failure(.notJSON) = decode(Data("not json".utf8)) else {
            Issue.record("garbage accepted")
            return
        }
    }

    @Test("encoding is deterministic and round-trips")
    func encoding() throws {
        let manifest = Manifest(
            version: "2.0", baseURL: "https://cdn.example.com/2.0/",
            files: [.init(path: "bin/game", size: 3, sha256: hash, executable: true), .init(path: "z", size: 0, sha256: hash)])
        let first = try manifest.encoded()
        #expect(try manifest.encoded() == first)
        #expect(try Manifest.decode(first) == manifest)
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.contains("\"baseURL\" : \"https://cdn.example.com/2.0/\""))  // no escaped slashes
        #expect(text.components(separatedBy: "executable").count == 2)  // only for the executable file
    }
}
