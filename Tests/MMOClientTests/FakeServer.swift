import MMOProtocol
import NIOCore
import NIOPosix
import Synchronization

/// One accepted connection, as a test script sees it.
final class FakeConnection: Sendable {
    let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    func send(_ message: ServerMessage) {
        var buffer = channel.allocator.buffer(capacity: 64)
        message.encode(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Sends `message` after `delay`, from the event loop (no task).
    func send(_ message: ServerMessage, after delay: TimeAmount) {
        channel.eventLoop.scheduleTask(in: delay) { self.send(message) }
    }

    func sendRaw(_ buffer: ByteBuffer) {
        channel.writeAndFlush(buffer, promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

    /// The answers of a cooperative server for HELLO and PING; nothing for anything else.
    func standardReply(to message: ClientMessage) {
        switch message {
        case .hello: send(.helloAck(version: ProtocolLimits.version, maxClientFrame: UInt32(ProtocolLimits.defaultMaxClientFrame)))
        case .ping(let nonce): send(.pong(nonce: nonce))
        case .login: send(.loginResult(code: .ok, accountId: "acc-1", displayName: "Tester"))
        default: break
        }
    }
}

/// A protocol server on 127.0.0.1, port 0, that records every client message and lets the test
/// decide the answers. Built from MMOProtocol's codecs, like the real packet service.
final class FakeServer: Sendable {
    typealias Script = @Sendable (ClientMessage, FakeConnection) -> Void

    private let serverChannel: any Channel
    private let recorder: Recorder
    let port: Int

    private init(serverChannel: any Channel, recorder: Recorder) {
        self.serverChannel = serverChannel
        self.recorder = recorder
        self.port = serverChannel.localAddress!.port!
    }

    /// Starts a server that runs `script` for every decoded client message.
    static func start(_ script: @escaping Script = { message, connection in connection.standardReply(to: message) }) async throws -> FakeServer {
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: ProtocolLimits.defaultMaxClientFrame)))
                    try child.pipeline.syncOperations.addHandler(FakeServerHandler(script: script, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeServer(serverChannel: channel, recorder: recorder)
    }

    /// Everything received so far, in order.
    var received: [ClientMessage] { recorder.messages.withLock { $0 } }

    func shutdown() async {
        try? await serverChannel.close()
    }
}

private final class Recorder: Sendable {
    let messages = Mutex<[ClientMessage]>([])
}

private final class FakeServerHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    let script: FakeServer.Script
    let recorder: Recorder

    init(script: @escaping FakeServer.Script, recorder: Recorder) {
        self.script = script
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let message = try? ClientMessage.decode(frame) else {
            context.close(promise: nil)
            return
        }
        recorder.messages.withLock { $0.append(message) }
        script(message, FakeConnection(channel: context.channel))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
