import AsyncHTTPClient
import Foundation
import Synchronization
import Testing

@testable import MMOLauncher

/// One version of the game as the studio publishes it.
struct Release {
    var version: String
    var files: [String: (bytes: [UInt8], executable: Bool)]

    var manifest: Manifest {
        Manifest(
            version: version,
            files: files.keys.sorted().map { entry($0, files[$0]!.bytes, executable: files[$0]!.executable) })
    }
}

/// Serves `release` under `/<version>/` and returns its manifest URL.
private func publish(_ release: Release, on server: TestPatchServer, manifest: Manifest? = nil) throws -> String {
    for (path, file) in release.files { server.put("/\(release.version)/\(path)", file.bytes) }
    server.put("/\(release.version)/manifest.json", Array(try (manifest ?? release.manifest).encoded()))
    return "\(server.baseURL)/\(release.version)/manifest.json"
}

private func withServerAndClient<T>(_ body: (TestPatchServer, HTTPClient) async throws -> T) async throws -> T {
    let server = try await TestPatchServer.start()
    let client = Patcher.makeHTTPClient()
    do {
        let result = try await body(server, client)
        try await client.shutdown()
        await server.stop()
        return result
    } catch {
        try? await client.shutdown()
        await server.stop()
        throw error
    }
}

private func makePatcher(
    _ layout: InstallLayout, _ manifestURL: String, _ client: HTTPClient, retries: Int = 0,
    faults: (@Sendable (Patcher.FaultPoint) throws -> Void)? = nil
) -> Patcher {
    Patcher(
        layout: layout, options: PatchOptions(manifestURL: manifestURL, parallelDownloads: 2, retries: retries, retryDelay: .milliseconds(10)),
        client: client, output: .silent, logger: quietLogger, faults: faults)
}

/// Asserts the install holds exactly `release`'s files (content and executable bit) and its
/// state file names the version; no journal, no staging left.
private func expectInstalled(_ release: Release, in layout: InstallLayout, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (path, file) in release.files {
        #expect(readBytes(layout.livePath(path)) == file.bytes, "content of \(path)", sourceLocation: sourceLocation)
        let info = try #require(try FS.info(layout.livePath(path)), sourceLocation: sourceLocation)
        #expect(info.isExecutable == file.executable, "mode of \(path)", sourceLocation: sourceLocation)
    }
    #expect(InstallState.load(from: layout.statePath)?.version == release.version, sourceLocation: sourceLocation)
    #expect(!fileExists(layout.journalPath), sourceLocation: sourceLocation)
    #expect(!fileExists(layout.stagingRoot), sourceLocation: sourceLocation)
}

private struct InjectedCrash: Error {}

@Suite("Patching against a real HTTP server")
struct PatchServerTests {
    let v1 = Release(
        version: "1.0",
        files: [
            "bin/game": (testBytes(200_000, seed: 1), true),
            "data/common.pak": (testBytes(50_000, seed: 2), false),
            "data/old.pak": (testBytes(10_000, seed: 3), false),
            "readme.txt": (Array("version one\n".utf8), false),
        ])

    var v2: Release {
        Release(
            version: "2.0",
            files: [
                "bin/game": (testBytes(300_000, seed: 11), true),  // changed
                "data/common.pak": (testBytes(50_000, seed: 2), false),  // unchanged
                "data/new.pak": (testBytes(20_000, seed: 12), false),  // new
                "readme.txt": (Array("version two\n".utf8), false),  // changed, same size
            ])
    }

    @Test("a fresh install, then an update that fetches only what changed and removes what is gone")
    func installThenUpdate() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let report1 = try await makePatcher(layout, try publish(v1, on: server), client).update()
                #expect(report1.version == "1.0")
                try expectInstalled(v1, in: layout)

                server.clearSeen()
                let report2 = try await makePatcher(layout, try publish(v2, on: server), client).update()
                try expectInstalled(v2, in: layout)
                #expect(!fileExists(layout.livePath("data/old.pak")))
                #expect(report2.previousVersion == "1.0")
                #expect(Set(report2.updatedFiles) == ["bin/game", "data/new.pak", "readme.txt"])
                #expect(report2.removedFiles == ["data/old.pak"])
                let fetched = Set(server.seen.map(\.path))
                #expect(fetched == ["/2.0/manifest.json", "/2.0/bin/game", "/2.0/data/new.pak", "/2.0/readme.txt"])
                #expect(report2.downloadedBytes == 300_000 + 20_000 + 12)

                // Up to date now: a third run downloads nothing.
                server.clearSeen()
                let report3 = try await makePatcher(layout, try publish(v2, on: server), client).update()
                #expect(report3.updatedFiles.isEmpty)
                #expect(server.seen.map(\.path) == ["/2.0/manifest.json"])
            }
        }
    }

    @Test("an interrupted download is resumed by the next run with a Range request")
    func resumeAfterCut() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                _ = try await makePatcher(layout, try publish(v1, on: server), client).update()
                let url = try publish(v2, on: server)
                server.cut("/2.0/bin/game", after: 100_000)

                await #expect(throws: PatchError.self) { try await makePatcher(layout, url, client, retries: 0).update() }
                // The old version is still installed and intact.
                try #require(InstallState.load(from: layout.statePath)?.version == "1.0")
                for (path, file) in v1.files { #expect(readBytes(layout.livePath(path)) == file.bytes) }
                let part = layout.partPath(version: "2.0", sha256: sha256Hex(v2.files["bin/game"]!.bytes))
                let kept = try #require(try FS.info(part)).size
                #expect(kept > 0 && kept < 300_000, "a partial download is kept (\(kept) bytes)")

                server.clearSeen()
                _ = try await makePatcher(layout, url, client).update()
                try expectInstalled(v2, in: layout)
                let gameRequests = server.seen.filter { $0.path == "/2.0/bin/game" }
                #expect(gameRequests == [.init(path: "/2.0/bin/game", range: "bytes=\(kept)-")])
            }
        }
    }

    @Test("within one run, a cut download is retried from where it stopped")
    func retryWithinRun() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let url = try publish(v2, on: server)
                server.cut("/2.0/bin/game", after: 150_000)
                _ = try await makePatcher(layout, url, client, retries: 2).update()
                try expectInstalled(v2, in: layout)
                let ranges = server.seen.filter { $0.path == "/2.0/bin/game" }.map(\.range)
                #expect(ranges.count == 2)
                #expect(ranges.first == .some(nil))
                #expect(ranges.last??.hasPrefix("bytes=") == true)
            }
        }
    }

    @Test("a server that ignores Range makes the launcher restart that file, and the result is still right")
    func serverIgnoresRange() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let url = try publish(v2, on: server)
                server.cut("/2.0/bin/game", after: 100_000)
                await #expect(throws: PatchError.self) { try await makePatcher(layout, url, client).update() }
                server.setIgnoreRange(true)
                server.clearSeen()
                let report = try await makePatcher(layout, url, client).update()
                try expectInstalled(v2, in: layout)
                #expect(server.seen.first { $0.path == "/2.0/bin/game" }?.range?.hasPrefix("bytes=") == true)
                #expect(report.downloadedBytes >= 300_000, "the whole file came again")
            }
        }
    }

    @Test("a tampered installed file is detected and downloaded again")
    func tamperedFile() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let url = try publish(v1, on: server)
                _ = try await makePatcher(layout, url, client).update()
                // Same size, one byte flipped, in place.
                var bytes = v1.files["data/common.pak"]!.bytes
                bytes[1000] ^= 0x55
                let handle = try #require(FileHandle(forWritingAtPath: layout.livePath("data/common.pak")))
                try handle.write(contentsOf: Data(bytes))
                try handle.close()

                server.clearSeen()
                let report = try await makePatcher(layout, url, client).update()
                #expect(report.updatedFiles == ["data/common.pak"])
                #expect(server.seen.map(\.path) == ["/1.0/manifest.json", "/1.0/data/common.pak"])
                try expectInstalled(v1, in: layout)
            }
        }
    }

    @Test("content that does not match the manifest's hash is refused and the old install stays intact")
    func badHash() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                _ = try await makePatcher(layout, try publish(v1, on: server), client).update()
                let stateBefore = readBytes(layout.statePath)

                // The manifest promises one content for bin/game; the server has another.
                var lying = v2.manifest
                let index = lying.files.firstIndex { $0.path == "bin/game" }!
                lying.files[index].sha256 = sha256Hex(testBytes(300_000, seed: 999))
                let url = try publish(v2, on: server, manifest: lying)

                await #expect(throws: PatchError.integrity("bin/game")) { try await makePatcher(layout, url, client).update() }
                for (path, file) in v1.files { #expect(readBytes(layout.livePath(path)) == file.bytes, "\(path) untouched") }
                #expect(!fileExists(layout.livePath("data/new.pak")))
                #expect(readBytes(layout.statePath) == stateBefore)
                #expect(!fileExists(layout.journalPath))
                #expect(!fileExists(layout.partPath(version: "2.0", sha256: lying.files[index].sha256)), "the bad download is not kept")
            }
        }
    }

    @Test("a manifest with a traversal path is refused with nothing written")
    func traversalManifest() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let evil = Array("#!/bin/sh\necho pwned\n".utf8)
                server.put("/evil/x", evil)
                server.put("/evil/manifest.json", Array("""
                    {"version": "6.6.6", "files": [
                      {"path": "ok.txt", "size": 2, "sha256": "\(sha256Hex("ok"))"},
                      {"path": "../../.bashrc", "size": \(evil.count), "sha256": "\(sha256Hex(evil))"}
                    ]}
                    """.utf8))
                await #expect(throws: ManifestError.self) { try await makePatcher(layout, "\(server.baseURL)/evil/manifest.json", client).update() }
                #expect(listTree(layout.root) == [ManifestPath.lockFile], "nothing but the lock file")
                #expect(listTree(dir) == ["game", "game/" + ManifestPath.lockFile])
                #expect(server.seen.map(\.path) == ["/evil/manifest.json"])
            }
        }
    }

    @Test("a symlink in the install pointing outside is refused before anything is written")
    func symlinkRedirect() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: layout.livePath("data"), withDestinationPath: dir + "/elsewhere")
                await #expect(throws: InstallError.self) { try await makePatcher(layout, try publish(v1, on: server), client).update() }
                #expect(listTree(dir + "/elsewhere").isEmpty)
                #expect(!server.seen.contains { $0.path != "/1.0/manifest.json" }, "no file was downloaded")
            }
        }
    }

    @Test("errors from the patch server are reported as such: 404, over-large manifest, not JSON")
    func serverErrors() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                await #expect(throws: PatchError.self) { try await makePatcher(layout, "\(server.baseURL)/missing/manifest.json", client).update() }
                server.put("/big/manifest.json", [UInt8](repeating: 0x20, count: 5 << 20))
                await #expect(throws: ManifestError.tooLarge(limit: 4 << 20)) {
                    try await makePatcher(layout, "\(server.baseURL)/big/manifest.json", client).update()
                }
                server.put("/html/manifest.json", "<html>oops</html>")
                await #expect(throws: ManifestError.self) { try await makePatcher(layout, "\(server.baseURL)/html/manifest.json", client).update() }
                // A file the manifest lists but the server lacks.
                var release = v1
                let url = try publish(release, on: server)
                release.files["extra.bin"] = ([1, 2, 3], false)
                server.put("/1.0/manifest.json", Array(try release.manifest.encoded()))
                await #expect(throws: PatchError.self) { try await makePatcher(layout, url, client).update() }
                #expect(InstallState.load(from: layout.statePath) == nil, "nothing was installed")
            }
        }
    }

    @Test("a crash in the middle of the swap is finished by the next run, even without the patch server")
    func crashDuringSwap() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                _ = try await makePatcher(layout, try publish(v1, on: server), client).update()
                let url = try publish(v2, on: server)
                let crashing = makePatcher(layout, url, client) { point in
                    if point == .afterRename(0) { throw InjectedCrash() }
                }
                await #expect(throws: InjectedCrash.self) { try await crashing.update() }
                #expect(fileExists(layout.journalPath), "the journal marks the swap as in progress")

                // The next run finishes the swap before contacting anyone.
                let offline = makePatcher(layout, "\(server.baseURL)/unreachable/manifest.json", client)
                #expect(try offline.recoverInterruptedSwap())
                try expectInstalled(v2, in: layout)
                #expect(!fileExists(layout.livePath("data/old.pak")))
                // Recovered files are re-hashed on the next check, never trusted blindly.
                #expect(InstallState.load(from: layout.statePath)?.files.values.allSatisfy { $0.fingerprint == nil } == true)
                server.clearSeen()
                let report = try await makePatcher(layout, url, client).update()
                #expect(report.updatedFiles.isEmpty)
                #expect(server.seen.map(\.path) == ["/2.0/manifest.json"])
            }
        }
    }

    @Test("a crash after downloading but before the journal leaves the old version installed, and the next run reuses the downloads")
    func crashBeforeJournal() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                _ = try await makePatcher(layout, try publish(v1, on: server), client).update()
                let url = try publish(v2, on: server)
                let crashing = makePatcher(layout, url, client) { point in
                    if point == .beforeJournal { throw InjectedCrash() }
                }
                await #expect(throws: InjectedCrash.self) { try await crashing.update() }
                for (path, file) in v1.files { #expect(readBytes(layout.livePath(path)) == file.bytes) }
                #expect(InstallState.load(from: layout.statePath)?.version == "1.0")
                #expect(!fileExists(layout.journalPath))

                server.clearSeen()
                let report = try await makePatcher(layout, url, client).update()
                try expectInstalled(v2, in: layout)
                #expect(report.downloadedBytes == 0, "staged files were verified and reused")
                #expect(server.seen.map(\.path) == ["/2.0/manifest.json"])
            }
        }
    }

    @Test("a second launcher on the same install is turned away while the first holds the lock")
    func lock() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let held = try #require(try InstallLock(path: layout.lockPath))
                await #expect(throws: InstallError.locked(layout.root)) { try await makePatcher(layout, try publish(v1, on: server), client).update() }
                withExtendedLifetime(held) {}
            }
        }
    }

    @Test("files are fetched from baseURL when the manifest has one, with names percent-encoded")
    func baseURLAndEncoding() async throws {
        try await withTemporaryDirectory { dir in
            try await withServerAndClient { server, client in
                let layout = try InstallLayout(creating: dir + "/game")
                let odd = Release(version: "3", files: ["maps/100% #1.map": (testBytes(999, seed: 5), false)])
                var manifest = odd.manifest
                manifest.baseURL = "\(server.baseURL)/cdn/3"
                server.put("/cdn/3/maps/100% #1.map", odd.files["maps/100% #1.map"]!.bytes)
                server.put("/meta/manifest.json", Array(try manifest.encoded()))
                _ = try await makePatcher(layout, "\(server.baseURL)/meta/manifest.json", client).update()
                try expectInstalled(odd, in: layout)
                #expect(Patcher.fileURL(base: "https://c/x/", path: "maps/100% #1.map") == "https://c/x/maps/100%25%20%231.map")
            }
        }
    }

    @Test("plain HTTP manifests are refused except on loopback or when allowed")
    func insecureHTTP() throws {
        #expect(throws: PatchError.self) { try Patcher.checkedManifestURL("http://patch.example.com/m.json", allowInsecureHTTP: false) }
        #expect(throws: Never.self) { try Patcher.checkedManifestURL("http://patch.example.com/m.json", allowInsecureHTTP: true) }
        #expect(throws: Never.self) { try Patcher.checkedManifestURL("http://127.0.0.1:8080/m.json", allowInsecureHTTP: false) }
        #expect(throws: Never.self) { try Patcher.checkedManifestURL("http://[::1]:8080/m.json", allowInsecureHTTP: false) }
        #expect(throws: PatchError.self) { try Patcher.checkedManifestURL("ftp://patch.example.com/m.json", allowInsecureHTTP: true) }
        #expect(throws: PatchError.self) { try Patcher.checkedManifestURL("https://user:pw@patch.example.com/m.json", allowInsecureHTTP: false) }
        #expect(Patcher.parseContentRange("bytes 100-199/200")! == (100, 199, 200))
        #expect(Patcher.parseContentRange("bytes 100-199/*")! == (100, 199, nil))
        #expect(Patcher.parseContentRange("bytes 200-100/300") == nil)
    }
}
