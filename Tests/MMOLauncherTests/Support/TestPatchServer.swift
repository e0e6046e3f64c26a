import Foundation
import Hummingbird
import Synchronization

/// A real HTTP server on 127.0.0.1 (Hummingbird, port chosen by the kernel) that serves
/// in-memory files with `Range` support, records every request, and can be told to cut a
/// download halfway or to ignore `Range`.
final class TestPatchServer: Sendable {
    struct Seen: Sendable, Equatable {
        var path: String
        var range: String?
    }

    private struct State {
        var files: [String: [UInt8]] = [:]
        /// path -> bytes after which the connection is closed (once).
        var cutAfter: [String: Int] = [:]
        var ignoreRange = false
        var seen: [Seen] = []
    }

    private let state = Mutex(State())
    private let task: Task<Void, any Error>
    let port: Int

    private struct CutConnection: Error {}

    private init(task: Task<Void, any Error>, port: Int) {
        self.task = task
        self.port = port
    }

    /// Starts a server; stop it with `stop()`.
    static func start() async throws -> TestPatchServer {
        let box = Box()
        let router = Router()
        router.get("**") { request, _ -> Response in
            guard let server = box.server.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await server.respond(to: request)
        }
        let portStream = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test-patch-server"),
            onServerRunning: { channel in
                portStream.continuation.yield(channel.localAddress?.port ?? 0)
                portStream.continuation.finish()
            },
            // Cut connections and cancellation at stop are expected here; keep the output clean.
            logger: quietLogger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in portStream.stream { port = value }
        let server = TestPatchServer(task: task, port: port)
        box.server.withLock { $0 = server }
        return server
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func put(_ path: String, _ bytes: [UInt8]) {
        state.withLock { $0.files[path] = bytes }
    }

    func put(_ path: String, _ text: String) {
        put(path, Array(text.utf8))
    }

    func cut(_ path: String, after bytes: Int) {
        state.withLock { $0.cutAfter[path] = bytes }
    }

    func setIgnoreRange(_ ignore: Bool) {
        state.withLock { $0.ignoreRange = ignore }
    }

    var seen: [Seen] { state.withLock { $0.seen } }

    func clearSeen() {
        state.withLock { $0.seen = [] }
    }

    private func respond(to request: Request) async throws -> Response {
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        let range = request.headers[.range]
        let (file, cut, ignoreRange) = state.withLock { state -> ([UInt8]?, Int?, Bool) in
            state.seen.append(Seen(path: path, range: range))
            let cut = state.cutAfter.removeValue(forKey: path)
            return (state.files[path], cut, state.ignoreRange)
        }
        guard let file else { return Response(status: .notFound) }

        var start = 0
        var status = HTTPResponse.Status.ok
        var headers: HTTPFields = [.acceptRanges: "bytes"]
        if let range, !ignoreRange {
            // Only the form the launcher sends: bytes=N-
            guard range.hasPrefix("bytes="), range.hasSuffix("-"), let from = Int(range.dropFirst(6).dropLast()) else {
                return Response(status: .badRequest)
            }
            guard from < file.count else {
                return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(file.count)"])
            }
            start = from
            status = .partialContent
            headers[.contentRange] = "bytes \(from)-\(file.count - 1)/\(file.count)"
        }
        let body = Array(file[start...])
        headers[.contentLength] = String(body.count)
        if let cut {
            // Send `cut` bytes, then fail the body: the server drops the connection mid-response.
            let sent = Array(body.prefix(cut))
            return Response(
                status: status, headers: headers,
                body: ResponseBody(contentLength: body.count) { writer in
                    try await writer.write(ByteBuffer(bytes: sent))
                    try await Task.sleep(for: .milliseconds(50))
                    throw CutConnection()
                })
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Lets the route closure reach the server object created after the router.
    private final class Box: Sendable {
        let server = Mutex<TestPatchServer?>(nil)
    }
}
