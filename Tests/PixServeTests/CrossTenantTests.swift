import Foundation
import PixCore
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("Owner scoping")
struct CrossTenantTests {
    @Test("user B gets 404 on every one of user A's resources and sees none in lists", arguments: Backend.allCases)
    func otherUsersResources(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await server.insertImages(jobID: jobID, count: 2)
            let imageID = try #require(
                try await server.store.images(jobID: jobID, validOnly: false, afterID: 0, limit: 1).first?.id)
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "tar"])
            let exportID = try #require(export.json["id"] as? Int)
            let aliceTokenID = try #require(try await server.store.listAPITokens(profileID: alice.profile.id).first?.id)

            let reads = [
                "/v1/projects/\(projectID)", "/v1/jobs/\(jobID)", "/v1/jobs/\(jobID)/images", "/v1/jobs/\(jobID)/errors",
                "/v1/jobs/\(jobID)/exports", "/v1/images/\(imageID)", "/v1/images/\(imageID)/file", "/v1/exports/\(exportID)",
                "/v1/jobs?project_id=\(projectID)",
            ]
            for path in reads {
                let response = try await server.get(path, as: bob)
                #expect(response.status == 404, "GET \(path)")
                #expect(response.json["error"] as? String == "not_found", "GET \(path)")
            }
            let writes: [(String, String, Any?)] = [
                ("PATCH", "/v1/projects/\(projectID)", ["name": "mine now"]),
                ("DELETE", "/v1/projects/\(projectID)", nil),
                ("POST", "/v1/jobs/\(jobID)/cancel", nil),
                ("POST", "/v1/jobs/\(jobID)/retry-failed", nil),
                ("POST", "/v1/jobs/\(jobID)/exports", ["format": "zip"]),
                ("POST", "/v1/exports/\(exportID)/links", nil),
                ("POST", "/dashboard/exports/\(exportID)/link", nil),
                ("POST", "/dashboard/jobs/\(jobID)/exports", nil),
                ("POST", "/v1/jobs", ["project_id": projectID, "keywords": ["cat"], "max_images": 5] as [String: Any]),
                ("DELETE", "/v1/tokens/\(aliceTokenID)", nil),
            ]
            for (method, path, body) in writes {
                let response = try await server.client.request(method, path, token: bob.token, json: body)
                #expect(response.status == 404, "\(method) \(path)")
            }
            // Nothing changed for Alice.
            #expect(try await server.store.project(id: projectID)?.name == "Foxes")
            #expect(try await server.store.job(id: jobID)?.status == .pending)
            #expect(try await server.get("/v1/me", as: alice).status == 200, "Alice's token was not revoked")
            #expect(try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0).count == 1)

            // Lists: Bob sees none of it.
            #expect(try await server.get("/v1/projects", as: bob).items.isEmpty)
            #expect(try await server.get("/v1/jobs", as: bob).items.isEmpty)
            #expect(try await server.get("/v1/tokens", as: bob).items.count == 1)
            let bobActivity = try await server.get("/v1/activity", as: bob)
            #expect(bobActivity.items.isEmpty)

            // Alice sees hers; an admin sees all.
            #expect(try await server.get("/v1/projects", as: alice).items.count == 1)
            let admin = try await server.makeUser("root", role: .admin)
            #expect(try await server.get("/v1/jobs/\(jobID)", as: admin).status == 200)
            #expect(try await server.get("/v1/projects", as: admin).items.count == 1)
        }
    }

    @Test("job lists merge only the caller's projects, paged", arguments: [Backend.sqlite])
    func jobListPaging(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let first = try await server.createProject(as: alice, name: "one")
            let second = try await server.createProject(as: alice, name: "two")
            let bobs = try await server.createProject(as: bob, name: "bob's")
            var mine: [Int64] = []
            for index in 0..<5 {
                mine.append(try await server.submitJob(as: alice, projectID: index % 2 == 0 ? first : second, maxImages: 2))
                _ = try await server.submitJob(as: bob, projectID: bobs, maxImages: 2)
            }
            let page1 = try await server.get("/v1/jobs?limit=2&offset=0", as: alice)
            let page2 = try await server.get("/v1/jobs?limit=2&offset=2", as: alice)
            let page3 = try await server.get("/v1/jobs?limit=2&offset=4", as: alice)
            let ids = (page1.items + page2.items + page3.items).compactMap { ($0["id"] as? Int).map(Int64.init) }
            #expect(ids == mine.sorted(by: >))
        }
    }
}
