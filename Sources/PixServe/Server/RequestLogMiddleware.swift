import Foundation
import Hummingbird
import Logging

/// Logs one structured line per request once its response is ready: method, route template (never the raw
/// path, which may carry a download token), status and duration.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    var level: Logger.Level = .info

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.log(
            level: level, "request",
            metadata: [
                "http.request.method": .string(request.method.rawValue),
                "http.route": .string(context.endpointPath ?? "unmatched"),
                "http.response.status_code": .stringConvertible(response.status.code),
                "http.server.duration_ms": .string(String(format: "%.2f", milliseconds)),
            ])
        return response
    }
}
