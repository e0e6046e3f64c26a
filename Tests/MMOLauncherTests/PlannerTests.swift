import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import MMOLauncher

@Suite("Patch planning")
struct PlannerTests {
    let game = testBytes(5000, seed: 1)
    let data = testBytes(3000, seed: 2)
    let readme = Array("read me\n".utf8)

    @Test("a fresh install downloads everything, sharing one download between identical files")
    func freshInstall() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir + "/install")
            let manifest = Manifest(version: "1", files: [entry("bin/game", game, executable: true), entry("a.txt", readme), entry("copy/a.txt", readme)])
            let plan = try PatchPlanner(layout: layout).plan(manifest, state: nil)
            #expect(plan.upToDate.isEmpty)
            #expect(plan.downloads.count == 2)
            #expect(plan.downloads.first { $0.sha256 == sha256Hex(readme) }?.paths == ["a.txt", "copy/a.txt"])
            #expect(plan.bytesToDownload == Int64(game.count + readme.count))
            #expect(!plan.isUpToDate)
            #expect(listTree(layout.root).isEmpty, "planning writes nothing")
        }
    }

    @Test("only missing or different files are downloaded")
    func partialInstall() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/bin/game", game, executable: true)  // right
            var changed = data
            changed[10] ^= 0xFF
            try writeFile(dir + "/data.pak", changed)  // same size, different content
            try writeFile(dir + "/a.txt", "short")  // wrong size
            // "new.txt" is missing
            let manifest = Manifest(
                version: "2",
                files: [entry("bin/game", game, executable: true), entry("data.pak", data), entry("a.txt", readme), entry("new.txt", readme)])
            let plan = try PatchPlanner(layout: layout).plan(manifest, state: nil)
            #expect(plan.upToDate == ["bin/game"])
            #expect(Set(plan.downloads.flatMap(\.paths)) == ["data.pak", "a.txt", "new.txt"])
            #expect(plan.modeFixes.isEmpty)
        }
    }

    @Test("right content with the wrong executable bit is a mode fix, not a download")
    func modeFix() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/bin/game", game, executable: false)
            let plan = try PatchPlanner(layout: layout).plan(Manifest(version: "1", files: [entry("bin/game", game, executable: true)]), state: nil)
            #expect(plan.upToDate == ["bin/game"])
            #expect(plan.modeFixes == ["bin/game"])
            #expect(plan.downloads.isEmpty)
        }
    }

    @Test("files the old version installed and the new one drops are removed; files the launcher never installed are kept")
    func removals() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/old.dll", "old")
            try writeFile(dir + "/settings.ini", "player's own file")
            try writeFile(dir + "/a.txt", readme)
            let state = InstallState(
                version: "1",
                files: [
                    "old.dll": .init(size: 3, sha256: sha256Hex("old"), executable: false),
                    "gone-already.txt": .init(size: 1, sha256: sha256Hex("x"), executable: false),
                ])
            let plan = try PatchPlanner(layout: layout).plan(Manifest(version: "2", files: [entry("a.txt", readme)]), state: state)
            #expect(plan.removals == ["old.dll"])
            #expect(plan.upToDate == ["a.txt"])
        }
    }

    @Test("an interrupted download resumes from its .part file; a verified staged file is reused")
    func resumeAndStaged() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(layout.partPath(version: "2", sha256: sha256Hex(game)), Array(game.prefix(1234)))
            try writeFile(layout.stagedPath(version: "2", path: "data.pak"), data)
            try writeFile(layout.stagedPath(version: "2", path: "bad.pak"), testBytes(3000, seed: 99))  // damaged staging
            let manifest = Manifest(version: "2", files: [entry("bin/game", game), entry("data.pak", data), entry("bad.pak", data.reversed())])
            let plan = try PatchPlanner(layout: layout).plan(manifest, state: nil)
            #expect(plan.staged == ["data.pak"])
            #expect(plan.downloads.first { $0.paths == ["bin/game"] }?.resumeFrom == 1234)
            #expect(plan.downloads.first { $0.paths == ["bad.pak"] }?.resumeFrom == 0)
            #expect(plan.bytesToDownload == Int64(game.count - 1234 + data.count))
        }
    }

    @Test("a symlinked folder or file in the install is refused before anything is written")
    func symlinks() async throws {
        try await withTemporaryDirectory { dir in
            let outside = dir + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let layout = try InstallLayout(creating: dir + "/install")
            try FileManager.default.createSymbolicLink(atPath: layout.root + "/bin", withDestinationPath: outside)
            let manifest = Manifest(version: "1", files: [entry("bin/game", game)])
            #expect(throws: InstallError.self) { try PatchPlanner(layout: layout).plan(manifest, state: nil) }

            try FileManager.default.removeItem(atPath: layout.root + "/bin")
            try FileManager.default.createSymbolicLink(atPath: layout.root + "/game", withDestinationPath: outside + "/game")
            #expect(throws: InstallError.self) {
                try PatchPlanner(layout: layout).plan(Manifest(version: "1", files: [entry("game", game)]), state: nil)
            }
            #expect(listTree(outside).isEmpty)
        }
    }

    @Test("a foreign file where a folder is needed is refused; an old tracked one is planned for removal")
    func fileFolderClash() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/data", "old file")
            let manifest = Manifest(version: "2", files: [entry("data/x.pak", data)])
            #expect(throws: InstallError.self) { try PatchPlanner(layout: layout).plan(manifest, state: nil) }
            let state = InstallState(version: "1", files: ["data": .init(size: 8, sha256: sha256Hex("old file"), executable: false)])
            let plan = try PatchPlanner(layout: layout).plan(manifest, state: state)
            #expect(plan.removals == ["data"])
            #expect(plan.downloads.map(\.paths) == [["data/x.pak"]])
        }
    }

    @Test("the hash cache skips hashing an unchanged file, but not in full mode and not when the fingerprint is racy")
    func hashCache() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            // The file on disk is NOT the manifest's content; only a trusted cache entry can make
            // the planner call it up to date, which proves the cache is what decided.
            try writeFile(dir + "/data.pak", testBytes(data.count, seed: 7))
            let info = try #require(try FS.info(dir + "/data.pak"))
            let lastChange = max(info.fingerprint.mtimeNs, info.fingerprint.ctimeNs)
            func state(checkedAt: Int64) -> InstallState {
                InstallState(version: "1", files: ["data.pak": .init(size: Int64(data.count), sha256: sha256Hex(data), executable: false, fingerprint: info.fingerprint, checkedAtNs: checkedAt)])
            }
            let manifest = Manifest(version: "1", files: [entry("data.pak", data)])
            let trusted = try PatchPlanner(layout: layout).plan(manifest, state: state(checkedAt: lastChange + 3_000_000_000))
            #expect(trusted.upToDate == ["data.pak"])
            let full = try PatchPlanner(layout: layout, verification: .full).plan(manifest, state: state(checkedAt: lastChange + 3_000_000_000))
            #expect(full.downloads.map(\.paths) == [["data.pak"]])
            let racy = try PatchPlanner(layout: layout).plan(manifest, state: state(checkedAt: lastChange + 1_000_000_000))
            #expect(racy.downloads.map(\.paths) == [["data.pak"]])
        }
    }

    @Test("a tampered file is found even when its size and mtime are put back")
    func tamperWithMtimeReset() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/data.pak", data)
            let before = try #require(try FS.info(dir + "/data.pak"))
            let state = InstallState(version: "1", files: ["data.pak": .init(size: Int64(data.count), sha256: sha256Hex(data), executable: false, fingerprint: before.fingerprint, checkedAtNs: max(before.fingerprint.ctimeNs, before.fingerprint.mtimeNs) + 3_000_000_000)])
            try await Task.sleep(for: .milliseconds(20))  // let the coarse file clock tick
            var tampered = data
            tampered[0] ^= 1
            // In place (same inode), same size, then mtime set back: only ctime tells.
            let handle = try #require(FileHandle(forWritingAtPath: dir + "/data.pak"))
            try handle.write(contentsOf: Data(tampered))
            try handle.close()
            var times = [
                timespec(tv_sec: Int(before.fingerprint.mtimeNs / 1_000_000_000), tv_nsec: Int(before.fingerprint.mtimeNs % 1_000_000_000)),
                timespec(tv_sec: Int(before.fingerprint.mtimeNs / 1_000_000_000), tv_nsec: Int(before.fingerprint.mtimeNs % 1_000_000_000)),
            ]
            #expect(utimensat(AT_FDCWD, dir + "/data.pak", &times, 0) == 0)
            let after = try #require(try FS.info(dir + "/data.pak"))
            #expect(after.fingerprint.inode == before.fingerprint.inode)
            #expect(after.fingerprint.mtimeNs == before.fingerprint.mtimeNs)
            #expect(after.fingerprint.size == before.fingerprint.size)
            #expect(after.fingerprint.ctimeNs != before.fingerprint.ctimeNs)
            let plan = try PatchPlanner(layout: layout).plan(Manifest(version: "1", files: [entry("data.pak", data)]), state: state)
            #expect(plan.downloads.map(\.paths) == [["data.pak"]])
        }
    }

    @Test("offline verification reports damaged and missing files")
    func offlineCheck() async throws {
        try await withTemporaryDirectory { dir in
            let layout = try InstallLayout(creating: dir)
            try writeFile(dir + "/a.txt", readme)
            try writeFile(dir + "/b.txt", "changed")
            let state = InstallState(
                version: "1",
                files: [
                    "a.txt": .init(size: Int64(readme.count), sha256: sha256Hex(readme), executable: false),
                    "b.txt": .init(size: 7, sha256: sha256Hex("origin!"), executable: false),
                    "c.txt": .init(size: 1, sha256: sha256Hex("c"), executable: false),
                ])
            let result = try PatchPlanner(layout: layout).checkInstalled(state: state)
            #expect(result.damaged == ["b.txt", "c.txt"])
            #expect(Array(result.fingerprints.keys) == ["a.txt"])
        }
    }
}
