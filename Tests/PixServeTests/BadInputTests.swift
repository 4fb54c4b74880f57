import Foundation
import PixCore
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("Bad input answers 400/413/415/422 with {error, field, reason}")
struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var body: [UInt8]
        var status: Int
        var error: String
        var field: String?
        var contentType = "application/json"

        var description: String { name }
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object))
    }

    /// Every case posts to `/v1/jobs` for the project id `PROJECT`.
    static func jobCases(projectID: Int64) -> [Case] {
        func job(_ changes: [String: Any], removing: [String] = []) -> [UInt8] {
            var body: [String: Any] = ["project_id": projectID, "keywords": ["red fox"], "max_images": 10, "sources": ["demo"]]
            for (key, value) in changes { body[key] = value }
            for key in removing { body.removeValue(forKey: key) }
            return json(body)
        }
        return [
            Case(name: "malformed JSON", body: Array("{\"keywords\": [".utf8), status: 400, error: "malformed_json", field: nil),
            Case(name: "not an object", body: Array("[1, 2]".utf8), status: 400, error: "malformed_json", field: nil),
            Case(name: "empty body", body: [], status: 400, error: "malformed_json", field: nil),
            Case(
                name: "keywords not an array", body: job(["keywords": "red fox"]), status: 400, error: "invalid_type",
                field: "keywords"),
            Case(
                name: "max_images a string", body: job(["max_images": "ten"]), status: 400, error: "invalid_type",
                field: "max_images"),
            Case(
                name: "keyword a number", body: job(["keywords": ["fox", 7]]), status: 400, error: "invalid_type",
                field: "keywords[1]"),
            Case(
                name: "rules.min_width a string", body: job(["rules": ["min_width": "wide"]]), status: 400,
                error: "invalid_type", field: "rules.min_width"),
            Case(
                name: "keywords missing", body: job([:], removing: ["keywords"]), status: 422, error: "validation_failed",
                field: "keywords"),
            Case(
                name: "max_images null", body: job(["max_images": NSNull()]), status: 422, error: "validation_failed",
                field: "max_images"),
            Case(
                name: "empty keywords", body: job(["keywords": [String]()]), status: 422, error: "validation_failed",
                field: "keywords"),
            Case(
                name: "blank keyword", body: job(["keywords": ["fox", "  "]]), status: 422, error: "validation_failed",
                field: "keywords[1]"),
            Case(
                name: "max_images 0", body: job(["max_images": 0]), status: 422, error: "validation_failed", field: "max_images"),
            Case(
                name: "max_images too large", body: job(["max_images": 1_000_000_001]), status: 422, error: "validation_failed",
                field: "max_images"),
            Case(
                name: "unknown source", body: job(["sources": ["demo", "flickr"]]), status: 422, error: "validation_failed",
                field: "sources[1]"),
            Case(
                name: "URL list over the API", body: job(["sources": ["urls:/etc/passwd"]]), status: 422,
                error: "validation_failed", field: "sources[0]"),
            Case(
                name: "unknown image format", body: job(["rules": ["formats": ["jpeg", "bmpx"]]]), status: 422,
                error: "validation_failed", field: "rules.formats[1]"),
            Case(
                name: "chunk_size 0", body: job(["chunk_size": 0]), status: 422, error: "validation_failed", field: "chunk_size"),
            Case(
                name: "too many chunks", body: job(["max_images": 1_000_000, "chunk_size": 1]), status: 422,
                error: "validation_failed", field: "chunk_size"),
            Case(
                name: "resize 0", body: job(["resize": ["size": 0]]), status: 422, error: "validation_failed",
                field: "resize.size"),
            Case(
                name: "resize over 16384", body: job(["resize": ["size": 16_385, "mode": "center_crop"]]), status: 422,
                error: "validation_failed", field: "resize.size"),
            Case(
                name: "resize quality 0", body: job(["resize": ["size": 256, "quality": 0]]), status: 422,
                error: "validation_failed", field: "resize.quality"),
            Case(
                name: "unknown resize mode", body: job(["resize": ["size": 256, "mode": "stretch"]]), status: 400,
                error: "invalid_type", field: "resize.mode"),
            Case(
                name: "resize without size", body: job(["resize": ["mode": "border"]]), status: 422,
                error: "validation_failed", field: "resize.size"),
            Case(
                name: "not JSON", body: Array("keywords=fox".utf8), status: 415, error: "unsupported_media_type", field: nil,
                contentType: "application/x-www-form-urlencoded"),
            Case(
                name: "oversize body", body: job(["name": String(repeating: "x", count: 100_000)]), status: 413,
                error: "payload_too_large", field: nil),
        ]
    }

    @Test("job submissions: every bad input, its status and body; nothing created", arguments: Backend.allCases)
    func jobSubmission(_ backend: Backend) async throws {
        try await TestServer.with(backend, maxBodyBytes: 64 * 1024) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            for testCase in Self.jobCases(projectID: projectID) {
                let response = try await server.client.request(
                    "POST", "/v1/jobs", token: alice.token, body: testCase.body, headers: ["Content-Type": testCase.contentType])
                #expect(response.status == testCase.status, "\(testCase.name): \(response.text)")
                #expect(response.json["error"] as? String == testCase.error, "\(testCase.name): \(response.text)")
                #expect(response.json["field"] as? String == testCase.field, "\(testCase.name): \(response.text)")
                #expect((response.json["reason"] as? String)?.isEmpty == false, "\(testCase.name)")
                #expect(response.headers["content-type"]?.hasPrefix("application/json") == true, "\(testCase.name)")
            }
            let jobs = try await server.store.listJobs(projectID: nil, status: nil, limit: 10, offset: 0)
            #expect(jobs.isEmpty, "no bad submission left a job behind")
            // A good one still goes through afterwards.
            _ = try await server.submitJob(as: alice, projectID: projectID)
        }
    }

    @Test("other resources: projects, exports, query parameters, tokens", arguments: [Backend.sqlite])
    func otherResources(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)

            func check(
                _ response: HTTPResult, _ status: Int, _ error: String, _ field: String?,
                sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
                #expect(response.json["error"] as? String == error, "\(response.text)", sourceLocation: sourceLocation)
                #expect(response.json["field"] as? String == field, "\(response.text)", sourceLocation: sourceLocation)
            }
            check(try await server.post("/v1/projects", as: alice, json: ["name": ""]), 422, "validation_failed", "name")
            check(try await server.post("/v1/projects", as: alice, json: ["name": 5]), 400, "invalid_type", "name")
            check(try await server.post("/v1/projects", as: alice, json: ["description": "x"]), 422, "validation_failed", "name")
            check(
                try await server.patch("/v1/projects/\(projectID)", as: alice, json: ["status": "frozen"]), 422,
                "validation_failed", "status")
            check(
                try await server.patch("/v1/projects/\(projectID)", as: alice, json: [:] as [String: Any]), 422,
                "validation_failed", nil)
            check(
                try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "rar"]), 422,
                "validation_failed", "format")
            check(
                try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "zip", "expires_in_hours": 0]),
                422, "validation_failed", "expires_in_hours")
            check(try await server.get("/v1/jobs?status=done", as: alice), 400, "invalid_parameter", "status")
            check(try await server.get("/v1/jobs?limit=0", as: alice), 400, "invalid_parameter", "limit")
            check(try await server.get("/v1/jobs/\(jobID)/images?format=bogus", as: alice), 422, "validation_failed", "format")
            check(try await server.get("/v1/jobs/\(jobID)/images?valid=maybe", as: alice), 400, "invalid_parameter", "valid")
            check(try await server.post("/v1/tokens", as: alice, json: ["name": "   "]), 422, "validation_failed", "name")
            check(try await server.get("/v1/jobs/abc", as: alice), 404, "not_found", nil)
            check(try await server.get("/v1/nothing-here", as: alice), 404, "not_found", nil)
            let projects = try await server.store.listProjects(ownerID: alice.profile.id)
            #expect(projects.count == 1, "no bad request created a project")
        }
    }
}
