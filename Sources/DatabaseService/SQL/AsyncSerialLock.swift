import Synchronization

/// A FIFO mutual-exclusion lock for async code, held across suspension points.
///
/// SQLite mode has exactly one connection; statements of concurrent requests must not interleave
/// with another request's BEGIN ... COMMIT, so every use of the connection holds this lock.
/// Waiting is cancellable.
final class AsyncSerialLock: Sendable {
    private struct State {
        var locked = false
        var nextID: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        /// Waiters that have an id but have not enqueued their continuation yet.
        var registering: Set<UInt64> = []
        /// Of those, the ones cancelled in the meantime.
        var cancelledEarly: Set<UInt64> = []
    }

    private let state = Mutex(State())

    func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async throws {
        let id: UInt64? = state.withLock { state in
            if !state.locked {
                state.locked = true
                return nil
            }
            state.nextID &+= 1
            state.registering.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return }  // uncontended fast path

        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state -> Bool? in
                    state.registering.remove(id)
                    if state.cancelledEarly.remove(id) != nil { return true }
                    // The holder may have released the lock between our first check and now.
                    if !state.locked {
                        state.locked = true
                        return false
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                switch cancelled {
                case true?: continuation.resume(throwing: CancellationError())
                case false?: continuation.resume()
                case nil: break
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                // Not enqueued yet: tell the registration. Already granted: nothing to do.
                if state.registering.contains(id) { state.cancelledEarly.insert(id) }
                return nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            // Ownership passes straight to the next waiter: `locked` stays true.
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
