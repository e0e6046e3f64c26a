import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A patch server problem: unreachable, an HTTP error, content that does not match the
/// manifest. URLs are shown without their query (which may carry a CDN signature).
public enum PatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The manifest URL or `baseURL` is not usable.
    case invalidURL(String, reason: String)
    /// Plain HTTP for the manifest, which would let anyone on the network choose what runs.
    case insecureURL(String)
    /// Network failure or an HTTP error status.
    case server(String, reason: String)
    /// The server sent more or fewer bytes than the manifest says.
    case sizeMismatch(String)
    /// The downloaded content does not have the manifest's hash.
    case integrity(String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "the patch URL \(url) is not usable: \(reason)"
        case .insecureURL(let url):
            return "refusing to fetch the manifest over plain HTTP from \(url): use https, or set allowInsecureHTTP for a test server"
        case .server(let url, let reason): return "the patch server failed for \(url): \(reason)"
        case .sizeMismatch(let path): return "the patch server sent a different size than the manifest for \(displayPath(path))"
        case .integrity(let path):
            return "the downloaded \(displayPath(path)) does not match the manifest's SHA-256; nothing was installed (the patch server's files or manifest are wrong, or the download was altered)"
        }
    }
}

/// How to patch: where the manifest is and how hard to try.
public struct PatchOptions: Sendable {
    /// The manifest's http(s) URL.
    public var manifestURL: String
    public var limits: ManifestLimits
    public var verification: PatchPlanner.Verification
    /// Downloads in flight at once.
    public var parallelDownloads: Int
    /// Extra attempts per file after a network failure; each resumes where the last stopped.
    public var retries: Int
    /// Delay before the first retry, doubled for each further one.
    public var retryDelay: Duration
    /// Allows a plain-HTTP manifest URL on a non-loopback host.
    public var allowInsecureHTTP: Bool
    /// Time allowed from a request to its response head; the body has an idle timeout instead
    /// (the HTTP client's read timeout), so a large file may take as long as it needs.
    public var responseTimeout: TimeAmount

    public init(
        manifestURL: String,
        limits: ManifestLimits = .default,
        verification: PatchPlanner.Verification = .cached,
        parallelDownloads: Int = 4,
        retries: Int = 3,
        retryDelay: Duration = .seconds(1),
        allowInsecureHTTP: Bool = false,
        responseTimeout: TimeAmount = .seconds(30)
    ) {
        self.manifestURL = manifestURL
        self.limits = limits
        self.verification = verification
        self.parallelDownloads = max(1, parallelDownloads)
        self.retries = max(0, retries)
        self.retryDelay = retryDelay
        self.allowInsecureHTTP = allowInsecureHTTP
        self.responseTimeout = responseTimeout
    }
}

/// What an update did.
public struct PatchReport: Sendable, Equatable {
    public var version: String
    public var previousVersion: String?
    /// Manifest paths whose file was replaced or created.
    public var updatedFiles: [String]
    public var removedFiles: [String]
    /// Bytes fetched over the network by this run.
    public var downloadedBytes: Int64
    /// An earlier run's swap was finished first.
    public var recoveredInterruptedSwap: Bool
}

/// Brings an install folder to the version a manifest describes.
///
/// The update is crash-safe at every point:
/// 1. new files are downloaded to `.staging/<version>/parts/<sha256>.part` (resumable with
///    `Range`), hashed while written, and moved to `.staging/<version>/files/<path>` once
///    their SHA-256 matches; nothing in the live install changes;
/// 2. when every new file is staged and verified, the swap journal is written atomically;
/// 3. staged files are renamed over the live ones (`rename(2)`, atomic per file), then old
///    files are removed, the state file is written, and the journal is deleted.
///
/// A crash before step 2 leaves the old install untouched (the next run reuses what was
/// downloaded); a crash after it is finished by the next run before anything else, because
/// the journal names every rename and every staged file is already verified.
public final class Patcher: Sendable {
    /// Places where a test can make the patcher stop as if the process had died.
    enum FaultPoint: Equatable, Sendable {
        case beforeJournal
        case afterRename(Int)
    }

    public let layout: InstallLayout
    public let options: PatchOptions
    private let client: HTTPClient
    private let output: ProgressOutput
    private let logger: Logger
    let faults: (@Sendable (FaultPoint) throws -> Void)?

    /// `client` is the caller's: the patcher never shuts it down.
    public convenience init(layout: InstallLayout, options: PatchOptions, client: HTTPClient, output: ProgressOutput, logger: Logger) {
        self.init(layout: layout, options: options, client: client, output: output, logger: logger, faults: nil)
    }

    init(
        layout: InstallLayout, options: PatchOptions, client: HTTPClient, output: ProgressOutput, logger: Logger,
        faults: (@Sendable (FaultPoint) throws -> Void)?
    ) {
        self.layout = layout
        self.options = options
        self.client = client
        self.output = output
        self.logger = logger
        self.faults = faults
    }

    /// An HTTP client configured for patching: connect and idle-read timeouts, a few redirects,
    /// no decompression (hashes are over the bytes as served). Shut it down after use.
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10), read: .seconds(30)),
            decompression: .disabled)
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    // MARK: - Update

    /// Updates the install: finishes an interrupted swap, fetches and validates the manifest,
    /// downloads what is missing or different, verifies it and swaps it in.
    public func update() async throws -> PatchReport {
        guard let lock = try InstallLock(path: layout.lockPath) else { throw InstallError.locked(layout.root) }
        defer { withExtendedLifetime(lock) {} }

        let recovered = try recoverInterruptedSwap()
        let manifestURL = try Self.checkedManifestURL(options.manifestURL, allowInsecureHTTP: options.allowInsecureHTTP)
        let manifest = try await fetchManifest(manifestURL)
        let base = try Self.fileBaseURL(manifest: manifest, manifestURL: manifestURL)
        let state = InstallState.load(from: layout.statePath)
        try removeOtherStagingFolders(keeping: manifest.version)

        let plan = try PatchPlanner(layout: layout, verification: options.verification).plan(manifest, state: state)
        if plan.isUpToDate {
            // Still refresh the state: new fingerprints save hashing next time.
            try makeState(manifest: manifest, plan: plan).save(to: layout.statePath)
            try? FS.removeTree(layout.stagingRoot)
            logger.info("install is up to date", metadata: ["version": "\(manifest.version)"])
            return PatchReport(
                version: manifest.version, previousVersion: state?.version, updatedFiles: [], removedFiles: [],
                downloadedBytes: 0, recoveredInterruptedSwap: recovered)
        }

        let fileCount = plan.downloads.reduce(0) { $0 + $1.paths.count }
        output.write(
            "launcher: updating \(state?.version ?? "a new install") to \(manifest.version): \(fileCount) file(s) to download (\(TransferProgress.formatBytes(plan.bytesToDownload))), \(plan.removals.count) to remove\n"
        )
        let downloaded = try await downloadAll(plan, manifest: manifest, base: base)

        // Everything the new version needs is now either live and verified, or staged and
        // verified. Commit.
        try faults?(.beforeJournal)
        let byPath = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0) })
        let renames = (plan.downloads.flatMap(\.paths) + plan.staged).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let journal = SwapJournal(
            version: manifest.version,
            files: manifest.files.map { .init(path: $0.path, size: $0.size, sha256: $0.sha256, executable: $0.executable) },
            renames: renames, modeFixes: plan.modeFixes, removals: plan.removals)
        for path in renames {
            try FS.setMode(layout.stagedPath(version: manifest.version, path: path), executable: byPath[path]?.executable ?? false)
        }
        try journal.save(to: layout.journalPath)
        try apply(journal, plan: plan)
        return PatchReport(
            version: manifest.version, previousVersion: state?.version, updatedFiles: renames, removedFiles: plan.removals,
            downloadedBytes: downloaded, recoveredInterruptedSwap: recovered)
    }

    /// Offline check, for a launch with patching off: every file the state file lists must be
    /// there with its recorded hash. Also finishes an interrupted swap.
    public func verifyInstalled() throws -> String {
        guard let lock = try InstallLock(path: layout.lockPath) else { throw InstallError.locked(layout.root) }
        defer { withExtendedLifetime(lock) {} }
        _ = try recoverInterruptedSwap()
        guard var state = InstallState.load(from: layout.statePath) else { throw InstallError.notInstalled(layout.root) }
        let planner = PatchPlanner(layout: layout, verification: options.verification)
        let (damaged, fingerprints) = try planner.checkInstalled(state: state)
        guard damaged.isEmpty else { throw InstallError.damaged(damaged) }
        // Record fingerprints of files hashed just now, so the next check can skip them.
        for (path, (fingerprint, checkedAt)) in fingerprints {
            state.files[path]?.fingerprint = fingerprint
            state.files[path]?.checkedAtNs = checkedAt
        }
        try state.save(to: layout.statePath)
        return state.version
    }

    // MARK: - Manifest

    static func checkedManifestURL(_ text: String, allowInsecureHTTP: Bool) throws -> URL {
        guard text.utf8.count <= 2048, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), let url = URL(string: text),
            let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else { throw PatchError.invalidURL(redacted(text), reason: "it must be an absolute http or https URL") }
        guard url.user == nil, url.password == nil else {
            throw PatchError.invalidURL(redacted(text), reason: "it must not contain a user name or password")
        }
        switch scheme {
        case "https": break
        case "http":
            guard allowInsecureHTTP || isLoopback(host) else { throw PatchError.insecureURL(redacted(text)) }
        default: throw PatchError.invalidURL(redacted(text), reason: "only http and https are supported")
        }
        return url
    }

    /// Loopback hosts cannot be intercepted off the machine, so plain HTTP is allowed there
    /// (local test servers).
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || (ServerAddress.isIPv4Literal(bare) && bare.hasPrefix("127."))
    }

    /// `scheme://host/path` without query or fragment, for messages.
    static func redacted(_ text: String) -> String {
        let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? text.endIndex
        return String(reflecting: String(text[..<cut].prefix(200)))
    }

    private func fetchManifest(_ url: URL) async throws -> Manifest {
        let display = Self.redacted(url.absoluteString)
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: options.responseTimeout, logger: logger)
        } catch {
            throw PatchError.server(display, reason: Self.describe(error))
        }
        guard response.status == .ok else {
            throw PatchError.server(display, reason: "HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        // A redirect must not downgrade the manifest to plain HTTP.
        if let final = response.url, final.scheme?.lowercased() != "https", url.scheme?.lowercased() == "https" {
            throw PatchError.insecureURL(Self.redacted(final.absoluteString))
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: options.limits.maximumManifestBytes)
        } catch is NIOTooManyBytesError {
            throw ManifestError.tooLarge(limit: options.limits.maximumManifestBytes)
        } catch {
            throw PatchError.server(display, reason: Self.describe(error))
        }
        return try Manifest.decode(Data(body.readableBytesView), limits: options.limits)
    }

    /// Where files are fetched from: the manifest's `baseURL`, or the manifest URL's folder.
    /// Always ends with `/`.
    static func fileBaseURL(manifest: Manifest, manifestURL: URL) throws -> String {
        var base: String
        if let explicit = manifest.baseURL {
            base = explicit
        } else {
            let text = manifestURL.absoluteString
            let withoutQuery = text[..<(text.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? text.endIndex)]
            guard let slash = withoutQuery.lastIndex(of: "/") else {
                throw PatchError.invalidURL(redacted(text), reason: "it has no path")
            }
            base = String(withoutQuery[...slash])
        }
        if !base.hasSuffix("/") { base += "/" }
        return base
    }

    /// `base` + each path component percent-encoded (everything but RFC 3986 unreserved
    /// characters), so a file named `a#b` or `100%` is fetched as itself.
    static func fileURL(base: String, path: String) -> String {
        base
            + path.split(separator: "/").map { component in
                var encoded = ""
                for byte in component.utf8 {
                    if isASCIIAlphanumeric(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E {
                        encoded.append(Character(Unicode.Scalar(byte)))
                    } else {
                        encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                    }
                }
                return encoded
            }.joined(separator: "/")
    }

    // MARK: - Download

    private func removeOtherStagingFolders(keeping version: String) throws {
        guard let info = try FS.info(layout.stagingRoot) else { return }
        guard info.kind == .directory else {
            // Not ours (a link would redirect downloads outside the install): drop the entry.
            try FS.removeFile(layout.stagingRoot)
            return
        }
        for name in try FS.listDirectory(layout.stagingRoot) where name != version {
            try FS.removeTree(layout.stagingRoot + "/" + name)
        }
    }

    private func downloadAll(_ plan: PatchPlan, manifest: Manifest, base: String) async throws -> Int64 {
        guard !plan.downloads.isEmpty else { return 0 }
        try FS.makeDirectories(ManifestPath.stagingFolder + "/" + manifest.version + "/parts", under: layout.root)
        try FS.makeDirectories(ManifestPath.stagingFolder + "/" + manifest.version + "/files", under: layout.root)
        let total = plan.downloads.reduce(0) { $0 + $1.size }
        let resumed = plan.downloads.reduce(0) { $0 + $1.resumeFrom }
        let progress = TransferProgress(total: total, alreadyDone: resumed, output: output)
        let version = manifest.version
        let limit = options.parallelDownloads
        let fetched = try await withThrowingTaskGroup(of: Int64.self) { group in
            var pending = plan.downloads[...]
            var fetched: Int64 = 0
            for _ in 0..<limit {
                guard let item = pending.popFirst() else { break }
                group.addTask { try await self.download(item, version: version, base: base, progress: progress) }
            }
            while let bytes = try await group.next() {
                fetched += bytes
                if let item = pending.popFirst() {
                    group.addTask { try await self.download(item, version: version, base: base, progress: progress) }
                }
            }
            return fetched
        }
        progress.finish()
        return fetched
    }

    /// A failure worth another attempt: the bytes written so far stay in the `.part` file.
    private struct RetryableFailure: Error {
        var reason: String
    }

    /// Downloads one content to its `.part` file (resuming it), verifies it and stages it at
    /// every path that has it. Returns the bytes fetched over the network.
    private func download(_ item: PatchPlan.Download, version: String, base: String, progress: TransferProgress) async throws -> Int64 {
        let part = layout.partPath(version: version, sha256: item.sha256)
        let url = Self.fileURL(base: base, path: item.paths[0])
        var fetched: Int64 = 0
        var attempt = 0
        while true {
            do {
                try await fetchOnce(item, url: url, part: part, progress: progress, fetched: &fetched)
                break
            } catch let failure as RetryableFailure {
                guard attempt < options.retries else { throw PatchError.server(Self.redacted(url), reason: failure.reason) }
                let delay = options.retryDelay * (1 << min(attempt, 6))
                logger.notice("download interrupted, retrying", metadata: ["path": "\(item.paths[0])", "reason": "\(failure.reason)"])
                attempt += 1
                try await Task.sleep(for: delay)
            }
        }
        try stage(item, part: part, version: version)
        return fetched
    }

    private func fetchOnce(_ item: PatchPlan.Download, url: String, part: String, progress: TransferProgress, fetched: inout Int64) async throws {
        var hasher = SHA256()
        var offset: Int64 = 0
        if let info = try FS.info(part) {
            if info.kind == .regular && info.size <= item.size {
                offset = try FS.feed(part, into: &hasher, limit: info.size)
            } else {
                try FS.removeFile(part)
            }
        }
        if offset == item.size {
            if hasher.finalize().hexString == item.sha256 { return }
            // A complete part with the wrong content (a damaged earlier download): start over.
            try restart(part, progress: progress, discarding: offset)
            offset = 0
            hasher = SHA256()
        }

        var request = HTTPClientRequest(url: url)
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: options.responseTimeout, logger: logger)
        } catch {
            throw RetryableFailure(reason: Self.describe(error))
        }
        switch response.status.code {
        case 200:
            if offset > 0 {
                // The server ignored Range and sent the whole file: take it from the start.
                logger.notice("server ignored Range, restarting the file", metadata: ["path": "\(item.paths[0])"])
                try restart(part, progress: progress, discarding: offset)
                offset = 0
                hasher = SHA256()
            }
        case 206 where offset > 0:
            guard let range = response.headers.first(name: "Content-Range").flatMap(Self.parseContentRange),
                range.start == offset, range.total == nil || range.total == item.size
            else {
                try restart(part, progress: progress, discarding: offset)
                throw RetryableFailure(reason: "the server answered with a different range than asked")
            }
        case 416:
            try restart(part, progress: progress, discarding: offset)
            throw RetryableFailure(reason: "the server refused the resume range")
        case 408, 429, 500...599:
            throw RetryableFailure(reason: "HTTP \(response.status.code) \(response.status.reasonPhrase)")
        default:
            throw PatchError.server(Self.redacted(url), reason: "HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }), offset + length != item.size {
            // The server's file is not the manifest's: what is in the part is suspect too.
            try restart(part, progress: progress, discarding: offset)
            throw PatchError.sizeMismatch(item.paths[0])
        }

        let fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (offset == 0 ? O_TRUNC : 0), 0o644)
        if fd < 0 { throw FileSystemError("create", part) }
        var closed = false
        defer { if !closed { close(fd) } }
        var written = offset
        var iterator = response.body.makeAsyncIterator()
        while true {
            let next: ByteBuffer?
            do {
                next = try await iterator.next()
            } catch {
                throw RetryableFailure(reason: Self.describe(error))
            }
            guard let buffer = next else { break }
            let count = buffer.readableBytes
            guard written + Int64(count) <= item.size else {
                close(fd)
                closed = true
                try restart(part, progress: progress, discarding: written)
                throw PatchError.sizeMismatch(item.paths[0])
            }
            try buffer.withUnsafeReadableBytes { raw in
                try FS.writeAll(fd, raw, path: part)
                hasher.update(bufferPointer: raw)
            }
            written += Int64(count)
            fetched += Int64(count)
            progress.add(count)
        }
        if fsync(fd) != 0 { throw FileSystemError("flush", part) }
        close(fd)
        closed = true
        guard written == item.size else { throw RetryableFailure(reason: "the connection closed after \(written) of \(item.size) bytes") }
        guard hasher.finalize().hexString == item.sha256 else {
            try restart(part, progress: progress, discarding: written)
            throw PatchError.integrity(item.paths[0])
        }
    }

    private func restart(_ part: String, progress: TransferProgress, discarding bytes: Int64) throws {
        try FS.removeFile(part)
        progress.rewind(bytes)
    }

    /// Moves a verified part to `files/<path>` for its first path and copies it for the others
    /// (copies, not hard links: paths may differ in their executable bit).
    private func stage(_ item: PatchPlan.Download, part: String, version: String) throws {
        for (index, path) in item.paths.enumerated().reversed() {
            let staged = layout.stagedPath(version: version, path: path)
            try FS.makeDirectories(
                ManifestPath.stagingFolder + "/" + version + "/files/" + FS.parentDirectory(of: "/" + path).dropFirst(),
                under: layout.root)
            if index == 0 {
                try FS.rename(part, to: staged)
            } else {
                try FS.copyFile(part, to: staged + ".tmp")
                try FS.rename(staged + ".tmp", to: staged)
            }
        }
    }

    /// `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
    static func parseContentRange(_ value: String) -> (start: Int64, end: Int64, total: Int64?)? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst(6)
        let halves = spec.split(separator: "/", maxSplits: 1)
        guard halves.count == 2 else { return nil }
        let bounds = halves[0].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let start = Int64(bounds[0]), let end = Int64(bounds[1]), start <= end else { return nil }
        if halves[1] == "*" { return (start, end, nil) }
        guard let total = Int64(halves[1]) else { return nil }
        return (start, end, total)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            return "\(error)"
        }
        return String(describing: error)
    }

    // MARK: - Swap

    /// Finishes a swap an earlier run started (its journal exists). Returns whether there was
    /// one. Call with the install lock held.
    func recoverInterruptedSwap() throws -> Bool {
        let journal: SwapJournal?
        do {
            journal = try SwapJournal.load(from: layout.journalPath)
        } catch {
            // Written atomically, so this is outside damage. Dropping it is safe: the next plan
            // hashes the files again and downloads whatever is not the new version.
            logger.warning("ignoring a damaged swap journal", metadata: ["error": "\(error)"])
            try FS.removeFile(layout.journalPath)
            return false
        }
        guard let journal else { return false }
        output.write("launcher: finishing the interrupted update to \(journal.version)\n")
        try apply(journal, plan: nil)
        return true
    }

    /// Applies a journal: renames, mode fixes, removals, new state, then deletes the journal and
    /// the staging folder. Idempotent, so it can be re-run after a crash at any point inside it.
    /// `plan` is nil when recovering (then no fingerprint is trusted: the next check hashes).
    private func apply(_ journal: SwapJournal, plan: PatchPlan?) throws {
        let removals = Set(journal.removals)
        var touched = Set<String>()
        for (index, path) in journal.renames.enumerated() {
            let staged = layout.stagedPath(version: journal.version, path: path)
            guard let info = try FS.info(staged), info.kind == .regular else { continue }  // moved before the crash
            try prepareTarget(path, removals: removals)
            let live = layout.livePath(path)
            try FS.rename(staged, to: live)
            touched.insert(FS.parentDirectory(of: live))
            try faults?(.afterRename(index))
        }
        for path in journal.modeFixes {
            let executable = journal.files.first { $0.path == path }?.executable ?? false
            if let info = try FS.info(layout.livePath(path)), info.kind == .regular { try FS.setMode(layout.livePath(path), executable: executable) }
        }
        for directory in touched { FS.syncDirectory(directory) }
        for path in journal.removals { try remove(path) }

        let now = FS.now()
        var entries: [String: InstallState.Entry] = [:]
        let changed = Set(journal.renames + journal.modeFixes)
        for file in journal.files {
            var entry = InstallState.Entry(size: file.size, sha256: file.sha256, executable: file.executable, fingerprint: nil, checkedAtNs: nil)
            if let plan {
                if !changed.contains(file.path), let (fingerprint, checkedAt) = plan.fingerprints[file.path] {
                    entry.fingerprint = fingerprint
                    entry.checkedAtNs = checkedAt
                } else if let info = try FS.info(layout.livePath(file.path)), info.kind == .regular {
                    // Just verified in staging and renamed: its content is known.
                    entry.fingerprint = info.fingerprint
                    entry.checkedAtNs = now
                }
            }
            entries[file.path] = entry
        }
        try InstallState(version: journal.version, files: entries).save(to: layout.statePath)
        try FS.removeFile(layout.journalPath)
        FS.syncDirectory(layout.root)
        try FS.removeTree(layout.stagingRoot)
    }

    /// Makes the folders above `path` and clears the way for it: an old file where a folder is
    /// now needed, or an old folder where a file is, when the old version's removals cover it.
    private func prepareTarget(_ path: String, removals: Set<String>) throws {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            let live = layout.livePath(prefix)
            if let info = try FS.info(live) {
                switch info.kind {
                case .directory: continue
                case .regular where removals.contains(prefix): try FS.removeFile(live)
                default: throw InstallError.unsafePath(prefix, reason: "it is not a folder the launcher can write into")
                }
            }
            try FS.makeDirectory(live)
        }
        let live = layout.livePath(path)
        if let info = try FS.info(live), info.kind == .directory {
            try clearFolder(path, removals: removals)
        }
    }

    /// Removes a folder that holds only files of the old version that are going away.
    private func clearFolder(_ path: String, removals: Set<String>) throws {
        for name in try FS.listDirectory(layout.livePath(path)) {
            let child = path + "/" + name
            guard let info = try FS.info(layout.livePath(child)) else { continue }
            switch info.kind {
            case .directory: try clearFolder(child, removals: removals)
            case .regular where removals.contains(child): try FS.removeFile(layout.livePath(child))
            default: throw InstallError.unsafePath(path, reason: "a folder with files the launcher did not install is in the way")
            }
        }
        if rmdir(layout.livePath(path)) != 0 { throw FileSystemError("remove folder", layout.livePath(path)) }
    }

    /// Removes an old file, never through a link, and prunes folders it leaves empty.
    private func remove(_ path: String) throws {
        guard try layout.firstUnsafeParent(of: path) == nil else { return }
        try FS.removeFile(layout.livePath(path))
        var parent = FS.parentDirectory(of: path)
        while parent != "." && parent != "/" && !parent.isEmpty {
            guard FS.removeDirectoryIfEmpty(layout.livePath(parent)) else { break }
            parent = FS.parentDirectory(of: parent)
        }
    }

    private func makeState(manifest: Manifest, plan: PatchPlan) -> InstallState {
        var entries: [String: InstallState.Entry] = [:]
        for file in manifest.files {
            let known = plan.fingerprints[file.path]
            entries[file.path] = .init(
                size: file.size, sha256: file.sha256, executable: file.executable, fingerprint: known?.0, checkedAtNs: known?.1)
        }
        return InstallState(version: manifest.version, files: entries)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
