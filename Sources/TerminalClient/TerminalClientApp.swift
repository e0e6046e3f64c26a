import Dispatch
import Foundation
import MMOClient
import MMOProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The I/O shell around `ClientScreenModel`: it owns the terminal, the connection and the
/// clock, turns keys, server events, answers, signals and ticks into model inputs, carries out
/// the model's commands, and draws its frames. Everything is funnelled into one stream consumed
/// by one loop, so the model is only ever touched from that loop.
public enum TerminalClientApp {
    /// How to run.
    public struct Options: Sendable {
        public var launch: LaunchConfiguration
        /// Line mode instead of the full-screen interface.
        public var plain: Bool
        public var clientName = "mmo-client"
        public var settings = ClientScreenModel.Settings()
        /// Redraws per second at most; world updates arriving faster are coalesced.
        public var framesPerSecond = 15

        public init(launch: LaunchConfiguration, plain: Bool) {
            self.launch = launch
            self.plain = plain
        }
    }

    enum Event: Sendable {
        case input(ClientInput)
        case bytes([UInt8])
        case endOfFile
        case connected(GameClient)
        case resize
        case tick
        case signal(Int32)
    }

    /// Runs the client until the player quits or the session ends; returns the exit status.
    public static func run(_ options: Options) async -> Int32 {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let plain = options.plain
        let launch = options.launch
        let terminal = Terminal()
        if !plain {
            do {
                try terminal.enter()
            } catch {
                writeAll(STDERR_FILENO, "mmo-client: cannot use the terminal (\(error)); try --plain\n")
                return ExitStatus.failure
            }
        }

        // Signals: handled in the loop (log out, restore the terminal), not by dying.
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { sink.yield(number == SIGWINCH ? .resize : .signal(number)) }
            source.resume()
            sources.append(source)
        }

        startReader(sink)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                sink.yield(.tick)
            }
        }

        let clock = ContinuousClock()
        let origin = clock.now
        var model = ClientScreenModel(server: "\(launch.host):\(launch.port)", mode: plain ? .plain : .fullScreen,
                                      settings: options.settings)
        var decoder = KeyDecoder()
        var splitter = LineSplitter()
        var client: GameClient?
        var lastByteAt = Duration.zero
        var lastRender: Duration?
        let frameInterval = Duration.milliseconds(1000 / max(1, options.framesPerSecond))
        var exit: (code: Int32, logout: Bool)?

        func perform(_ commands: [ClientCall]) {
            for command in commands {
                if case .exit(let code, let logout) = command {
                    exit = (code, logout)
                } else {
                    execute(command, client: client, launch: launch, clientName: options.clientName, sink: sink)
                }
            }
        }

        perform(model.start(now: clock.now - origin))
        for line in model.takeTranscript() where plain { writeAll(STDOUT_FILENO, line + "\n") }

        loop: for await event in events {
            let now = clock.now - origin
            var inputs: [ClientInput] = []
            switch event {
            case .bytes(let bytes):
                if plain {
                    inputs = splitter.feed(bytes).map { .line($0) }
                } else {
                    lastByteAt = now
                    for key in decoder.feed(bytes) {
                        if key == .control("l") { terminal.invalidate() } else { inputs.append(.key(key)) }
                    }
                }
            case .endOfFile:
                if plain { inputs = splitter.finish().map { .line($0) } }
                inputs.append(.endOfInput)
            case .input(let input):
                inputs = [input]
            case .connected(let connection):
                client = connection
                Task {
                    for await serverEvent in connection.events { sink.yield(.input(.server(serverEvent))) }
                }
                inputs = [.connected(serverVersion: connection.serverVersion)]
            case .resize:
                if !plain { terminal.invalidate() }
                lastRender = nil
            case .tick:
                // A lone ESC with nothing after it for 50 ms is the Escape key.
                if decoder.hasPending && now - lastByteAt >= .milliseconds(50) {
                    inputs = decoder.flush().map { .key($0) }
                }
                inputs.append(.tick)
            case .signal(let number):
                inputs = [.terminate(code: 128 + number)]
            }
            for input in inputs {
                perform(model.handle(input, now: now))
                if exit != nil { break }
            }
            let transcript = model.takeTranscript()
            if plain { for line in transcript { writeAll(STDOUT_FILENO, line + "\n") } }
            if exit != nil { break loop }
            if !plain, lastRender.map({ now - $0 >= frameInterval }) ?? true {
                let size = terminal.size()
                terminal.draw(model.render(width: size.width, height: size.height), width: size.width)
                lastRender = now
            }
        }

        ticker.cancel()
        let result = exit ?? (ExitStatus.failure, false)
        if let client {
            if result.logout { await client.logout(timeout: .seconds(2)) } else { await client.close() }
        }
        for source in sources { source.cancel() }
        if !plain {
            terminal.restore()
            // The alternate screen is gone: leave the reason in the normal scrollback.
            if let ending = model.ending { writeAll(STDERR_FILENO, "mmo-client: \(ending.title): \(ending.message)\n") }
        }
        return result.code
    }

    /// Carries out one command; answers come back on `sink`.
    private static func execute(_ command: ClientCall, client: GameClient?, launch: LaunchConfiguration, clientName: String,
                                sink: AsyncStream<Event>.Continuation) {
        if case .connect = command {
            Task {
                do {
                    var configuration = GameClientConfiguration()
                    configuration.tls = launch.clientTLS
                    let connection = try await GameClient.connect(host: launch.host, port: launch.port, clientName: clientName, configuration: configuration)
                    sink.yield(.connected(connection))
                } catch {
                    sink.yield(.input(.failed(.connect, clientError(error))))
                }
            }
            return
        }
        guard let client else {
            sink.yield(.input(.failed(request(for: command), .connectionClosed)))
            return
        }
        // Requests wait for their answer off the loop; the SDK puts them on the wire in order.
        func answer(_ request: ClientRequest, _ body: @escaping @Sendable () async throws -> ClientInput) {
            Task {
                do {
                    sink.yield(.input(try await body()))
                } catch {
                    sink.yield(.input(.failed(request, clientError(error))))
                }
            }
        }
        switch command {
        case .connect, .exit:
            break
        case .login:
            let token = launch.token
            answer(.login) { .loggedIn(try await client.login(token: token)) }
        case .listCharacters:
            answer(.listCharacters) { .characterList(try await client.listCharacters()) }
        case .createCharacter(let name, let classId, let appearance):
            answer(.createCharacter) { .characterCreated(try await client.createCharacter(name: name, classId: classId, appearance: appearance)) }
        case .deleteCharacter(let id):
            answer(.deleteCharacter) {
                try await client.deleteCharacter(id: id)
                return .characterDeleted(id: id)
            }
        case .enterWorld(let id):
            answer(.enterWorld) { .enteredWorld(try await client.enterWorld(characterId: id)) }
        case .leaveWorld:
            answer(.leaveWorld) {
                try await client.leaveWorld()
                return .leftWorld
            }
        case .move(let x, let y):
            do { try client.move(x: x, y: y) } catch { sink.yield(.input(.failed(.move, clientError(error)))) }
        case .say(let text):
            do { try client.say(text) } catch { sink.yield(.input(.failed(.say, clientError(error)))) }
        }
    }

    private static func request(for command: ClientCall) -> ClientRequest {
        switch command {
        case .connect, .exit: .connect
        case .login: .login
        case .listCharacters: .listCharacters
        case .createCharacter: .createCharacter
        case .deleteCharacter: .deleteCharacter
        case .enterWorld: .enterWorld
        case .leaveWorld: .leaveWorld
        case .move: .move
        case .say: .say
        }
    }

    private static func clientError(_ error: any Error) -> GameClientError {
        error as? GameClientError ?? .unexpectedResponse("\(error)")
    }

    /// Reads standard input on a thread of its own: a blocking `read` must not hold one of the
    /// concurrency pool's few threads. The thread ends at end of file; at exit the process
    /// takes it down wherever it is.
    private static func startReader(_ sink: AsyncStream<Event>.Continuation) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                if count > 0 {
                    sink.yield(.bytes(Array(buffer[0..<count])))
                } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
                    continue
                } else {
                    sink.yield(.endOfFile)
                    return
                }
            }
        }
        thread.name = "mmo-client stdin"
        thread.start()
    }
}

/// Splits plain-mode input bytes into lines (LF or CR LF), decoding UTF-8 leniently.
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The complete lines in what has arrived so far.
    public mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending.append(contentsOf: bytes)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            var line = Array(pending[..<newline])
            if line.last == 0x0D { line.removeLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            pending.removeFirst(newline + 1)
        }
        return lines
    }

    /// The last line when input ends without a newline.
    public mutating func finish() -> [String] {
        defer { pending.removeAll() }
        guard !pending.isEmpty else { return [] }
        return [String(decoding: pending, as: UTF8.self)]
    }
}
