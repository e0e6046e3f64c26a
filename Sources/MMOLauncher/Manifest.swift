import Foundation

/// Bounds on what a patch server may ask of the player's machine. A manifest outside them is
/// refused before anything is written.
public struct ManifestLimits: Sendable, Equatable {
    /// Largest manifest body accepted, in bytes.
    public var maximumManifestBytes: Int
    /// Most files one manifest may list.
    public var maximumFileCount: Int
    /// Largest single file.
    public var maximumFileSize: Int64
    /// Largest install (sum of all file sizes).
    public var maximumTotalSize: Int64
    /// Longest relative path, in UTF-8 bytes.
    public var maximumPathBytes: Int

    public init(
        maximumManifestBytes: Int = 4 << 20,
        maximumFileCount: Int = 50_000,
        maximumFileSize: Int64 = 32 << 30,
        maximumTotalSize: Int64 = 256 << 30,
        maximumPathBytes: Int = 1024
    ) {
        self.maximumManifestBytes = maximumManifestBytes
        self.maximumFileCount = maximumFileCount
        self.maximumFileSize = maximumFileSize
        self.maximumTotalSize = maximumTotalSize
        self.maximumPathBytes = maximumPathBytes
    }

    public static let `default` = ManifestLimits()
}

/// Why a manifest was refused. Paths are shown quoted (escaped), never raw.
public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(limit: Int)
    case notJSON(String)
    case invalidVersion
    case noFiles
    case tooManyFiles(limit: Int)
    case invalidPath(String, reason: String)
    case duplicatePath(String)
    case pathConflict(String, String)
    case invalidHash(String)
    case invalidSize(String)
    case totalTooLarge(limit: Int64)
    case invalidBaseURL(String)

    public var description: String {
        switch self {
        case .tooLarge(let limit): return "the manifest is larger than \(limit) bytes"
        case .notJSON(let detail): return "the manifest is not valid: \(detail)"
        case .invalidVersion:
            return "the manifest's version must be 1-64 characters of letters, digits, '.', '_' or '-', not starting with '.'"
        case .noFiles: return "the manifest lists no files"
        case .tooManyFiles(let limit): return "the manifest lists more than \(limit) files"
        case .invalidPath(let path, let reason): return "the manifest path \(displayPath(path)) is refused: \(reason)"
        case .duplicatePath(let path):
            return "the manifest lists \(displayPath(path)) twice (paths are compared ignoring case, as on Windows and macOS)"
        case .pathConflict(let file, let other):
            return "the manifest lists \(displayPath(file)) as a file and as the folder of \(displayPath(other))"
        case .invalidHash(let path): return "the manifest's sha256 for \(displayPath(path)) is not 64 hex digits"
        case .invalidSize(let path): return "the manifest's size for \(displayPath(path)) is negative or above the launcher's limit"
        case .totalTooLarge(let limit): return "the manifest's files add up to more than \(limit) bytes"
        case .invalidBaseURL(let reason): return "the manifest's baseURL is refused: \(reason)"
        }
    }
}

/// The patch server's description of one game version.
///
/// ```json
/// {"version": "1.4.2", "baseURL": "https://cdn.example.com/1.4.2/",
///  "files": [{"path": "bin/game", "size": 123, "sha256": "<64 hex>", "executable": true}]}
/// ```
///
/// `baseURL` is optional: files are fetched from `<base>/<path>`, where base defaults to the
/// folder of the manifest URL. Unknown keys are ignored so a newer server can add fields.
public struct Manifest: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        /// Relative, `/`-separated, validated by `ManifestPath.validate`.
        public var path: String
        public var size: Int64
        /// Lowercase hex.
        public var sha256: String
        public var executable: Bool

        public init(path: String, size: Int64, sha256: String, executable: Bool = false) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.executable = executable
        }
    }

    public var version: String
    public var baseURL: String?
    public var files: [File]

    public init(version: String, baseURL: String? = nil, files: [File]) {
        self.version = version
        self.baseURL = baseURL
        self.files = files
    }

    /// Total bytes of the install this manifest describes.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Decodes and validates a manifest body.
    public static func decode(_ data: Data, limits: ManifestLimits = .default) throws(ManifestError) -> Manifest {
        guard data.count <= limits.maximumManifestBytes else { throw .tooLarge(limit: limits.maximumManifestBytes) }
        let wire: WireManifest
        do {
            wire = try JSONDecoder().decode(WireManifest.self, from: data)
        } catch let error as DecodingError {
            throw .notJSON(describe(error))
        } catch {
            throw .notJSON("unreadable JSON")
        }
        let manifest = Manifest(
            version: wire.version, baseURL: wire.baseURL,
            files: wire.files.map {
                File(path: $0.path, size: $0.size, sha256: $0.sha256.lowercased(), executable: $0.executable ?? false)
            })
        try manifest.validate(limits: limits)
        return manifest
    }

    /// Checks every field against `limits` and the path rules. Idempotent.
    public func validate(limits: ManifestLimits = .default) throws(ManifestError) {
        guard Self.isValidVersion(version) else { throw .invalidVersion }
        guard !files.isEmpty else { throw .noFiles }
        guard files.count <= limits.maximumFileCount else { throw .tooManyFiles(limit: limits.maximumFileCount) }
        if let baseURL { try Self.validateBaseURL(baseURL) }
        var total: Int64 = 0
        var seen: [String: String] = [:]  // folded path -> path
        for file in files {
            try ManifestPath.validate(file.path, maximumBytes: limits.maximumPathBytes)
            guard file.sha256.utf8.count == 64, file.sha256.utf8.allSatisfy({ isHexDigit($0) && !($0 >= 0x41 && $0 <= 0x46) }) else {
                throw .invalidHash(file.path)
            }
            guard file.size >= 0, file.size <= limits.maximumFileSize else { throw .invalidSize(file.path) }
            total += file.size
            guard total <= limits.maximumTotalSize else { throw .totalTooLarge(limit: limits.maximumTotalSize) }
            // Fold case (and, through String equality, Unicode normalization) so two entries that
            // are one file on a case-insensitive disk are refused everywhere.
            let folded = file.path.lowercased()
            if seen[folded] != nil { throw .duplicatePath(file.path) }
            seen[folded] = file.path
        }
        // A path that is a file cannot also be a folder of another path.
        for file in files {
            var prefix = ""
            let components = file.path.split(separator: "/")
            for component in components.dropLast() {
                prefix += prefix.isEmpty ? String(component) : "/" + component
                if let other = seen[prefix.lowercased()] { throw .pathConflict(other, file.path) }
            }
        }
    }

    static func isValidVersion(_ version: String) -> Bool {
        // It names the staging folder, so it is held to a file-name-safe alphabet.
        guard (1...64).contains(version.utf8.count), version.utf8.first != 0x2E else { return false }
        return version.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    static func validateBaseURL(_ text: String) throws(ManifestError) {
        guard text.utf8.count <= 2048, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidBaseURL("too long, or has spaces or non-ASCII characters")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else { throw .invalidBaseURL("it must be an absolute http or https URL") }
        guard url.user == nil, url.password == nil else { throw .invalidBaseURL("it must not contain a user name or password") }
        guard url.query == nil, url.fragment == nil else { throw .invalidBaseURL("it must not have a query or fragment") }
    }

    /// The manifest as the patch server serves it, before validation.
    private struct WireManifest: Decodable {
        var version: String
        var baseURL: String?
        var files: [WireFile]
    }

    private struct WireFile: Decodable {
        var path: String
        var size: Int64
        var sha256: String
        var executable: Bool?
    }

    private static func describe(_ error: DecodingError) -> String {
        func pathText(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(pathText(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(pathText(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "invalid value at \(pathText(context.codingPath))"
        @unknown default: return "unreadable"
        }
    }
}

extension Manifest: Encodable {
    private enum CodingKeys: String, CodingKey { case version, baseURL, files }
    private enum FileKeys: String, CodingKey { case path, size, sha256, executable }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encodeIfPresent(baseURL, forKey: .baseURL)
        var list = container.nestedUnkeyedContainer(forKey: .files)
        for file in files {
            var entry = list.nestedContainer(keyedBy: FileKeys.self)
            try entry.encode(file.path, forKey: .path)
            try entry.encode(file.size, forKey: .size)
            try entry.encode(file.sha256, forKey: .sha256)
            if file.executable { try entry.encode(true, forKey: .executable) }
        }
    }

    /// The manifest as bytes: sorted keys, two-space indentation, no escaped slashes, so the
    /// same install always gives the same file (diffable, cacheable).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}

/// The rules for a path inside the install folder, shared by manifests, the journal and
/// make-manifest.
public enum ManifestPath {
    /// Top-level names the launcher keeps for itself inside the install folder.
    public static let stagingFolder = ".staging"
    public static let stateFile = ".launcher-state.json"
    public static let journalFile = ".launcher-journal.json"
    public static let lockFile = ".launcher.lock"

    /// Whether a top-level name belongs to the launcher (never in a manifest).
    public static func isReserved(topLevel name: String) -> Bool {
        let lower = name.lowercased()
        return lower == stagingFolder || lower.hasPrefix(".launcher")
    }

    /// Refuses anything that could name a file outside the install folder, or that one of the
    /// three desktop platforms cannot store: absolute paths, `..` and `.`, empty components
    /// (`a//b`, trailing `/`), backslashes, NUL and other control characters, `:` (Windows drive
    /// letters and NTFS streams), Windows device names, trailing dots and spaces, and the
    /// launcher's own files.
    public static func validate(_ path: String, maximumBytes: Int = ManifestLimits.default.maximumPathBytes) throws(ManifestError) {
        guard !path.isEmpty else { throw .invalidPath(path, reason: "it is empty") }
        guard path.utf8.count <= maximumBytes else { throw .invalidPath(path, reason: "longer than \(maximumBytes) bytes") }
        guard !path.hasPrefix("/") else { throw .invalidPath(path, reason: "it is absolute") }
        for byte in path.utf8 {
            if byte < 0x20 || byte == 0x7F { throw .invalidPath(path, reason: "it contains a control character") }
            if byte == 0x5C { throw .invalidPath(path, reason: "it contains a backslash") }
            if byte == 0x3A { throw .invalidPath(path, reason: "it contains ':'") }
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, component) in components.enumerated() {
            if component.isEmpty { throw .invalidPath(path, reason: "it has an empty component") }
            if component == "." || component == ".." { throw .invalidPath(path, reason: "it has a '.' or '..' component") }
            if component.utf8.count > 255 { throw .invalidPath(path, reason: "a component is longer than 255 bytes") }
            if component.hasSuffix(".") || component.hasSuffix(" ") {
                throw .invalidPath(path, reason: "a component ends with '.' or a space")
            }
            if "<>\"|?*".contains(where: { component.contains($0) }) {
                throw .invalidPath(path, reason: "it contains one of < > \" | ? *")
            }
            let stem = component.split(separator: ".", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            if windowsDeviceNames.contains(stem) { throw .invalidPath(path, reason: "\(stem) is a device name on Windows") }
            if index == 0 && isReserved(topLevel: String(component)) {
                throw .invalidPath(path, reason: "it is inside the launcher's own files")
            }
        }
    }

    private static let windowsDeviceNames: Set<String> = {
        var names: Set<String> = ["CON", "PRN", "AUX", "NUL"]
        for n in 1...9 {
            names.insert("COM\(n)")
            names.insert("LPT\(n)")
        }
        return names
    }()
}
