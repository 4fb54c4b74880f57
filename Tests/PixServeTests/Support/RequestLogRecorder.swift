import Logging
import Synchronization

/// A log handler that keeps the `http.route` of every request log line, so a test can wait for a request
/// the browser makes instead of sleeping.
final class RequestLogRecorder: LogHandler, Sendable {
    private let routes = Mutex<[String]>([])

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .info }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        guard event.message.description == "request", let route = event.metadata?["http.route"] else { return }
        let method = event.metadata?["http.request.method"].map { "\($0)" } ?? "?"
        routes.withLock { $0.append("\(method) \(route)") }
    }

    /// How many requests to `method route` were logged.
    func count(_ request: String) -> Int {
        routes.withLock { $0.count { $0 == request } }
    }
}
