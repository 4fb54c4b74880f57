import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PixCoordinate
import PixCore
import PixStore

extension PixServer {
    /// `/` (dashboard or sign-in form), `/login`, `/logout`, and the dashboard's export button.
    func addDashboardRoutes(to router: Router<PixRequestContext>) {
        router.get("/") { request, _ in
            guard let caller = try await authenticator.optionalCaller(request) else {
                return Self.html(DashboardPage.signIn(error: nil))
            }
            return Self.html(DashboardPage.render(try await dashboardModel(for: caller)))
        }
        router.post("login") { request, _ in
            let buffer = try await request.body.collect(upTo: 16 * 1024)
            let fields = HTML.formFields(String(buffer: buffer))
            let token = (fields["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let caller = try await authenticator.caller(token: token) else {
                return Self.html(DashboardPage.signIn(error: "That token is unknown or revoked."), status: .unauthorized)
            }
            await audit(caller, "session.started", "profile", caller.profile.id.uuidString.lowercased())
            return signedIn(token: token)
        }
        router.get("signin/{code}") { _, context in
            let code = context.parameters.get("code") ?? ""
            guard let profileID = signInLinks.redeem(code), let profile = try await store.profile(id: profileID) else {
                return Self.html(
                    DashboardPage.signIn(error: "That sign-in link was used already or has expired."), status: .unauthorized)
            }
            let generated = APITokenGenerator.generate()
            _ = try await store.createAPIToken(
                profileID: profile.id, name: "dashboard sign-in link", tokenHash: generated.hash, prefix: generated.prefix)
            await audit(
                nil, "session.started", "profile", profile.id.uuidString.lowercased(), ["via": "sign-in link"], userID: profile.id
            )
            return signedIn(token: generated.token)
        }
        router.post("logout") { _, _ in
            var response = Self.redirect("/")
            response.setCookie(
                Cookie(
                    name: Authenticator.cookieName, value: "", maxAge: 0, path: "/", secure: configuration.secureCookies,
                    httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("dashboard/jobs/{id}/exports") { request, context in
            let caller = try await authenticator.authenticate(request)
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            let buffer = try await request.body.collect(upTo: 16 * 1024)
            let form = ExportForm(values: HTML.formFields(String(buffer: buffer)))
            do {
                let exportRequest = try form.request().validated()
                let summary = try await exports.requestExport(jobID: job.id, userID: caller.profile.id, request: exportRequest)
                await audit(
                    caller, "export.requested", "export", "\(summary.id)",
                    ["job_id": "\(job.id)", "format": exportRequest.format])
            } catch let error as APIError where error.status == .unprocessableContent {
                var model = try await jobPageModel(job, caller: caller, before: nil)
                model.exportForm = form
                model.exportError = error
                return Self.html(JobPage.render(model), status: .unprocessableContent)
            }
            return Self.redirect("/jobs/\(job.id)#job-\(job.id)")
        }
        addDashboardJobRoutes(to: router)
        dashboardLinkRoute(to: router)
    }

    /// A redirect to the dashboard that sets the session cookie holding `token`.
    func signedIn(token: String) -> Response {
        var response = Self.redirect("/")
        response.setCookie(
            Cookie(
                name: Authenticator.cookieName, value: token, maxAge: 7 * 24 * 3600, path: "/",
                secure: configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func dashboardLinkRoute(to router: Router<PixRequestContext>) {
        router.post("dashboard/exports/{id}/link") { request, context in
            let caller = try await authenticator.authenticate(request)
            let export = try await ownedExport(try Self.pathID(context, "export"), caller: caller)
            guard let exports else { throw APIError.notImplemented("exports are not available on this server") }
            let link = try await exports.issueLink(exportID: export.id, lifetime: .seconds(7 * 86_400))
            await audit(
                caller, "download.link_issued", "export", "\(export.id)",
                ["expires_at": ISO8601DateFormatter().string(from: link.expiresAt), "via": "dashboard"])
            return Self.redirect(link.downloadURL)
        }
    }

    /// The job page, the form that starts a crawl, and the job's cancel and retry buttons.
    func addDashboardJobRoutes(to router: Router<PixRequestContext>) {
        router.get("jobs/{id}") { request, context in
            guard let caller = try await authenticator.optionalCaller(request) else {
                return Self.html(DashboardPage.signIn(error: nil))
            }
            let (job, _) = try await ownedJob(try Self.pathID(context, "job"), caller: caller)
            let before = try APIBounds.galleryBefore.givenValue(in: request).map { Int64($0) }
            return Self.html(JobPage.render(try await jobPageModel(job, caller: caller, before: before)))
        }
        router.post("dashboard/jobs") { request, _ in
            let caller = try await authenticator.authenticate(request)
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            let form = JobForm(body: String(buffer: buffer))
            do {
                let job = try await submit(form, caller: caller)
                return Self.redirect("/jobs/\(job.id)")
            } catch let error as APIError where error.status == .unprocessableContent || error.status == .notFound {
                var model = try await dashboardModel(for: caller)
                model.form = form
                model.formError = error
                return Self.html(DashboardPage.render(model), status: .unprocessableContent)
            }
        }
        router.post("dashboard/jobs/{id}/cancel") { request, context in
            let caller = try await authenticator.authenticate(request)
            let job = try await cancelJob(try Self.pathID(context, "job"), caller: caller)
            return Self.redirect("/jobs/\(job.id)")
        }
        router.post("dashboard/jobs/{id}/retry-failed") { request, context in
            let caller = try await authenticator.authenticate(request)
            let (_, job) = try await retryFailedChunks(try Self.pathID(context, "job"), caller: caller)
            return Self.redirect("/jobs/\(job.id)")
        }
    }

    /// Submits the form through the API's own path (``submitJob(_:caller:)``). A new project is created only once
    /// the rest of the form is valid, so a refused form creates nothing.
    func submit(_ form: JobForm, caller: Caller) async throws -> CrawlJob {
        guard form.project == "new" else {
            guard let projectID = Int64(form.project) else {
                throw APIError.validation(field: "project_id", reason: "pick a project or “New project…”")
            }
            return try await submitJob(try form.submission(projectID: projectID), caller: caller)
        }
        do {
            _ = try planner.plan(try form.submission(projectID: 0))
        } catch let error as PlanningError {
            throw APIError.planning(error)
        }
        let project: Project
        do {
            project = try await createProject(
                ProjectCreate(name: form.values["project_name"] ?? "", description: nil), caller: caller)
        } catch let error as APIError {
            throw APIError.validation(field: "project_name", reason: error.reason)
        }
        return try await submitJob(try form.submission(projectID: project.id), caller: caller)
    }

    func jobPageModel(_ job: CrawlJob, caller: Caller, before: Int64?) async throws -> JobPageModel {
        var images = try await store.newestImages(jobID: job.id, beforeID: before, limit: JobPage.pageSize + 1)
        let older = images.count > JobPage.pageSize ? images[JobPage.pageSize - 1].id : nil
        images = Array(images.prefix(JobPage.pageSize))
        var rejects: [(category: ErrorCategory, count: Int, examples: [ErrorLogEntry])] = []
        for (category, count) in try await store.errorSummary(jobID: job.id).sorted(by: { $0.value > $1.value }) {
            rejects.append((category, count, try await store.errors(jobID: job.id, category: category, limit: 5)))
        }
        let chunks = try await store.chunks(jobID: job.id)
        let byID = Dictionary(uniqueKeysWithValues: chunks.map { ($0.id, $0) })
        let workers = try await store.listWorkers().compactMap { worker in
            worker.currentChunkID.flatMap { byID[$0] }.map { (worker: worker, chunk: $0) }
        }
        let entry = DashboardJob(
            job: job, rejects: rejects.map { ($0.category, $0.count) },
            exports: try await exports?.exports(jobID: job.id) ?? [])
        return JobPageModel(
            caller: caller, entry: entry, images: images, olderThan: older, rejects: rejects, workers: workers,
            samples: try await acceptedOverTime(job), exportsAvailable: exports != nil, now: Date())
    }

    /// Accepted images over time, from the rows' creation times: at most 60 points over the job's first 5,000
    /// images (the live chart adds points as it polls).
    func acceptedOverTime(_ job: CrawlJob) async throws -> [(seconds: Int, valid: Int)] {
        guard let start = job.startedAt ?? Optional(job.createdAt) else { return [] }
        var times: [Int] = []
        var cursor: Int64 = 0
        while times.count < 5_000 {
            let rows = try await store.images(jobID: job.id, validOnly: true, afterID: cursor, limit: 1_000)
            times += rows.map { max(0, Int($0.createdAt.timeIntervalSince(start))) }
            guard let last = rows.last, rows.count == 1_000 else { break }
            cursor = last.id
        }
        guard let end = times.last else { return [(0, 0)] }
        let step = max(1, end / 60 + 1)
        var samples: [(seconds: Int, valid: Int)] = [(0, 0)]
        for (index, time) in times.enumerated() where index == times.count - 1 || times[index + 1] / step != time / step {
            samples.append((time, index + 1))
        }
        return samples
    }

    func dashboardModel(for caller: Caller) async throws -> DashboardModel {
        var projects: [(Project, [DashboardJob])] = []
        for project in try await store.listProjects(ownerID: caller.isAdmin ? nil : caller.profile.id) {
            var jobs: [DashboardJob] = []
            for job in try await store.listJobs(projectID: project.id, status: nil, limit: 20, offset: 0) {
                let rejects = try await store.errorSummary(jobID: job.id)
                    .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
                    .map { (category: $0.key, count: $0.value) }
                let jobExports = try await exports?.exports(jobID: job.id) ?? []
                jobs.append(DashboardJob(job: job, rejects: rejects, exports: jobExports))
            }
            projects.append((project, jobs))
        }
        var model = DashboardModel(
            caller: caller, projects: projects, workers: caller.isAdmin ? try await store.listWorkers() : nil,
            exportsAvailable: exports != nil, now: Date())
        if let store = store as? SQLCrawlStore {
            model.lists = try await store.lists(ownerID: caller.profile.id)
        }
        return model
    }

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}
