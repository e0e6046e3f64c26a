import NIOCore
import NIOPosix
import Testing

@testable import MMORedis

/// A TCP server that answers every read with fixed bytes, optionally one byte per TCP write.
/// Lets tests put exactly the bytes they want on the wire, including invalid ones.
final class ScriptedReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: ByteBuffer
    let bytewise: Bool

    init(reply: ByteBuffer, bytewise: Bool) {
        self.reply = reply
        self.bytewise = bytewise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.bytewise {
            var reply = self.reply
            while let byte = reply.readSlice(length: 1) {
                context.writeAndFlush(Self.wrapOutboundOut(byte), promise: nil)
            }
        } else {
            context.writeAndFlush(Self.wrapOutboundOut(self.reply), promise: nil)
        }
    }
}

func withScriptedServer<T>(
    reply: String,
    bytewise: Bool = false,
    _ body: (RedisClientConfiguration) async throws -> T
) async throws -> T {
    let replyBuffer = ByteBuffer(string: reply)
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ScriptedReplyHandler(reply: replyBuffer, bytewise: bytewise))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    var configuration = RedisClientConfiguration(port: server.localAddress!.port!, commandTimeout: .seconds(5))
    configuration.poolSize = 1
    do {
        let result = try await body(configuration)
        try await server.close()
        return result
    } catch {
        try? await server.close()
        throw error
    }
}

@Suite(.timeLimit(.minutes(1)))
struct FakeServerTests {
    @Test func decodesRepliesArrivingOneBytePerSegment() async throws {
        let reply = "*3\r\n$5\r\nhello\r\n*2\r\n:-7\r\n$-1\r\n*-1\r\n"
        try await withScriptedServer(reply: reply, bytewise: true) { configuration in
            try await withClient(configuration) { client in
                for _ in 0..<5 {
                    let value = try await client.send(["ANYTHING"])
                    #expect(value == .array([bulk("hello"), .array([.integer(-7), .bulkString(nil)]), .array(nil)]))
                }
            }
        }
    }

    @Test(arguments: [
        "!garbage\r\n",
        "$536870913\r\n",  // bulk over 512 MiB
        String(repeating: "*1\r\n", count: 40) + ":1\r\n",  // nested deeper than 32
        ":12x\r\n",
    ])
    func protocolViolationsFailTheCommandAndCloseTheConnection(reply: String) async throws {
        try await withScriptedServer(reply: reply) { configuration in
            try await withClient(configuration) { client in
                // Every attempt reconnects and fails the same way; none hangs.
                for _ in 0..<3 {
                    await expectRedisError(.protocolError) { _ = try await client.send(["PING"]) }
                }
            }
        }
    }

    @Test func unsolicitedRepliesCloseTheConnection() async throws {
        // Two replies per command: the second has no command waiting for it.
        try await withScriptedServer(reply: "+PONG\r\n+PONG\r\n") { configuration in
            try await withClient(configuration) { client in
                try await client.ping()
                // Depending on timing the extra reply is seen before or after the next command
                // is queued; either way the client must not mis-assign replies and must recover.
                for _ in 0..<5 {
                    do {
                        try await client.ping()
                    } catch let error as RedisError {
                        #expect([.protocolError, .connectionClosed].contains(error.code), "\(error)")
                    }
                }
            }
        }
    }
}
