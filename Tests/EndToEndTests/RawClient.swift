import Foundation
import MMOProtocol
import MMOTestSupport
import NIOCore
import NIOPosix
import Synchronization

/// A bare protocol client over real TCP: frames in, decoded `ServerMessage`s logged. For tests
/// that must control the socket themselves (drop it without LOGOUT, RESUME on a new one), which
/// the SDK's `GameClient` deliberately hides (it resumes by itself).
final class RawClient: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = Frame
        let messages = Mutex<[ServerMessage]>([])
        let closed = Mutex(false)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            if let message = try? ServerMessage.decode(frame) {
                messages.withLock { $0.append(message) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLock { $0 = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int) async throws -> RawClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: ProtocolLimits.maxServerFrame)), collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let client = RawClient(channel: channel, collector: collector)
        client.send(.hello(.init(clientName: "raw-e2e")))
        _ = try await client.next("HELLO_ACK") { if case .helloAck = $0 { true } else { false } }
        return client
    }

    var messages: [ServerMessage] { collector.messages.withLock { $0 } }
    var isClosed: Bool { collector.closed.withLock { $0 } }

    func send(_ message: ClientMessage) {
        var buffer = channel.allocator.buffer(capacity: 64)
        message.encode(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// The first message (from `after` on) that matches; waits for it.
    func next(
        _ what: String, after index: Int = 0, timeout: Duration = .seconds(10), _ matches: @escaping (ServerMessage) -> Bool
    ) async throws -> ServerMessage {
        var found: ServerMessage?
        try await eventually(what, timeout: timeout, interval: .milliseconds(10)) {
            let messages = self.messages
            found = messages.indices.filter { $0 >= index }.map { messages[$0] }.first(where: matches)
            return found != nil
        }
        return found!
    }

    /// The world events received so far, in order (from message `index` on).
    func worldEvents(after index: Int = 0) -> [WorldEvent] {
        let messages = self.messages
        var events: [WorldEvent] = []
        for i in messages.indices where i >= index {
            if case .worldUpdate(_, let list) = messages[i] { events += list }
        }
        return events
    }

    /// Drops the connection the way a dying network does from the server's point of view: no
    /// LOGOUT, the socket just closes.
    func kill() async {
        try? await channel.close()
    }

    // MARK: - Requests

    func login(token: String) async throws {
        let index = messages.count
        send(.login(token: token))
        let result = try await next("LOGIN_RESULT", after: index) { if case .loginResult = $0 { true } else { false } }
        guard case .loginResult(.ok, _, _) = result else { throw TestFailure("login failed: \(result)") }
    }

    /// Creates `name` and enters the world; returns the entry and the first resume token.
    func createAndEnter(_ name: String) async throws -> (characterId: UInt64, entry: WorldEntry, token: String) {
        var index = messages.count
        send(.characterCreate(name: name, classId: 1, appearance: 0))
        let created = try await next("CHARACTER_CREATE_RESULT", after: index) { if case .characterCreateResult = $0 { true } else { false } }
        guard case .characterCreateResult(.ok, let character?, _) = created else { throw TestFailure("create failed: \(created)") }
        index = messages.count
        send(.enterWorld(characterId: character.id))
        let entered = try await next("ENTER_WORLD_RESULT", after: index) { if case .enterWorldResult = $0 { true } else { false } }
        guard case .enterWorldResult(.ok, let entry?) = entered else { throw TestFailure("enter failed: \(entered)") }
        let token = try await next("RESUME_TOKEN", after: index) { if case .resumeToken = $0 { true } else { false } }
        guard case .resumeToken(let value, _) = token else { throw TestFailure("no token") }
        return (character.id, entry, value)
    }

    /// RESUME on this (fresh) connection; returns RESUME_RESULT.
    func resume(_ token: String) async throws -> ServerMessage {
        let index = messages.count
        send(.resume(token: token))
        return try await next("RESUME_RESULT", after: index) { if case .resumeResult = $0 { true } else { false } }
    }
}
