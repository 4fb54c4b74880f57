import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
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
            var response = Self.redirect("/")
            response.setCookie(
                Cookie(
                    name: Authenticator.cookieName, value: token, maxAge: 7 * 24 * 3600, path: "/",
                    secure: configuration.secureCookies, httpOnly: true, sameSite: .strict))
            return response
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
            let fields = HTML.formFields(String(buffer: buffer))
            let exportRequest = try ExportRequest(format: fields["format"] ?? "").validated()
            let summary = try await exports.requestExport(jobID: job.id, userID: caller.profile.id, request: exportRequest)
            await audit(
                caller, "export.requested", "export", "\(summary.id)", ["job_id": "\(job.id)", "format": exportRequest.format])
            return Self.redirect("/#job-\(job.id)")
        }
        dashboardLinkRoute(to: router)
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
        return DashboardModel(
            caller: caller, projects: projects, workers: caller.isAdmin ? try await store.listWorkers() : nil,
            exportsAvailable: exports != nil, now: Date())
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
