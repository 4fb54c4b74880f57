import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answer of `/healthz`.
struct HealthView: Encodable, Sendable {
    var status: String
}

/// Answer of `/readyz`.
struct ReadinessView: Encodable, Sendable {
    var status: String
    var checks: [String: Bool]
    var problems: [String]
}

extension PixServer {
    /// `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.
    func addOperationalRoutes(to router: Router<PixRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse(value: HealthView(status: "ok")) }
        router.get("readyz") { _, _ in
            let report = await readiness.check()
            return JSONResponse(
                value: ReadinessView(
                    status: report.isReady ? "ready" : "not_ready", checks: report.checks, problems: report.problems),
                status: report.isReady ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            let text = try await metrics.scrape()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("openapi.json") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(OpenAPIDocument.make())
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
