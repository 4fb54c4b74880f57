import Hummingbird
import Logging
import NIOCore

/// A minimal HTTP endpoint serving the process's metrics, for processes that are not `pixcrawl serve`
/// (`pixcrawl worker --metrics-port`). Run it in the process's `ServiceGroup`.
public enum MetricsEndpoint {
    /// An application answering `GET /metrics` (Prometheus text) and `GET /healthz`.
    /// - Parameters:
    ///   - host: address to bind; loopback by default.
    ///   - port: port to bind; 0 picks a free one.
    ///   - logger: the process's logger.
    ///   - onServerRunning: called with the bound port once listening.
    public static func application(
        host: String = "127.0.0.1", port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        PixMetrics.bootstrap()
        let router = Router()
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: PixMetrics.render())))
        }
        router.get("healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "pixcrawl-metrics"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
