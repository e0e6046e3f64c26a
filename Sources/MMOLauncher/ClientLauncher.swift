import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the game client could not be started.
public enum ClientLaunchError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyCommand
    case notFound(String)
    case tokenInArguments
    case spawnFailed(String, code: Int32)

    public var description: String {
        switch self {
        case .emptyCommand: return "the client command is empty"
        case .notFound(let name):
            return "the game client \(displayPath(name)) was not found (looked in the install folder, next to the launcher and on PATH)"
        case .tokenInArguments:
            return "the client command must not contain {token}: the session token is passed only in the environment (MMO_SESSION_TOKEN)"
        case .spawnFailed(let path, let code): return "cannot start \(displayPath(path)): \(String(cString: strerror(code)))"
        }
    }
}

/// How the game client is started, resolved from the configuration's `clientCommand`: the
/// program to execute, its argv, its environment (with the session variables) and its folder.
public struct ClientInvocation: Sendable, Equatable {
    public var executable: String
    /// argv, including argv[0].
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
}

/// Starts the game client without a shell and without putting the session token where other
/// local users can read it.
///
/// The token and server go in the environment (`MMO_SESSION_TOKEN`, `MMO_SERVER`):
/// `/proc/PID/environ` is readable only by the process's owner (and root), while
/// `/proc/PID/cmdline`, where arguments go, is readable by every local user. The client is
/// started with `posix_spawn`, in the launcher's process group (so a terminal client keeps the
/// terminal and Ctrl-C reaches it), with every descriptor but 0, 1 and 2 closed.
public enum ClientLauncher {
    /// Environment variable with the session token.
    public static let tokenVariable = "MMO_SESSION_TOKEN"
    /// Environment variable with `host:port` (`[v6]:port` for IPv6), `mmos://host:port` when the
    /// server was given that way (TLS). A CA file for TLS reaches the client as `MMO_CA_FILE`
    /// from the launcher's own environment.
    public static let serverVariable = "MMO_SERVER"

    /// Resolves `command` (the config's `clientCommand`: program, then arguments).
    ///
    /// The program is looked up as: an absolute path as is; a path with a `/` relative to the
    /// install folder (the patched game, e.g. `bin/game`); a bare name in the install folder,
    /// then next to the launcher's executable, then on `PATH`. Arguments may use `{server}`,
    /// `{host}` and `{port}`; `{token}` is refused.
    public static func resolve(
        command: [String], request: LaunchRequest, installDirectory: String?, launcherDirectory: String?,
        environment: [String: String]
    ) throws(ClientLaunchError) -> ClientInvocation {
        guard let program = command.first, !program.isEmpty else { throw .emptyCommand }
        guard !command.contains(where: { $0.contains("{token}") }) else { throw .tokenInArguments }
        let executable: String
        if program.hasPrefix("/") {
            executable = program
        } else if program.contains("/") {
            guard let installDirectory else { throw .notFound(program) }
            executable = installDirectory + "/" + program
        } else {
            var candidates: [String] = []
            if let installDirectory { candidates.append(installDirectory + "/" + program) }
            if let launcherDirectory { candidates.append(launcherDirectory + "/" + program) }
            for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where directory.hasPrefix("/") {
                candidates.append(directory + "/" + program)
            }
            guard let found = candidates.first(where: FS.isExecutableFile) else { throw .notFound(program) }
            executable = found
        }
        guard FS.isExecutableFile(executable) else { throw .notFound(executable) }

        let arguments = [executable] + command.dropFirst().map { argument in
            argument.replacingOccurrences(of: "{server}", with: request.server.description)
                .replacingOccurrences(of: "{host}", with: request.server.host)
                .replacingOccurrences(of: "{port}", with: String(request.server.port))
        }
        var childEnvironment = environment
        childEnvironment[tokenVariable] = request.credential.value
        childEnvironment[serverVariable] = request.server.description
        return ClientInvocation(
            executable: executable, arguments: arguments, environment: childEnvironment, workingDirectory: installDirectory)
    }

    /// Starts the client; returns its process id.
    public static func spawn(_ command: ClientInvocation) throws(ClientLaunchError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Not in every libc's headers as Swift sees them, so looked up at run time (glibc 2.34+,
        // macOS 10.15+). Without them the client merely inherits more descriptors or the
        // launcher's working folder.
        if let closeFrom = SpawnExtensions.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory = command.workingDirectory, let addChdir = SpawnExtensions.addChdir {
            _ = directory.withCString { addChdir(&actions, $0) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Undo the launcher's own signal handling in the child: default dispositions for the
        // signals it may ignore while waiting, and an empty mask.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGTSTP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = command.arguments.map { strdup($0) } + [nil]
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command.executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw .spawnFailed(command.executable, code: result) }
        return pid
    }

    /// Waits for `pid` on a thread of its own (waitpid blocks) and returns its exit status as a
    /// shell would: the exit code, or 128 + the signal number.
    public static func wait(for pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR {
                        continuation.resume(returning: 127)
                        return
                    }
                }
                continuation.resume(returning: exitCode(fromWaitStatus: status))
            }
            thread.start()
        }
    }

    /// Decodes a `waitpid` status (the WIFEXITED / WTERMSIG macros, which Swift cannot import).
    static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7F
        if signal == 0 { return (status >> 8) & 0xFF }
        return 128 + signal
    }

    /// Waits for the client like `wait(for:)`, ignoring SIGINT and SIGQUIT meanwhile: the
    /// terminal's Ctrl-C and Ctrl-\ reach both processes (same process group), and the launcher
    /// must outlive the client to report its exit code. The previous handlers are restored.
    public static func waitIgnoringInteractiveSignals(for pid: pid_t) async -> Int32 {
        let previousInterrupt = signal(SIGINT, SIG_IGN)
        let previousQuit = signal(SIGQUIT, SIG_IGN)
        let code = await wait(for: pid)
        signal(SIGINT, previousInterrupt)
        signal(SIGQUIT, previousQuit)
        return code
    }
}

private enum SpawnExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: AddCloseFrom? = lookUp("posix_spawn_file_actions_addclosefrom_np")
    static let addChdir: AddChdir? = lookUp("posix_spawn_file_actions_addchdir_np")

    private static func lookUp<T>(_ name: String) -> T? {
        #if canImport(Darwin)
        let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        let handle: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: T.self)
    }
}

/// Hides the session token in the launcher's own command line.
///
/// A desktop starts the launcher as `launcher 'mmo://play?...&token=...'`, so until the
/// launcher exits the token is in its `/proc/PID/cmdline`, which any local user can read. On
/// Linux that file shows the process's original argv memory, so overwriting the token's
/// characters there hides it from then on (as the MySQL client does for `-p`). The window
/// between exec and this call remains; it is milliseconds.
public enum ArgumentScrubber {
    /// Overwrites every occurrence of `secret` (and of its percent-encoded spellings found in
    /// the arguments) in the process's argv with `*`. Returns how many arguments changed.
    @discardableResult
    public static func scrub(_ secrets: [String]) -> Int {
        let argc = Int(CommandLine.argc)
        var changed = 0
        for index in 1..<max(argc, 1) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            if scrub(pointer, secrets: secrets) { changed += 1 }
        }
        return changed
    }

    /// Overwrites occurrences of any of `secrets` in a NUL-terminated C string, in place.
    static func scrub(_ pointer: UnsafeMutablePointer<CChar>, secrets: [String]) -> Bool {
        let length = strlen(pointer)
        let bytes = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
        var changed = false
        for secret in secrets where !secret.isEmpty {
            let needle = Array(secret.utf8)
            guard needle.count <= bytes.count else { continue }
            var start = 0
            while start + needle.count <= bytes.count {
                if bytes[start..<(start + needle.count)].elementsEqual(needle) {
                    for i in start..<(start + needle.count) { bytes[i] = UInt8(ascii: "*") }
                    changed = true
                    start += needle.count
                } else {
                    start += 1
                }
            }
        }
        return changed
    }
}
