import Foundation

/// Why registering or unregistering the URL scheme failed.
public enum RegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidScheme(String)
    case noHome
    case notOurs(String)
    case unsupportedPlatform
    case unsafeLauncherPath(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidScheme(let scheme):
            return "\(String(reflecting: scheme)) is not a usable URL scheme (a letter, then letters, digits, '.' or '-')"
        case .noHome: return "HOME is not set, so the user's application folders are unknown"
        case .notOurs(let path): return "\(displayPath(path)) exists and was not written by this launcher; not touching it"
        case .unsupportedPlatform:
            return "register/unregister are implemented for Linux desktops; see docs/launcher.md for Windows and macOS"
        case .unsafeLauncherPath(let path): return "the launcher path \(displayPath(path)) cannot be written in a desktop entry"
        case .io(let detail): return detail
        }
    }
}

/// Registers the launcher as the handler of `SCHEME://` links for the current user, the
/// freedesktop.org way:
///
/// - a desktop entry `$XDG_DATA_HOME/applications/<scheme>-launcher.desktop` with
///   `Exec=/abs/launcher %u` and `MimeType=x-scheme-handler/<scheme>;`
/// - `x-scheme-handler/<scheme>=<scheme>-launcher.desktop` under `[Default Applications]` in
///   `$XDG_CONFIG_HOME/mimeapps.list`, other lines untouched.
///
/// What register changed beyond its own line (the handler it replaced, whether it created the
/// section or the file) is recorded in the desktop entry as `X-MMO-Launcher-*` keys, so
/// unregister restores exactly the previous state.
public struct SchemeRegistration: Sendable {
    public let scheme: String
    /// Absolute path of the launcher executable written into `Exec=`.
    public let launcherPath: String
    /// Extra arguments before `%u` (e.g. `--config /abs/launcher.json`).
    public let extraArguments: [String]
    public let applicationsDirectory: String
    public let mimeappsPath: String
    /// PATH used to find `update-desktop-database`; nil disables running it.
    public let toolSearchPath: String?

    static let marker = "X-MMO-Launcher"
    static let previousKey = "X-MMO-Launcher-Previous-Handler"
    static let createdSectionKey = "X-MMO-Launcher-Created-Section"
    static let createdFileKey = "X-MMO-Launcher-Created-File"
    static let section = "[Default Applications]"

    /// - Parameter environment: the process environment (HOME, XDG_DATA_HOME, XDG_CONFIG_HOME,
    ///   PATH), injectable for tests.
    public init(
        scheme: String, launcherPath: String, extraArguments: [String] = [], environment: [String: String],
        runDesktopTools: Bool = true
    ) throws(RegistrationError) {
        guard LaunchURLParser.isValidScheme(scheme) else { throw .invalidScheme(scheme) }
        guard launcherPath.hasPrefix("/"), !launcherPath.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw .unsafeLauncherPath(launcherPath)
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { throw .noHome }
        // XDG base directory spec: unset, empty or relative values fall back to the default.
        func xdg(_ name: String, _ fallback: String) -> String {
            if let value = environment[name], value.hasPrefix("/") { return value }
            return home + "/" + fallback
        }
        self.scheme = scheme.lowercased()
        self.launcherPath = launcherPath
        self.extraArguments = extraArguments
        self.applicationsDirectory = xdg("XDG_DATA_HOME", ".local/share") + "/applications"
        self.mimeappsPath = xdg("XDG_CONFIG_HOME", ".config") + "/mimeapps.list"
        self.toolSearchPath = runDesktopTools ? (environment["PATH"] ?? "/usr/bin:/bin") : nil
    }

    public var desktopFileName: String { "\(scheme)-launcher.desktop" }
    public var desktopFilePath: String { applicationsDirectory + "/" + desktopFileName }
    var mimeKey: String { "x-scheme-handler/\(scheme)" }

    // MARK: register

    /// Writes the desktop entry and the association. Running it again is harmless.
    public func register() throws(RegistrationError) {
        #if os(Linux) || os(FreeBSD) || os(OpenBSD)
        let existing = try readIfPresent(desktopFilePath)
        var recorded: [String: String] = [:]
        if let existing {
            guard Self.isOurs(existing) else { throw .notOurs(desktopFilePath) }
            recorded = Self.recordedKeys(existing)
        }

        let original = try readIfPresent(mimeappsPath)
        var lines = original.map(Self.splitLines) ?? []
        let edit = Self.setAssociation(&lines, key: mimeKey, value: desktopFileName)
        if existing == nil {
            // First registration: remember what we changed beyond our own line.
            if let previous = edit.previous, previous != desktopFileName { recorded[Self.previousKey] = previous }
            if edit.createdSection { recorded[Self.createdSectionKey] = "true" }
            if original == nil { recorded[Self.createdFileKey] = "true" }
        }

        try makeDirectory(applicationsDirectory)
        try write(desktopEntry(recorded: recorded), to: desktopFilePath)
        try makeDirectory(FS.parentDirectory(of: mimeappsPath))
        try write(Self.joinLines(lines), to: mimeappsPath)
        refreshDesktopDatabase()
        #else
        throw .unsupportedPlatform
        #endif
    }

    /// The desktop entry's text.
    func desktopEntry(recorded: [String: String]) -> String {
        var text = """
            [Desktop Entry]
            Type=Application
            Name=Game Launcher (\(scheme)://)
            Comment=Opens \(scheme):// links from the game's web site
            Exec=\(execLine())
            Terminal=false
            NoDisplay=true
            MimeType=x-scheme-handler/\(scheme);
            \(Self.marker)=true

            """
        for key in recorded.keys.sorted() { text += "\(key)=\(recorded[key]!)\n" }
        return text
    }

    /// `Exec=` value: each argument quoted when the Desktop Entry spec requires it, `%`
    /// doubled, then the whole escaped as a desktop-file string (backslashes doubled).
    func execLine() -> String {
        ([launcherPath] + extraArguments).map(Self.quoteExecArgument).joined(separator: " ") + " %u"
    }

    static func quoteExecArgument(_ argument: String) -> String {
        // The Desktop Entry spec's reserved characters: an argument with any of them is quoted.
        let reserved = Set(" \t\n\"'\\><~|&;$*?#()`")
        var text = argument.replacingOccurrences(of: "%", with: "%%")
        if argument.isEmpty || argument.contains(where: { reserved.contains($0) }) {
            var quoted = "\""
            for character in text {
                if "\"`$\\".contains(character) { quoted.append("\\") }
                quoted.append(character)
            }
            text = quoted + "\""
        }
        // The desktop file's own string escaping comes on top of Exec's quoting.
        return text.replacingOccurrences(of: "\\", with: "\\\\")
    }

    // MARK: unregister

    /// Removes what `register` added: the association (restoring the handler it replaced,
    /// removing the section or file if it created them) and the desktop entry. An association
    /// the user has since pointed elsewhere is left alone.
    public func unregister() throws(RegistrationError) {
        #if os(Linux) || os(FreeBSD) || os(OpenBSD)
        let existing = try readIfPresent(desktopFilePath)
        if let existing, !Self.isOurs(existing) { throw .notOurs(desktopFilePath) }
        let recorded = existing.map(Self.recordedKeys) ?? [:]

        if let original = try readIfPresent(mimeappsPath) {
            var lines = Self.splitLines(original)
            let changed = Self.removeAssociation(
                &lines, key: mimeKey, value: desktopFileName, restoring: recorded[Self.previousKey],
                removeEmptySection: recorded[Self.createdSectionKey] == "true")
            if changed {
                let onlyBlank = lines.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
                if onlyBlank && recorded[Self.createdFileKey] == "true" {
                    do throws(FileSystemError) { try FS.removeFile(mimeappsPath) } catch { throw .io(error.description) }
                } else {
                    try write(Self.joinLines(lines), to: mimeappsPath)
                }
            }
        }
        if existing != nil {
            do throws(FileSystemError) { try FS.removeFile(desktopFilePath) } catch { throw .io(error.description) }
        }
        refreshDesktopDatabase()
        #else
        throw .unsupportedPlatform
        #endif
    }

    // MARK: mimeapps.list editing (pure, tested directly)

    /// Lines without their terminators; a final newline gives no extra empty line.
    static func splitLines(_ text: String) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func joinLines(_ lines: [String]) -> String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    private static func isSectionHeader(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix("[")
    }

    /// Index range of `[Default Applications]`'s body (after its header, up to the next header).
    private static func sectionRange(_ lines: [String]) -> (header: Int, end: Int)? {
        guard let header = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == section }) else { return nil }
        var end = header + 1
        while end < lines.count && !isSectionHeader(lines[end]) { end += 1 }
        return (header, end)
    }

    private static func keyOf(_ line: String) -> String? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        let key = line[..<equals].trimmingCharacters(in: .whitespaces)
        return key.hasPrefix("#") ? nil : key
    }

    /// Sets `key=value` in `[Default Applications]`. Returns the value it replaced and whether
    /// it had to create the section.
    static func setAssociation(_ lines: inout [String], key: String, value: String) -> (previous: String?, createdSection: Bool) {
        if let (header, end) = sectionRange(lines) {
            for index in (header + 1)..<end where keyOf(lines[index]) == key {
                let previous = String(lines[index][lines[index].index(after: lines[index].firstIndex(of: "=")!)...])
                lines[index] = "\(key)=\(value)"
                return (previous.trimmingCharacters(in: .whitespaces), false)
            }
            // After the section's last non-blank line, so a blank separator stays where it was.
            var insertAt = end
            while insertAt > header + 1 && lines[insertAt - 1].trimmingCharacters(in: .whitespaces).isEmpty { insertAt -= 1 }
            lines.insert("\(key)=\(value)", at: insertAt)
            return (nil, false)
        }
        lines.append(section)
        lines.append("\(key)=\(value)")
        return (nil, true)
    }

    /// Undoes `setAssociation` if the association is still ours. Returns whether anything
    /// changed.
    static func removeAssociation(
        _ lines: inout [String], key: String, value: String, restoring previous: String?, removeEmptySection: Bool
    ) -> Bool {
        guard let (header, end) = sectionRange(lines) else { return false }
        guard
            let index = ((header + 1)..<end).first(where: {
                keyOf(lines[$0]) == key && lines[$0].split(separator: "=", maxSplits: 1).last.map({ $0.trimmingCharacters(in: .whitespaces) }) == value
            })
        else { return false }
        if let previous {
            lines[index] = "\(key)=\(previous)"
            return true
        }
        lines.remove(at: index)
        if removeEmptySection {
            let (header, end) = sectionRange(lines)!
            let body = lines[(header + 1)..<end]
            if body.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                lines.removeSubrange(header..<end)
            }
        }
        return true
    }

    // MARK: helpers

    static func isOurs(_ desktopEntry: String) -> Bool {
        splitLines(desktopEntry).contains("\(marker)=true")
    }

    static func recordedKeys(_ desktopEntry: String) -> [String: String] {
        var keys: [String: String] = [:]
        for line in splitLines(desktopEntry) where line.hasPrefix(marker + "-") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            keys[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return keys
    }

    private func readIfPresent(_ path: String) throws(RegistrationError) -> String? {
        do {
            guard let info = try FS.info(path) else { return nil }
            guard info.kind == .regular else { throw RegistrationError.io("\(displayPath(path)) is not a regular file") }
            return String(decoding: try FS.readFile(path, limit: 1 << 20), as: UTF8.self)
        } catch let error as FileSystemError {
            throw .io(error.description)
        } catch let error as RegistrationError {
            throw error
        } catch {
            throw .io("\(error)")
        }
    }

    private func write(_ text: String, to path: String) throws(RegistrationError) {
        do throws(FileSystemError) { try FS.writeAtomically(Data(text.utf8), to: path) } catch { throw .io(error.description) }
    }

    private func makeDirectory(_ path: String) throws(RegistrationError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(displayPath(path)): \(error.localizedDescription)")
        }
    }

    /// Refreshes the desktop's MIME cache when `update-desktop-database` is installed; some
    /// desktops read only the cache. Never required, failures ignored. `xdg-mime default` is
    /// not run: it writes desktop-specific files that unregister could not undo exactly, and
    /// the mimeapps.list line written here is what it would write.
    private func refreshDesktopDatabase() {
        guard let searchPath = toolSearchPath else { return }
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let tool = String(directory) + "/update-desktop-database"
            guard FS.isExecutableFile(tool) else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["-q", applicationsDirectory]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
            return
        }
    }
}
