import Metrics
import Prometheus

public enum MetricsSetup {
    private static let once = OnceFlag()
    /// The registry `/metrics` renders. Shared by every service in the process.
    public static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics with the Prometheus exporter once per process. Must run before
    /// any metric object is created: objects made earlier stay bound to the no-op backend.
    public static func bootstrap() {
        guard once.claim() else { return }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The Prometheus text exposition of every metric, with `# HELP` from ``MetricHelp``.
    public static func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return MetricHelp.addingHelp(to: buffer)
    }
}
