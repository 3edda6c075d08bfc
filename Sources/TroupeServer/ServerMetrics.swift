import Metrics
import Prometheus
import TroupeCore
import TroupeService

/// The process's metrics for Prometheus: the first server made bootstraps swift-metrics with a
/// Prometheus registry (once per process, as swift-metrics requires), and `/metrics` emits it.
/// What is counted is the library's and Hummingbird's (request counts and durations by route).
public enum ServerMetrics {
    /// The registry every metric of the process is kept in.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a hot-tier read (sub-millisecond) to a long turn on a small CPU.
        factory.defaultDurationHistogramBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The text `/metrics` answers with, after the service brought its looked-up gauges up to date.
    static func exposition(_ service: TroupeService, _ context: RequestContext) async throws -> [UInt8] {
        guard context.principal.actsOnWholeHome else {
            throw TroupeError(.denied, "\(context.principal.id) may not read the metrics: a client key acts only as its personas")
        }
        await service.runtime.refreshMetrics()
        return registry.emitToBuffer()
    }
}
