import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// On the listening channel: after `accept` fails for lack of resources (EMFILE/ENFILE: out of
/// descriptors; ENOBUFS/ENOMEM), stops accepting for `pause`, then tries again.
///
/// NIO's `AcceptBackoffHandler` is not enough: it only delays the next `read()`, but after a
/// failed accept the listener stays registered for readability, so epoll reports the waiting
/// client again at once and the loop retries `accept` forever (measured at a 64-file limit:
/// about 11,000 failed `accept4` a second, one core at 100 %). Turning `autoRead` off takes the
/// listener out of the selector; turning it on again after the pause resumes accepting. Clients
/// meanwhile wait in the backlog and are served once descriptors are free.
final class AcceptPauseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel

    private let pause: TimeAmount
    private let paused: (IOError) -> Void
    private var resume: Scheduled<Void>?

    /// - Parameter paused: called once per pause (to log it).
    init(pause: TimeAmount, paused: @escaping (IOError) -> Void) {
        self.pause = pause
        self.paused = paused
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
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

    func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
    }
}
