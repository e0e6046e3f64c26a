import Foundation

/// Helpers every test target shares: one `eventually`, one `TestFailure`, one answer to "must
/// the real PostgreSQL and Redis be there?". Kept free of the code under test so any test target
/// can depend on it.

/// A test precondition that did not hold; its message says which.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` every `interval` until it holds; throws `TestFailure` if it still does not
/// after `timeout`. For effects that travel a socket, a stream or a tick loop; suites that use it
/// carry a `.timeLimit` so a hang cannot stall the run.
public func eventually(
    _ what: @autoclosure () -> String = "condition",
    timeout: Duration = .seconds(5),
    interval: Duration = .milliseconds(5),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw TestFailure("\(what()) not met within \(timeout)")
        }
        try await Task.sleep(for: interval)
    }
}

/// Whether the real PostgreSQL and Redis are required: under CI (`CI` set to anything but
/// empty, `0` or `false`) or with `MMO_REQUIRE_SERVICES=1`, which scripts/test.sh sets. When
/// required, a missing service fails the test instead of skipping it.
public enum TestServices {
    public static func required(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let ci = environment["CI"].map { !$0.isEmpty && $0 != "0" && $0.lowercased() != "false" } ?? false
        return ci || environment["MMO_REQUIRE_SERVICES"] == "1"
    }
}
