import CoreMetrics
import Metrics
import Prometheus

/// The process-wide metrics system: swift-metrics backed by one Prometheus registry.
///
/// Every PixCrawler process (`serve`, `worker`) calls ``bootstrap()`` once at start and renders
/// ``render()`` on its metrics endpoint. Names are written the OpenTelemetry way
/// (`pixcrawl.images.accepted`) and exported with underscores (`pixcrawl_images_accepted`).
public enum PixMetrics {
    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (prometheusName(name), labels.map { (prometheusName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Installs the Prometheus backend for swift-metrics (idempotent) and returns its registry.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        registry
    }

    /// The process's metrics in the Prometheus text format.
    public static func render() -> String {
        registry.emitToString()
    }

    /// `http.server.active_requests` → `http_server_active_requests`: Prometheus allows `[a-zA-Z0-9_:]`.
    public static func prometheusName(_ name: String) -> String {
        String(
            name.map { character -> Character in
                character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == ":")
                    ? character : "_"
            })
    }
}
