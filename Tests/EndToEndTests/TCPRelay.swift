import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP relay in front of a server, for tests that need a network to fail the way
/// networks do: `cut()` closes every relayed connection at once (the client sees its connection
/// drop, the server sees its peer vanish), `freeze()` keeps them open but silently drops all
/// bytes both ways (a dead link that neither side has noticed). New connections are relayed
/// normally after either.
final class TCPRelay: Sendable {
    let port: Int
    private let listener: any Channel
    private let state: NIOLockedValueBox<[Pair]>

    private final class Pair: Sendable {
        let client: any Channel
        let server: any Channel
        let frozen: NIOLockedValueBox<Bool>
        init(client: any Channel, server: any Channel, frozen: NIOLockedValueBox<Bool>) {
            self.client = client
            self.server = server
            self.frozen = frozen
        }
    }

    /// Forwards what one side reads to the other, unless the pair is frozen.
    private final class Forwarder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let peer: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)
        let frozen: NIOLockedValueBox<Bool>

        init(frozen: NIOLockedValueBox<Bool>) { self.frozen = frozen }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !frozen.withLockedValue({ $0 }), let peer = peer.withLockedValue({ $0 }) else { return }
            peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !frozen.withLockedValue({ $0 }) { peer.withLockedValue { $0 }?.close(promise: nil) }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private init(port: Int, listener: any Channel, state: NIOLockedValueBox<[Pair]>) {
        self.port = port
        self.listener = listener
        self.state = state
    }

    /// Listens on 127.0.0.1 (a free port) and relays every connection to `targetPort`.
    static func start(to targetPort: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> TCPRelay {
        let pairs = NIOLockedValueBox<[Pair]>([])
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { client in
                let frozen = NIOLockedValueBox(false)
                let toServer = Forwarder(frozen: frozen)
                let toClient = Forwarder(frozen: frozen)
                return client.pipeline.addHandler(toServer).flatMap {
                    ClientBootstrap(group: client.eventLoop)
                        .channelInitializer { server in server.pipeline.addHandler(toClient) }
                        .connect(host: "127.0.0.1", port: targetPort)
                }.map { server in
                    toServer.peer.withLockedValue { $0 = server }
                    toClient.peer.withLockedValue { $0 = client }
                    pairs.withLockedValue { $0.append(Pair(client: client, server: server, frozen: frozen)) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPRelay(port: listener.localAddress!.port!, listener: listener, state: pairs)
    }

    /// Closes every relayed connection on both sides at once, with no LOGOUT: to the client
    /// and the server alike the connection just ends.
    func cut() async {
        let pairs = state.withLockedValue { p in defer { p.removeAll() }; return p }
        for pair in pairs {
            for channel in [pair.client, pair.server] { try? await channel.close().get() }
        }
    }

    /// Stops relaying bytes on every current connection without closing it.
    func freeze() {
        for pair in state.withLockedValue({ $0 }) {
            pair.frozen.withLockedValue { $0 = true }
        }
    }

    func close() async {
        await cut()
        try? await listener.close().get()
    }
}
