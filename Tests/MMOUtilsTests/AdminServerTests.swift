import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Testing
@testable import MMOUtils

/// The admin port over real HTTP on a free loopback port.
@Suite struct AdminServerTests {
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    @Test func healthAndMetrics() async throws {
        MetricsSetup.bootstrap()
        // Shares the process's registry with tests that run promtool on it: it needs help too.
        MetricHelp.register("mmo_admin_test_total", help: "A test counter.")
        Counter(label: "mmo_admin_test_total").increment(by: 3)
        let ready = Flag()
        let bound = Mutex<Int?>(nil)
        let server = AdminServer(
            configuration: .init(host: "127.0.0.1", port: 0),
            checks: [ReadinessCheck("dependency") { ready.value.load(ordering: .relaxed) }],
            logger: Logger(label: "test"),
            onBound: { port in bound.withLock { $0 = port } })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let task = Task { try await group.run() }
        defer { task.cancel() }
        var port: Int?
        for _ in 0..<200 where port == nil {
            port = bound.withLock { $0 }
            try await Task.sleep(for: .milliseconds(10))
        }
        let p = try #require(port)

        #expect(try await get(p, "/health/live").0 == 200)
        let notReady = try await get(p, "/health/ready")
        #expect(notReady.0 == 503)
        #expect(notReady.1.contains("dependency"))
        ready.value.store(true, ordering: .relaxed)
        #expect(try await get(p, "/health/ready").0 == 200)
        let metrics = try await get(p, "/metrics")
        #expect(metrics.0 == 200)
        #expect(metrics.1.contains("mmo_admin_test_total 3"))
        #expect(metrics.1.contains("# HELP mmo_admin_test_total A test counter.\n# TYPE mmo_admin_test_total counter\n"))
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
