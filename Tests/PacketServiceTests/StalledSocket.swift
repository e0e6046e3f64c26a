import NIOCore

/// Stands in for a socket whose send buffer is full (a client that stopped reading): first in
/// the pipeline, it holds every write and ignores flushes until `drain()`, and fails the writes
/// it holds when the channel closes, as a real socket does. `NIOAsyncTestingChannel` alone
/// hands every flushed write to the test at once, so it cannot show a write lost to a close.
final class StalledSocket: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var held: [(data: NIOAny, promise: EventLoopPromise<Void>?)] = []
    private var stalled = true
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if stalled {
            held.append((data, promise))
        } else {
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if !stalled { context.flush() }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        let dropped = held
        held = []
        for write in dropped { write.promise?.fail(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    /// The client reads again: everything held goes out, and later writes pass straight through.
    func drain() {
        guard let context else { return }
        stalled = false
        let pending = held
        held = []
        for write in pending { context.write(write.data, promise: write.promise) }
        context.flush()
    }
}
