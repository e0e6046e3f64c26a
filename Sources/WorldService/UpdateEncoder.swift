import MMOProtocol
import NIOCore

/// One player's WORLD_UPDATE body for one tick: `u64 tick | u16 count | events`
/// (docs/protocol.md), the same bytes `ServerMessage.worldUpdate` encodes.
///
/// Why a builder of its own: a broadcast event (a player's move, a chat line) is the
/// same bytes for every recipient, so the simulation encodes it once with the protocol's own
/// `WorldEvent.encode(into:)` and copies those bytes to each recipient with `append(encoded:)`
/// - one copy instead of four or five field writes, and the count is patched once at the end
/// instead of after every event. In a crowd this halves the tick. The event format itself stays
/// defined only in MMOProtocol; a test checks the bodies byte for byte against
/// `ServerMessage.worldUpdate`.
struct UpdateEncoder {
    private(set) var buffer: ByteBuffer
    private(set) var count = 0

    /// Largest body; past it the caller starts a second update for the same tick.
    let maxBodyBytes: Int

    /// `tick` and `count` precede the events.
    static let headerSize = 10

    init(tick: UInt64, capacity: Int, maxBodyBytes: Int, allocator: ByteBufferAllocator) {
        self.maxBodyBytes = maxBodyBytes
        buffer = allocator.buffer(capacity: min(max(capacity, Self.headerSize + 32), maxBodyBytes))
        buffer.writeInteger(tick)
        buffer.writeInteger(UInt16(0))
    }

    /// Appends an event; false (appending nothing) when the body is full by count or by size.
    @inline(__always)
    mutating func append(_ event: WorldEvent) -> Bool {
        guard count < Int(UInt16.max) else { return false }
        let before = buffer.writerIndex
        event.encode(into: &buffer)
        guard buffer.readableBytes <= maxBodyBytes else {
            buffer.moveWriterIndex(to: before)
            return false
        }
        count += 1
        return true
    }

    /// Appends one event already encoded with `WorldEvent.encode(into:)`.
    @inline(__always)
    mutating func append(encoded event: ByteBuffer) -> Bool {
        guard count < Int(UInt16.max), buffer.readableBytes + event.readableBytes <= maxBodyBytes else {
            return false
        }
        buffer.writeImmutableBuffer(event)
        count += 1
        return true
    }

    /// Patches the event count and returns the finished body. Mutating, so the count is written
    /// in place rather than into a copy of the buffer.
    mutating func finish() -> ByteBuffer {
        buffer.setInteger(UInt16(count), at: buffer.readerIndex + 8)
        return buffer
    }
}
