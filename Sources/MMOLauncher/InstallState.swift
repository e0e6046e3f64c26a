import Foundation

/// Where the launcher keeps things inside an install folder.
///
/// ```
/// <install>/                         the game's files, exactly as the manifest lists them
/// <install>/.launcher-state.json     installed version, per-file size, hash and fingerprint
/// <install>/.launcher-journal.json   present only while a swap is being applied
/// <install>/.launcher.lock           flock'd while a launcher works on this install
/// <install>/.staging/<version>/parts/<sha256>.part   downloads in progress (resumable)
/// <install>/.staging/<version>/files/<path>          downloaded and verified, waiting for the swap
/// ```
///
/// Staging lives inside the install folder so that the swap is a `rename(2)` on one file system.
public struct InstallLayout: Sendable, Equatable {
    /// The install folder with symlinks resolved.
    public let root: String

    /// Resolves (and creates, if missing) the install folder.
    public init(creating directory: String) throws(FileSystemError) {
        var path = directory
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if !FS.exists(path) {
            // The root's own parents may be links (a games folder on another disk): they are
            // followed here, and only what is below the resolved root is held to "no links".
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw FileSystemError("create folder", path, code: 0, detail: "\(error.localizedDescription)")
            }
        }
        self.root = try FS.resolve(path)
        guard let info = try FS.info(root), info.kind == .directory else {
            throw FileSystemError("use", root, code: 0, detail: "it is not a folder")
        }
    }

    public var statePath: String { root + "/" + ManifestPath.stateFile }
    public var journalPath: String { root + "/" + ManifestPath.journalFile }
    public var lockPath: String { root + "/" + ManifestPath.lockFile }
    public var stagingRoot: String { root + "/" + ManifestPath.stagingFolder }

    public func stagingDirectory(version: String) -> String { stagingRoot + "/" + version }
    func partsDirectory(version: String) -> String { stagingDirectory(version: version) + "/parts" }
    func filesDirectory(version: String) -> String { stagingDirectory(version: version) + "/files" }
    public func partPath(version: String, sha256: String) -> String { partsDirectory(version: version) + "/" + sha256 + ".part" }
    public func stagedPath(version: String, path: String) -> String { filesDirectory(version: version) + "/" + path }
    public func livePath(_ path: String) -> String { root + "/" + path }

    /// Checks that no folder between the install root and `path` (a validated relative path) is
    /// a symlink or a file. Returns the first offending prefix and what it is.
    func firstUnsafeParent(of path: String) throws(FileSystemError) -> (prefix: String, kind: FileInfo.Kind)? {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            guard let info = try FS.info(livePath(prefix)) else { return nil }
            if info.kind != .directory { return (prefix, info.kind) }
        }
        return nil
    }
}

/// What the launcher knows about the install: the version it last installed and, per file, the
/// hash it verified and the file's fingerprint at that moment.
///
/// The hash cache: a file whose fingerprint (size, mtime, ctime, inode, device) is unchanged
/// since it was hashed is not hashed again, unless its ctime or mtime is within
/// `racyWindowNs` of the moment it was fingerprinted (a change in the same timestamp tick could
/// leave the fingerprint unchanged, the "racily clean" problem git has too). A tampered file
/// changes at least its ctime, which no unprivileged process can set back, so it is hashed
/// and found.
public struct InstallState: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var size: Int64
        public var sha256: String
        public var executable: Bool
        /// Nil when the file has not been fingerprinted since it was verified (after a crash
        /// recovery): the next check hashes it.
        public var fingerprint: FileFingerprint?
        /// When `fingerprint` was taken (ns since 1970).
        public var checkedAtNs: Int64?
    }

    public static let currentFormat = 1
    /// Two seconds: wider than any file system's timestamp granularity (FAT's is 2 s).
    static let racyWindowNs: Int64 = 2_000_000_000

    public var format: Int
    public var version: String
    public var files: [String: Entry]

    public init(version: String, files: [String: Entry]) {
        self.format = Self.currentFormat
        self.version = version
        self.files = files
    }

    /// Reads the state file; nil when it is missing or unreadable (then every file is hashed
    /// and nothing is removed, which is safe).
    static func load(from path: String) -> InstallState? {
        guard let data = try? FS.readFile(path, limit: 64 << 20),
            let state = try? JSONDecoder().decode(InstallState.self, from: data),
            state.format == currentFormat
        else { return nil }
        var clean = state
        // The state file is ours, but it sits in a user-writable folder: paths from it are
        // checked like manifest paths before they are used for removals.
        clean.files = state.files.filter { (try? ManifestPath.validate($0.key)) != nil }
        return clean
    }

    func save(to path: String) throws(FileSystemError) {
        try writeJSONAtomically(self, to: path)
    }

    /// Whether `info` may be trusted to still have `sha256` without reading the file.
    static func isTrusted(_ entry: Entry?, info: FileInfo, sha256: String) -> Bool {
        guard let entry, entry.sha256 == sha256, let fingerprint = entry.fingerprint, let checkedAt = entry.checkedAtNs,
            fingerprint == info.fingerprint
        else { return false }
        let lastChange = max(fingerprint.mtimeNs, fingerprint.ctimeNs)
        return checkedAt - lastChange > racyWindowNs
    }
}

/// The swap's write-ahead record: written (atomically, fsynced) once every new file is staged
/// and verified, deleted once the swap is complete. While it exists, the install is between two
/// versions and the next launcher run finishes the swap before doing anything else.
struct SwapJournal: Codable, Equatable {
    struct File: Codable, Equatable {
        var path: String
        var size: Int64
        var sha256: String
        var executable: Bool
    }

    static let currentFormat = 1

    var format = Self.currentFormat
    /// The version being installed (names the staging folder).
    var version: String
    /// Every file of the new version (becomes the new state).
    var files: [File]
    /// Paths staged in `.staging/<version>/files/`, renamed into place in this order.
    var renames: [String]
    /// Executable-bit fixes of files whose content was already right.
    var modeFixes: [String]
    /// Files of the old version that the new one no longer has.
    var removals: [String]

    static func load(from path: String) throws(FileSystemError) -> SwapJournal? {
        guard FS.exists(path) else { return nil }
        let data = try FS.readFile(path, limit: 64 << 20)
        guard let journal = try? JSONDecoder().decode(SwapJournal.self, from: data), journal.format == currentFormat,
            Manifest.isValidVersion(journal.version),
            journal.files.allSatisfy({ (try? ManifestPath.validate($0.path)) != nil }),
            (journal.renames + journal.modeFixes + journal.removals).allSatisfy({ (try? ManifestPath.validate($0)) != nil })
        else {
            throw FileSystemError("read", path, code: 0, detail: "the swap journal is damaged")
        }
        return journal
    }

    func save(to path: String) throws(FileSystemError) {
        try writeJSONAtomically(self, to: path)
    }
}

/// The state file and the swap journal are both written this way: stable key order (diffable),
/// then an atomic replace, so a crash never leaves half a file.
private func writeJSONAtomically(_ value: some Encodable, to path: String) throws(FileSystemError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data: Data
    do {
        data = try encoder.encode(value)
    } catch {
        throw FileSystemError("encode", path, code: 0, detail: "\(error)")
    }
    try FS.writeAtomically(data, to: path)
}
