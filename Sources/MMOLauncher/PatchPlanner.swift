import Foundation

/// What the install folder is like, problems the launcher refuses to work around.
public enum InstallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A folder on the way to a manifest path is a symbolic link (writes could leave the
    /// install folder) or something else the launcher will not replace.
    case unsafePath(String, reason: String)
    /// Another launcher is working on this install.
    case locked(String)
    /// Files the state file lists do not match it (offline verification).
    case damaged([String])
    /// Patching is off and the install has never been patched.
    case notInstalled(String)

    public var description: String {
        switch self {
        case .unsafePath(let path, let reason): return "refusing to patch \(displayPath(path)): \(reason)"
        case .locked(let root): return "another launcher is updating \(displayPath(root)); try again when it has finished"
        case .damaged(let paths):
            let shown = paths.prefix(5).map(displayPath).joined(separator: ", ")
            return "installed files are damaged or changed: \(shown)\(paths.count > 5 ? " and \(paths.count - 5) more" : ""); run the launcher with patching on to repair them"
        case .notInstalled(let root): return "nothing is installed in \(displayPath(root)) and no manifest URL is configured"
        }
    }
}

/// The difference between a manifest and an install folder: what to download, what is already
/// right, what to remove after the swap.
public struct PatchPlan: Sendable, Equatable {
    /// One distinct content to download. Several manifest paths may share it.
    public struct Download: Sendable, Equatable {
        public var sha256: String
        public var size: Int64
        /// Manifest paths with this content; the first one is fetched.
        public var paths: [String]
        /// Bytes already in the `.part` file from an earlier, interrupted run.
        public var resumeFrom: Int64
    }

    public var version: String
    /// Live files whose content is right (hashed now, or trusted through the hash cache).
    public var upToDate: [String]
    /// Files already downloaded and verified in staging by an earlier run.
    public var staged: [String]
    public var downloads: [Download]
    /// Live files whose content is right but whose executable bit is not.
    public var modeFixes: [String]
    /// Files the previous version installed that this manifest no longer lists.
    public var removals: [String]
    /// Live files hashed during planning, with their fingerprints, for the new state file.
    var fingerprints: [String: (FileFingerprint, Int64)]

    /// Bytes still to fetch.
    public var bytesToDownload: Int64 { downloads.reduce(0) { $0 + $1.size - $1.resumeFrom } }

    /// True when the install already is this manifest's version, byte for byte.
    public var isUpToDate: Bool { downloads.isEmpty && staged.isEmpty && modeFixes.isEmpty && removals.isEmpty }

    public static func == (lhs: PatchPlan, rhs: PatchPlan) -> Bool {
        lhs.version == rhs.version && lhs.upToDate == rhs.upToDate && lhs.staged == rhs.staged && lhs.downloads == rhs.downloads
            && lhs.modeFixes == rhs.modeFixes && lhs.removals == rhs.removals
    }
}

/// Compares a manifest with an install folder. Reads and hashes files; writes nothing.
public struct PatchPlanner: Sendable {
    /// How much to trust the hash cache.
    public enum Verification: String, Sendable, CaseIterable {
        /// Hash a file only when its fingerprint changed since it was last hashed (or it is
        /// "racily" recent).
        case cached
        /// Hash every file.
        case full
    }

    public let layout: InstallLayout
    public let verification: Verification

    public init(layout: InstallLayout, verification: Verification = .cached) {
        self.layout = layout
        self.verification = verification
    }

    /// Plans the update of the install to `manifest` (already validated). Throws
    /// `InstallError.unsafePath` when the install has a link or file where the manifest needs a
    /// folder, before anything is written.
    public func plan(_ manifest: Manifest, state: InstallState?) throws -> PatchPlan {
        let wanted = Set(manifest.files.map(\.path))
        let removals = (state?.files.keys.filter { !wanted.contains($0) } ?? []).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let removalSet = Set(removals)
        var plan = PatchPlan(
            version: manifest.version, upToDate: [], staged: [], downloads: [], modeFixes: [], removals: [], fingerprints: [:])
        var downloadIndex: [String: Int] = [:]

        for file in manifest.files {
            try checkParents(of: file.path, removals: removalSet)
            let live = layout.livePath(file.path)
            if let info = try FS.info(live) {
                switch info.kind {
                case .regular:
                    if info.size == file.size, let fingerprint = try contentMatches(live, info: info, file: file, entry: state?.files[file.path]) {
                        plan.upToDate.append(file.path)
                        plan.fingerprints[file.path] = fingerprint
                        if info.isExecutable != file.executable { plan.modeFixes.append(file.path) }
                        continue
                    }
                case .symlink:
                    throw InstallError.unsafePath(file.path, reason: "it is a symbolic link in the install folder; the launcher never writes through links")
                case .directory:
                    // A folder where the new version has a file: fine only if everything in it
                    // was installed by the old version and is going away.
                    guard try folderHoldsOnlyRemovals(file.path, removals: removalSet) else {
                        throw InstallError.unsafePath(file.path, reason: "a folder with files the launcher did not install is where the new version has a file")
                    }
                case .other:
                    throw InstallError.unsafePath(file.path, reason: "a device, socket or pipe is in the way")
                }
            }
            // Staged by an earlier run of the same version?
            let staged = layout.stagedPath(version: manifest.version, path: file.path)
            if let info = try FS.info(staged), info.kind == .regular, info.size == file.size,
                try FS.sha256(ofFile: staged).hex == file.sha256
            {
                plan.staged.append(file.path)
                continue
            }
            if let index = downloadIndex[file.sha256] {
                plan.downloads[index].paths.append(file.path)
                continue
            }
            var resumeFrom: Int64 = 0
            if let part = try FS.info(layout.partPath(version: manifest.version, sha256: file.sha256)), part.kind == .regular,
                part.size <= file.size
            {
                resumeFrom = part.size
            }
            downloadIndex[file.sha256] = plan.downloads.count
            plan.downloads.append(.init(sha256: file.sha256, size: file.size, paths: [file.path], resumeFrom: resumeFrom))
        }
        plan.removals = try removals.filter { path in
            guard let info = try FS.info(layout.livePath(path)) else { return false }
            return info.kind == .regular || info.kind == .symlink
        }
        return plan
    }

    /// Verifies the install against its own state file, without a manifest (offline mode).
    /// Returns the paths that are missing or changed, and the fingerprints of the files found
    /// right.
    public func checkInstalled(state: InstallState) throws -> (damaged: [String], fingerprints: [String: (FileFingerprint, Int64)]) {
        var damaged: [String] = []
        var fingerprints: [String: (FileFingerprint, Int64)] = [:]
        for (path, entry) in state.files.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            let live = layout.livePath(path)
            let file = Manifest.File(path: path, size: entry.size, sha256: entry.sha256, executable: entry.executable)
            guard try layout.firstUnsafeParent(of: path) == nil, let info = try FS.info(live), info.kind == .regular,
                info.size == entry.size, let fingerprint = try contentMatches(live, info: info, file: file, entry: entry)
            else {
                damaged.append(path)
                continue
            }
            fingerprints[path] = fingerprint
        }
        return (damaged, fingerprints)
    }

    /// The fingerprint (and when it was taken) if the file has the manifest's content; nil if
    /// not.
    private func contentMatches(_ live: String, info: FileInfo, file: Manifest.File, entry: InstallState.Entry?) throws
        -> (FileFingerprint, Int64)?
    {
        if verification == .cached, InstallState.isTrusted(entry, info: info, sha256: file.sha256),
            let checkedAt = entry?.checkedAtNs
        {
            return (info.fingerprint, checkedAt)
        }
        let checkedAt = FS.now()
        let (hex, _) = try FS.sha256(ofFile: live)
        guard hex == file.sha256 else { return nil }
        // Changed while being read: the hash may describe neither version. Treat as changed.
        guard let after = try FS.info(live), after.fingerprint == info.fingerprint else { return nil }
        return (info.fingerprint, checkedAt)
    }

    private func checkParents(of path: String, removals: Set<String>) throws {
        guard let (prefix, kind) = try layout.firstUnsafeParent(of: path) else { return }
        switch kind {
        case .symlink:
            throw InstallError.unsafePath(prefix, reason: "it is a symbolic link in the install folder; the launcher never writes through links")
        case .regular where removals.contains(prefix):
            return  // an old file where the new version has a folder: removed before the swap
        default:
            throw InstallError.unsafePath(prefix, reason: "a file the launcher did not install is where the new version has a folder")
        }
    }

    private func folderHoldsOnlyRemovals(_ path: String, removals: Set<String>) throws -> Bool {
        for name in try FS.listDirectory(layout.livePath(path)) {
            let child = path + "/" + name
            guard let info = try FS.info(layout.livePath(child)) else { continue }
            switch info.kind {
            case .directory: if try !folderHoldsOnlyRemovals(child, removals: removals) { return false }
            case .regular: if !removals.contains(child) { return false }
            default: return false
            }
        }
        return true
    }
}
