import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Every POSIX call the launcher makes on the install folder lives in this file, so a Windows
// port replaces one file (MoveFileExW with MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH for
// `rename`, FlushFileBuffers for `fsync`, LockFileEx for the install lock) and leaves the
// patching logic alone.

/// An I/O failure on the local disk, with the path and the OS's reason.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    /// What the launcher was doing ("create folder", "rename", ...).
    public let operation: String
    /// The path concerned.
    public let path: String
    /// `errno` at the time of the failure (0 when not from a system call).
    public let code: Int32
    /// A human sentence when the failure is not a plain errno.
    public let detail: String?

    init(_ operation: String, _ path: String, code: Int32 = errno, detail: String? = nil) {
        self.operation = operation
        self.path = path
        self.code = code
        self.detail = detail
    }

    public var description: String {
        let reason = detail ?? String(cString: strerror(code))
        return "cannot \(operation) \(displayPath(path)): \(reason)"
    }
}

/// Quotes a path for messages so control characters from a hostile manifest cannot reach the
/// terminal raw.
func displayPath(_ path: String) -> String {
    String(reflecting: path)
}

/// What `lstat` says about a path, reduced to what the launcher decides on.
struct FileInfo: Equatable, Sendable {
    enum Kind: Sendable { case regular, directory, symlink, other }
    var kind: Kind
    var size: Int64
    var mode: UInt32
    var fingerprint: FileFingerprint

    var isExecutable: Bool { mode & 0o111 != 0 }
}

/// The metadata the hash cache trusts: a file whose fingerprint is unchanged since it was hashed
/// is taken to have unchanged content. `ctime` is in it because no unprivileged call can set it
/// back, so resetting `mtime` after editing a file (touch -d) does not fool the cache.
public struct FileFingerprint: Codable, Equatable, Sendable {
    public var size: Int64
    public var mtimeNs: Int64
    public var ctimeNs: Int64
    public var inode: UInt64
    public var device: UInt64
}

enum FS {
    /// `lstat(2)`: never follows a symlink. Nil when nothing is at `path`.
    static func info(_ path: String) throws(FileSystemError) -> FileInfo? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileSystemError("inspect", path)
        }
        let kind: FileInfo.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        #if canImport(Darwin)
        let mtime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        let ctime = Int64(st.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(st.st_ctimespec.tv_nsec)
        #else
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let ctime = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        #endif
        return FileInfo(
            kind: kind, size: Int64(st.st_size), mode: UInt32(st.st_mode) & 0o7777,
            fingerprint: FileFingerprint(
                size: Int64(st.st_size), mtimeNs: mtime, ctimeNs: ctime,
                inode: UInt64(st.st_ino), device: UInt64(st.st_dev)))
    }

    static func exists(_ path: String) -> Bool {
        (try? info(path)) != nil
    }

    /// Creates one folder; an existing folder is fine, an existing anything else is not.
    static func makeDirectory(_ path: String) throws(FileSystemError) {
        if mkdir(path, 0o755) == 0 { return }
        let code = errno
        if code == EEXIST, let existing = try info(path), existing.kind == .directory { return }
        throw FileSystemError("create folder", path, code: code)
    }

    /// Creates `relative` (a validated, `/`-separated path) under `root` component by component,
    /// refusing to pass through a symlink so no write can be redirected outside `root`.
    static func makeDirectories(_ relative: String, under root: String) throws(FileSystemError) {
        var current = root
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if let existing = try info(current) {
                switch existing.kind {
                case .directory: continue
                case .symlink: throw FileSystemError("use", current, code: 0, detail: "it is a symbolic link; the launcher never writes through links")
                default: throw FileSystemError("create folder", current, code: 0, detail: "a file is in the way")
                }
            }
            try makeDirectory(current)
        }
    }

    /// `rename(2)`: atomic replacement of `to` on one file system.
    static func rename(_ from: String, to: String) throws(FileSystemError) {
        #if canImport(Darwin)
        let result = Darwin.rename(from, to)
        #elseif canImport(Musl)
        let result = Musl.rename(from, to)
        #else
        let result = Glibc.rename(from, to)
        #endif
        if result != 0 { throw FileSystemError("move into place", to) }
    }

    /// Removes a file or symlink; a missing one is fine.
    static func removeFile(_ path: String) throws(FileSystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw FileSystemError("remove", path) }
    }

    /// Removes a folder if it is empty; returns whether it is gone.
    @discardableResult
    static func removeDirectoryIfEmpty(_ path: String) -> Bool {
        rmdir(path) == 0 || errno == ENOENT
    }

    /// Removes a folder tree without following symlinks (a link inside is unlinked, never
    /// entered).
    static func removeTree(_ path: String) throws(FileSystemError) {
        guard let root = try info(path) else { return }
        if root.kind != .directory {
            try removeFile(path)
            return
        }
        for name in try listDirectory(path) {
            try removeTree(path + "/" + name)
        }
        if rmdir(path) != 0 && errno != ENOENT { throw FileSystemError("remove folder", path) }
    }

    /// Names in a folder, without `.` and `..`, sorted bytewise for determinism.
    static func listDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(path) else { throw FileSystemError("list", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func setMode(_ path: String, executable: Bool) throws(FileSystemError) {
        if chmod(path, executable ? 0o755 : 0o644) != 0 { throw FileSystemError("set permissions of", path) }
    }

    /// Flushes a file's data to disk, so a rename that follows cannot outlive its content in a
    /// power cut.
    static func syncFile(_ path: String) throws(FileSystemError) {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw FileSystemError("open", path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw FileSystemError("flush", path) }
    }

    /// Flushes a folder, which makes the renames and creations in it durable. Best effort: some
    /// file systems refuse fsync on folders and that must not stop a launch.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        if fd < 0 { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Writes `data` to `path` so that `path` holds either its old content or all of `data`,
    /// never a mix: temporary file, fsync, rename, fsync of the folder.
    static func writeAtomically(_ data: Data, to path: String) throws(FileSystemError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644)
        if fd < 0 { throw FileSystemError("create", temporary) }
        var failure: FileSystemError?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = FileSystemError("write", temporary)
                    return
                }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = FileSystemError("flush", temporary) }
        close(fd)
        if let failure {
            try? removeFile(temporary)
            throw failure
        }
        try rename(temporary, to: path)
        syncDirectory(parentDirectory(of: path))
    }

    static func readFile(_ path: String, limit: Int) throws(FileSystemError) -> Data {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        if fd < 0 { throw FileSystemError("open", path) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("read", path)
            }
            if n == 0 { break }
            if data.count + n > limit { throw FileSystemError("read", path, code: 0, detail: "larger than \(limit) bytes") }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// SHA-256 of a file's content, read in 1 MiB blocks. Refuses to follow a symlink.
    static func sha256(ofFile path: String) throws(FileSystemError) -> (hex: String, size: Int64) {
        var hasher = SHA256()
        let size = try feed(path, into: &hasher, limit: nil)
        return (hasher.finalize().hexString, size)
    }

    /// Feeds a file's first `limit` bytes (all when nil) into `hasher`; returns the bytes read.
    static func feed(_ path: String, into hasher: inout SHA256, limit: Int64?) throws(FileSystemError) -> Int64 {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        if fd < 0 { throw FileSystemError("open", path) }
        defer { close(fd) }
        let blockSize = 1 << 20
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { block.deallocate() }
        var total: Int64 = 0
        while limit.map({ total < $0 }) ?? true {
            let wanted = limit.map { min(Int64(blockSize), $0 - total) } ?? Int64(blockSize)
            let n = read(fd, block.baseAddress!, Int(wanted))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("read", path)
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: block[0..<n]))
            total += Int64(n)
        }
        return total
    }

    /// Copies a file (for a second manifest path with the same content as a downloaded one).
    static func copyFile(_ from: String, to: String) throws(FileSystemError) {
        let input = open(from, O_RDONLY | O_NOFOLLOW)
        if input < 0 { throw FileSystemError("open", from) }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644)
        if output < 0 { throw FileSystemError("create", to) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("read", from)
            }
            if n == 0 { break }
            try writeAll(output, buffer[0..<n], path: to)
        }
        if fsync(output) != 0 { throw FileSystemError("flush", to) }
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws(FileSystemError) {
        var failure: FileSystemError?
        bytes.withUnsafeBytes { raw in
            do throws(FileSystemError) {
                try writeAll(fd, raw, path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws(FileSystemError) {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("write", path)
            }
            offset += n
        }
    }

    /// `realpath(3)`: resolves the install folder itself once (it may legitimately be a link,
    /// e.g. to a bigger disk), so everything below it can be checked for links.
    static func resolve(_ path: String) throws(FileSystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw FileSystemError("resolve", path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Whether `path` names an executable regular file. Follows links on purpose: a command on
    /// PATH is often one (/usr/bin/foo -> ../lib/foo/foo).
    static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// An exclusive, advisory lock on `<install>/.launcher.lock`, so two launchers started by two
/// clicks on "Play" cannot patch the same install at once. The kernel drops it when the process
/// dies, so a crash never leaves a stale lock.
final class InstallLock {
    private let fd: Int32

    /// Nil when another process holds the lock.
    init?(path: String) throws(FileSystemError) {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw FileSystemError("create", path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw FileSystemError("lock", path, code: code)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension Digest {
    /// Lowercase hex, the manifest's spelling.
    var hexString: String {
        var text = ""
        text.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return text
    }
}

private let hexDigits: [Character] = Array("0123456789abcdef")
