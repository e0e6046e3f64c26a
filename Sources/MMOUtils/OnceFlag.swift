import Synchronization

/// A flag that can be claimed exactly once per process (bootstraps of global systems).
final class OnceFlag: Sendable {
    private let claimed = Atomic<Bool>(false)
    init() {}
    func claim() -> Bool {
        claimed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
