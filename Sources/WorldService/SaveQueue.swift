import Logging
import Metrics
import Synchronization

/// Positions waiting to be saved, keyed by character so a newer position (greater version)
/// replaces an older one that was never written. Every write runs in an unstructured task
/// chained after the previous one: writes never overlap and a caller's cancellation never aborts
/// a write half-way. (Order across processes is the database's job: it applies a save only over
/// an older version.) Each landed state is reported back to the tick (`drainLanded`), which
/// uses it to forget departed characters' retained states (`RecentDepartures`).
final class SaveQueue: Sendable {
    private struct State {
        var pending: [UInt64: CharacterPosition] = [:]
        var lastFlush: Task<Bool, Never>?
        /// (character, version) of states whose save returned success, until the tick drains them.
        var landed: [(characterID: UInt64, version: UInt64)] = []
    }

    private let state = Mutex(State())
    private let store: any CharacterStateStore
    private let chunkSize: Int
    private let logger: Logger
    private let saved: Counter
    private let failures: Counter
    /// Wakes the saver loop; holds at most one wake-up, since one flush takes everything pending.
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(store: any CharacterStateStore, chunkSize: Int, logger: Logger, saved: Counter, failures: Counter) {
        self.store = store
        self.chunkSize = chunkSize
        self.logger = logger
        self.saved = saved
        self.failures = failures
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Queues positions (replacing older queued ones of the same characters) and wakes the saver.
    func enqueue(_ positions: [CharacterPosition]) {
        guard !positions.isEmpty else { return }
        state.withLock { s in
            for p in positions where s.pending[p.characterID].map({ $0.version <= p.version }) ?? true {
                s.pending[p.characterID] = p
            }
        }
        signal.yield()
    }

    /// Moves the (character, version) pairs saved since the last call into `into` (emptied
    /// first). The tick calls it; swapping keeps both arrays' capacity.
    func drainLanded(into buffer: inout [(characterID: UInt64, version: UInt64)]) {
        buffer.removeAll(keepingCapacity: true)
        state.withLock { s in swap(&s.landed, &buffer) }
    }

    /// Wakes the saver loop without queuing anything (a retry).
    func wake() { signal.yield() }

    /// Ends the saver loop's wait.
    func finishSignals() { signal.finish() }

    /// Writes everything pending; true when all of it was saved. Failed states are queued again
    /// unless a newer position for the character arrived meanwhile.
    func flush() async -> Bool {
        let task = state.withLock { s -> Task<Bool, Never> in
            let previous = s.lastFlush
            let task = Task { [self] in
                _ = await previous?.value
                return await self.write()
            }
            s.lastFlush = task
            return task
        }
        return await task.value
    }

    private func write() async -> Bool {
        let batch = state.withLock { s -> [CharacterPosition] in
            let batch = Array(s.pending.values)
            s.pending.removeAll(keepingCapacity: true)
            return batch
        }
        var start = 0
        while start < batch.count {
            let end = min(start + chunkSize, batch.count)
            do {
                try await store.save(Array(batch[start..<end]))
                saved.increment(by: end - start)
                state.withLock { s in
                    for st in batch[start..<end] { s.landed.append((st.characterID, st.version)) }
                }
                start = end
            } catch {
                let unsaved = batch[start...]
                state.withLock { s in
                    // Unless a newer state of the character was queued meanwhile.
                    for st in unsaved where s.pending[st.characterID].map({ $0.version < st.version }) ?? true {
                        s.pending[st.characterID] = st
                    }
                }
                failures.increment()
                logger.warning(
                    "saving character states failed; will retry",
                    metadata: ["unsaved": "\(unsaved.count)", "error": "\(error)"])
                return false
            }
        }
        return true
    }
}
