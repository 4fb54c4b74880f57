import Foundation
import HTTPTypes
import Hummingbird
import PixCore

/// Body of `POST /v1/exports/{id}/links` (optional).
struct LinkRequest: Decodable, Sendable {
    var expiresInHours: Int?

    enum CodingKeys: String, CodingKey {
        case expiresInHours = "expires_in_hours"
    }
}

extension PixServer {
    /// The export, when the caller owns its job; otherwise 404.
    func ownedExport(_ id: Int64, caller: Caller) async throws -> ExportSummary {
        guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
        guard let summary = try await exports.export(id: id) else { throw APIError.notFound("export \(id)") }
        do {
            _ = try await ownedJob(summary.jobID, caller: caller)
        } catch is APIError {
            throw APIError.notFound("export \(id)")
        }
        return summary
    }

    /// `POST|GET /v1/jobs/{id}/exports`, `GET /v1/exports/{id}`.
    func addExportRoutes(to api: RouterGroup<PixRequestContext>) {
        api.post("jobs/{id}/exports") { request, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            let body = try await APIJSON.decode(ExportRequest.self, from: request, limit: configuration.maxBodyBytes)
            let exportRequest = try body.validated()
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            let summary = try await exports.requestExport(jobID: job.id, userID: caller.profile.id, request: exportRequest)
            await audit(
                caller, "export.requested", "export", "\(summary.id)",
                ["job_id": "\(job.id)", "format": exportRequest.format])
            return JSONResponse(value: summary, status: .accepted)
        }
        api.get("jobs/{id}/exports") { _, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            let list = try await exports.exports(jobID: job.id)
            return JSONResponse(value: Page(items: list, limit: list.count))
        }
        api.get("exports/{id}") { _, context in
            let caller = try context.requireCaller()
            return JSONResponse(value: try await ownedExport(try Self.pathID(context, "export"), caller: caller))
        }
        api.post("exports/{id}/links") { request, context in
            let caller = try context.requireCaller()
            let export = try await ownedExport(try Self.pathID(context, "export"), caller: caller)
            var hours = 168
            if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
                hours =
                    try await APIJSON.decode(LinkRequest.self, from: request, limit: configuration.maxBodyBytes)
                    .expiresInHours ?? 168
            }
            try APIBounds.check(hours, APIBounds.linkHours, field: "expires_in_hours")
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            let link = try await exports.issueLink(exportID: export.id, lifetime: .seconds(hours * 3600))
            await audit(
                caller, "download.link_issued", "export", "\(export.id)",
                ["expires_at": ISO8601DateFormatter().string(from: link.expiresAt)])
            return JSONResponse(value: link, status: .created)
        }
    }
}
