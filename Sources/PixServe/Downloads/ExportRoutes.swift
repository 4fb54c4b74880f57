import Foundation
import Hummingbird
import PixCore

extension PixServer {
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
            let id = try Self.pathID(context, "export")
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            guard let summary = try await exports.export(id: id) else { throw APIError.notFound("export \(id)") }
            do {
                _ = try await ownedJob(summary.jobID, caller: caller)
            } catch is APIError {
                throw APIError.notFound("export \(id)")
            }
            return JSONResponse(value: summary)
        }
    }
}
