import MMOProtocol
import NIOCore

extension WorldSimulation {
    /// Encodes `event` into the player's update for this tick.
    @inline(__always)
    mutating func push(_ event: WorldEvent, to slot: Int32) {
        let s = Int(slot)
        if updates[s]?.append(event) == true { return }
        startNextUpdate(s)
        // A fresh update always has room for one event: the largest is far below 512 bytes,
        // the smallest `maxUpdateBodyBytes` allowed.
        _ = updates[s]?.append(event)
    }

    /// Copies an event encoded by `encodeOnce` into the player's update for this tick.
    @inline(__always)
    mutating func push(encoded event: ByteBuffer, to slot: Int32) {
        let s = Int(slot)
        if updates[s]?.append(encoded: event) == true { return }
        startNextUpdate(s)
        _ = updates[s]?.append(encoded: event)
    }

    /// Called when the player's update could not take an event: either the player has no
    /// update yet this tick (its first event starts one and registers it for output), or the
    /// update is full (65535 events or `maxUpdateBodyBytes`) and is set aside for another.
    mutating func startNextUpdate(_ s: Int) {
        if var full = updates[s].take() {
            // `take()` leaves `full` the buffer's only owner: finish() patches it in place.
            spilled[Int32(s), default: []].append(full.finish())
            updates[s] = UpdateEncoder(
                tick: tick, capacity: 1024, maxBodyBytes: configuration.maxUpdateBodyBytes, allocator: allocator)
        } else {
            // Sized for a move from everyone in view, so a typical update never reallocates.
            updates[s] = UpdateEncoder(
                tick: tick, capacity: 32 + 24 * views[s].count, maxBodyBytes: configuration.maxUpdateBodyBytes,
                allocator: allocator)
            dirty.append(Int32(s))
        }
    }

    /// Encodes a broadcast event once; the result is shared by all its recipients.
    mutating func encodeOnce(_ event: WorldEvent) -> ByteBuffer {
        eventBytes.clear()
        event.encode(into: &eventBytes)
        return eventBytes
    }

    /// Moves every player's finished update into `outputs`.
    mutating func collectUpdates() {
        for index in dirty.indices {
            let slot = dirty[index]
            let s = Int(slot)
            // A player removed after its first event has no update any more (`remove` drops it).
            // `take()` leaves `update` the buffer's only owner: finish() patches it in place.
            guard var update = updates[s].take() else { continue }
            let key = players[s].key
            if let earlier = spilled.removeValue(forKey: slot) {
                for body in earlier { outputs.append(SessionOutput(key: key, outcome: .update(body))) }
            }
            outputs.append(SessionOutput(key: key, outcome: .update(update.finish())))
        }
    }

    /// The `appear` payload of a player at its current position.
    func appearance(of slot: Int32) -> WorldEvent.EntityAppearance {
        var a = players[Int(slot)].look
        let p = positions[Int(slot)]
        a.x = p.x
        a.y = p.y
        return a
    }
}
