import Crypto
import Foundation

/// Builds a manifest from a folder: the studio's side of patching (`launcher make-manifest`).
public enum ManifestBuilder {
    /// Why a folder cannot be described by a manifest.
    public struct BuildError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Walks `directory` and describes every regular file in it, sorted by path (bytewise), so
    /// the same folder always gives the same manifest. The launcher's own files (`.staging`,
    /// `.launcher*`) and the paths in `excluding` (absolute) are skipped. A symbolic link or a
    /// special file is an error: a manifest cannot express them, and silently skipping one
    /// would ship an incomplete game.
    ///
    /// - Parameter version: the manifest's version; by default `sha256-` and the first 16 hex
    ///   digits of a hash over the file list, which changes whenever any file does.
    public static func build(
        directory: String, version: String? = nil, baseURL: String? = nil, excluding: Set<String> = [],
        limits: ManifestLimits = .default
    ) throws -> Manifest {
        let root: String
        do {
            root = try FS.resolve(directory)
        } catch {
            throw BuildError(message: error.description)
        }
        guard let info = try FS.info(root), info.kind == .directory else {
            throw BuildError(message: "\(displayPath(directory)) is not a folder")
        }
        let excluded = Set(excluding.compactMap { try? FS.resolve($0) })
        var files: [Manifest.File] = []
        try walk(root: root, relative: "", excluded: excluded, into: &files)
        files.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

        let resolvedVersion: String
        if let version {
            resolvedVersion = version
        } else {
            var hasher = SHA256()
            for file in files { hasher.update(data: Data("\(file.path)\0\(file.sha256)\0\(file.executable)\n".utf8)) }
            resolvedVersion = "sha256-" + hasher.finalize().hexString.prefix(16)
        }
        let manifest = Manifest(version: resolvedVersion, baseURL: baseURL, files: files)
        do {
            try manifest.validate(limits: limits)
        } catch {
            throw BuildError(message: error.description)
        }
        return manifest
    }

    private static func walk(root: String, relative: String, excluded: Set<String>, into files: inout [Manifest.File]) throws {
        let folder = relative.isEmpty ? root : root + "/" + relative
        for name in try FS.listDirectory(folder) {
            if relative.isEmpty && ManifestPath.isReserved(topLevel: name) { continue }
            let path = relative.isEmpty ? name : relative + "/" + name
            let absolute = root + "/" + path
            if excluded.contains(absolute) { continue }
            guard let info = try FS.info(absolute) else { continue }
            switch info.kind {
            case .directory:
                try walk(root: root, relative: path, excluded: excluded, into: &files)
            case .regular:
                do {
                    try ManifestPath.validate(path)
                } catch {
                    throw BuildError(message: error.description)
                }
                let (hex, size) = try FS.sha256(ofFile: absolute)
                files.append(Manifest.File(path: path, size: size, sha256: hex, executable: info.isExecutable))
            case .symlink:
                throw BuildError(message: "\(displayPath(path)) is a symbolic link; manifests hold regular files only (copy the target in)")
            case .other:
                throw BuildError(message: "\(displayPath(path)) is not a regular file")
            }
        }
    }
}
