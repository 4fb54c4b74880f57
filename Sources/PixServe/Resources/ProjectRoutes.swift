import Foundation
import Hummingbird
import PixCore
import PixStore

/// Body of `POST /v1/projects`.
struct ProjectCreate: Decodable, Sendable {
    var name: String
    var description: String?
}

/// Body of `PATCH /v1/projects/{id}`: only the fields present change.
struct ProjectUpdate: Decodable, Sendable {
    var name: String?
    var description: String?
    var status: String?
}

extension PixServer {
    /// Creates a project owned by `caller`: the one path of `POST /v1/projects` and the dashboard's form.
    /// - Throws: ``APIError`` 422 naming the field at fault.
    func createProject(_ body: ProjectCreate, caller: Caller) async throws -> Project {
        try Self.checkProjectName(body.name)
        try Self.checkDescription(body.description)
        let project = try await store.createProject(
            NewProject(name: body.name, description: body.description, userID: caller.profile.id))
        await audit(caller, "project.created", "project", "\(project.id)", ["name": project.name])
        return project
    }

    /// `/v1/projects`.
    func addProjectRoutes(to api: RouterGroup<PixRequestContext>) {
        api.post("projects") { request, context in
            let caller = try context.requireCaller()
            let body = try await APIJSON.decode(ProjectCreate.self, from: request, limit: configuration.maxBodyBytes)
            let project = try await createProject(body, caller: caller)
            return JSONResponse(value: project, status: .created)
        }
        api.get("projects") { _, context in
            let caller = try context.requireCaller()
            let projects = try await store.listProjects(ownerID: caller.isAdmin ? nil : caller.profile.id)
            return JSONResponse(value: Page(items: projects, limit: projects.count))
        }
        api.get("projects/{id}") { _, context in
            let caller = try context.requireCaller()
            return JSONResponse(value: try await ownedProject(try Self.pathID(context, "project"), caller: caller))
        }
        api.patch("projects/{id}") { request, context in
            let caller = try context.requireCaller()
            let project = try await ownedProject(try Self.pathID(context, "project"), caller: caller)
            let body = try await APIJSON.decode(ProjectUpdate.self, from: request, limit: configuration.maxBodyBytes)
            if let name = body.name { try Self.checkProjectName(name) }
            try Self.checkDescription(body.description)
            var status: ProjectStatus?
            if let raw = body.status {
                guard let parsed = ProjectStatus(rawValue: raw) else {
                    throw APIError.validation(field: "status", reason: "must be active, archived or deleted")
                }
                status = parsed
            }
            guard body.name != nil || body.description != nil || status != nil else {
                throw APIError.validation(field: nil, reason: "send at least one of name, description, status")
            }
            guard
                let updated = try await store.updateProject(
                    id: project.id, name: body.name, description: body.description, status: status)
            else { throw APIError.notFound("project \(project.id)") }
            var changed: [String: String] = [:]
            if let name = body.name { changed["name"] = name }
            if let status { changed["status"] = status.rawValue }
            if body.description != nil { changed["description"] = "changed" }
            await audit(caller, "project.updated", "project", "\(project.id)", changed)
            return JSONResponse(value: updated)
        }
        api.delete("projects/{id}") { _, context in
            let caller = try context.requireCaller()
            let project = try await ownedProject(try Self.pathID(context, "project"), caller: caller)
            guard try await store.deleteProject(id: project.id) else { throw APIError.notFound("project \(project.id)") }
            await audit(caller, "project.deleted", "project", "\(project.id)", ["name": project.name])
            return Response(status: .noContent)
        }
    }

    static func checkProjectName(_ name: String) throws {
        try APIBounds.check(name, APIBounds.projectName, field: "name")
    }

    static func checkDescription(_ description: String?) throws {
        guard let description else { return }
        try APIBounds.check(description, APIBounds.projectDescription, field: "description")
    }
}
