import Foundation
import Hummingbird
import Logging
import PixCoordinate
import PixCore
import PixStore

/// Answer of `POST /v1/jobs/{id}/retry-failed`.
struct RetryView: Encodable, Sendable {
    var retriedChunks: Int
    var job: JobView
}

extension PixServer {
    /// `/v1/jobs`.
    func addJobRoutes(to api: RouterGroup<PixRequestContext>) {
        api.post("jobs") { request, context in
            let caller = try context.requireCaller()
            let body = try await APIJSON.decode(JobRequest.self, from: request, limit: configuration.maxBodyBytes)
            let submission = try body.submission()
            let job = try await submitJob(submission, caller: caller)
            return JSONResponse(value: JobView(job), status: .created)
        }
        api.get("jobs") { request, context in
            let caller = try context.requireCaller()
            let limit = try APIBounds.pageLimit.value(in: request)
            let offset = try APIBounds.offset.value(in: request)
            var status: JobStatus?
            if let raw = request.uri.queryParameters.get("status") {
                guard let parsed = JobStatus(rawValue: raw) else {
                    throw APIError.invalidParameter(
                        "status", reason: "must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = parsed
            }
            var projectID: Int64?
            if let id = try APIBounds.projectFilter.givenValue(in: request) {
                projectID = try await ownedProject(Int64(id), caller: caller).id
            }
            let jobs = try await listJobs(caller: caller, projectID: projectID, status: status, limit: limit, offset: offset)
            return JSONResponse(value: Page(items: jobs.map { JobView($0) }, limit: limit, offset: offset))
        }
        api.get("jobs/{id}") { _, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            let chunks = try await store.chunks(jobID: job.id)
            return JSONResponse(value: JobView(job, keywordProgress: KeywordProgress.summarize(chunks, keywords: job.keywords)))
        }
        api.post("jobs/{id}/cancel") { _, context in
            let caller = try context.requireCaller()
            let updated = try await cancelJob(try Self.pathID(context, "job"), caller: caller)
            return JSONResponse(value: JobView(updated))
        }
        api.post("jobs/{id}/retry-failed") { _, context in
            let caller = try context.requireCaller()
            let (retried, updated) = try await retryFailedChunks(try Self.pathID(context, "job"), caller: caller)
            return JSONResponse(value: RetryView(retriedChunks: retried, job: JobView(updated)))
        }
        api.get("jobs/{id}/errors") { request, context in
            let caller = try context.requireCaller()
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            let limit = try APIBounds.errorLimit.value(in: request)
            let summary = try await store.errorSummary(jobID: job.id)
            let recent = limit == 0 ? [] : try await store.errors(jobID: job.id, limit: limit)
            return JSONResponse(
                value: ErrorSummaryView(
                    jobId: job.id, total: summary.values.reduce(0, +),
                    categories: summary.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
                        .map { .init(category: $0.key.rawValue, count: $0.value) },
                    recent: recent.map {
                        .init(
                            id: $0.id, category: $0.category.rawValue, severity: $0.severity.rawValue, message: $0.message,
                            url: $0.url, createdAt: $0.createdAt)
                    }))
        }
    }

    /// The one submission path of the server (API and dashboard): the caller must own the project and it must
    /// be active; the coordinator's planner checks, plans and creates the job and wakes idle workers.
    /// - Throws: ``APIError`` 404 for a project the caller cannot see, 422 for anything the planner refuses.
    func submitJob(_ submission: JobSubmission, caller: Caller) async throws -> CrawlJob {
        let project = try await ownedProject(submission.projectID, caller: caller)
        guard project.status == .active else {
            throw APIError.validation(
                field: "project_id", reason: "the project is \(project.status.rawValue); only active projects take new jobs")
        }
        // Staged lists are the caller's own, whichever entry point (API or dashboard form) names them.
        try await checkListSources(submission.sources, caller: caller)
        do {
            return try await planner.submit(
                submission, to: store, actor: caller.profile.id, hints: jobControl.hints
            ).job
        } catch let error as PlanningError {
            throw APIError.planning(error)
        }
    }

    /// Cancels the caller's job (`POST /v1/jobs/{id}/cancel` and the dashboard's button).
    /// - Returns: the job as it is now.
    func cancelJob(_ id: Int64, caller: Caller) async throws -> CrawlJob {
        let (job, _) = try await ownedJob(id, caller: caller)
        guard try await jobControl.cancel(jobID: job.id, actor: caller.profile.id) else {
            throw APIError.conflict("job \(job.id) is already \(job.status.rawValue)")
        }
        guard let updated = try await store.job(id: job.id) else { throw APIError.notFound("job \(job.id)") }
        return updated
    }

    /// Puts the caller's failed chunks back to pending (`POST /v1/jobs/{id}/retry-failed` and the dashboard's button).
    /// - Returns: how many chunks were retried, and the job as it is now.
    func retryFailedChunks(_ id: Int64, caller: Caller) async throws -> (Int, CrawlJob) {
        let (job, _) = try await ownedJob(id, caller: caller)
        guard job.status != .cancelled else { throw APIError.conflict("job \(job.id) is cancelled") }
        let retried = try await jobControl.retryFailed(jobID: job.id, actor: caller.profile.id)
        guard let updated = try await store.job(id: job.id) else { throw APIError.notFound("job \(job.id)") }
        return (retried, updated)
    }

    /// A page of the jobs the caller may see, newest first. Admins page over every job; others over the
    /// jobs of their own projects (merged per project, so a user never sees another user's job).
    func listJobs(caller: Caller, projectID: Int64?, status: JobStatus?, limit: Int, offset: Int) async throws -> [CrawlJob] {
        if caller.isAdmin || projectID != nil {
            return try await store.listJobs(projectID: projectID, status: status, limit: limit, offset: offset)
        }
        var merged: [CrawlJob] = []
        for project in try await store.listProjects(ownerID: caller.profile.id) {
            merged += try await store.listJobs(projectID: project.id, status: status, limit: offset + limit, offset: 0)
        }
        merged.sort { $0.id > $1.id }
        return Array(merged.dropFirst(offset).prefix(limit))
    }
}
