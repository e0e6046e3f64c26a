import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// On a listening channel: after `accept` fails for lack of resources (EMFILE/ENFILE: out of
/// descriptors; ENOBUFS/ENOMEM), stops accepting for `pause`, then tries again.
///
/// NIO's `ServerBootstrap` installs an `AcceptBackoffHandler`, but it only delays the next
/// `read()`: after a failed accept the listener stays registered for readability, so epoll
/// reports the waiting client again at once and the loop retries `accept` forever. Measured
/// under `ulimit -n 64`: on the client port about 11,000 failed `accept4` a second; with the
/// client port exhausted, 50 connections waiting on the admin port cost 3.0 s of CPU in 3 s and
/// 50 on a gRPC port 2.0-2.9 s (a core each), until they went away. Turning `autoRead` off takes
/// the listener out of the selector; turning it on again after the pause resumes accepting.
/// Clients meanwhile wait in the backlog and are served once descriptors are free.
///
/// Used on every listener: the packet service's client port (its bootstrap's server channel
/// initializer), the admin port (Hummingbird's `onServerRunning`) and the gRPC ports
/// (grpc-swift-nio-transport's `onBindTCPListener`). Add it first in the pipeline: it must see
/// the error before NIO's `AcceptBackoffHandler`, which swallows it.
public final class ListenerAcceptPause: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = any Channel

    private let pause: TimeAmount
    private let paused: (IOError) -> Void
    private var resume: Scheduled<Void>?

    /// - Parameter paused: called once per pause (to log it).
    public init(pause: TimeAmount, paused: @escaping (IOError) -> Void) {
        self.pause = pause
        self.paused = paused
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let ioError = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(ioError.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        guard resume == nil else { return }
        paused(ioError)
        let channel = context.channel
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        resume = context.eventLoop.scheduleTask(in: pause) {
            me.value.resume = nil
            try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        }
    }

    /// Adds a pause handler first in a listening channel's pipeline, logging each pause as a
    /// warning naming `listener`. For a bootstrap hook (gRPC's `onBindTCPListener`) or a bound
    /// channel (the admin port).
    public static func install(on channel: any Channel, listener: String, logger: Logger) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            let pause = ListenerAcceptPause(pause: .seconds(1)) { error in
                logger.warning("accept failed; pausing accepts", metadata: ["listener": "\(listener)", "error": "\(error)"])
            }
            try channel.pipeline.syncOperations.addHandler(pause, position: .first)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
    }
}
