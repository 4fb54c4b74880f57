import Foundation
import PixBlob
import PixCore
import PixDemo
import PixFixtures
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("Validation runs")
struct ValidationTests {
    /// Stores real image files for a job: two 320×240 PNGs, one 80×70 PNG, and one file that is no image at all.
    static func insertMixedImages(_ server: TestServer, jobID: Int64) async throws {
        let files: [(bytes: [UInt8], width: Int, height: Int)] = [
            (FixtureImages.png(seed: 1, width: 320, height: 240), 320, 240),
            (FixtureImages.png(seed: 2, width: 320, height: 240), 320, 240),
            (FixtureImages.png(seed: 3, width: 80, height: 70), 80, 70),
            (Array("not an image at all".utf8) + [UInt8](repeating: 7, count: 64), 320, 240),
        ]
        var images: [NewImage] = []
        for (index, file) in files.enumerated() {
            let sha = APITokenGenerator.hash(file.bytes.map { String(format: "%02x", $0) }.joined())
            let key = try BlobKey(sha256: sha, format: .png)
            let stored = try server.blobs.put(file.bytes, for: key)
            images.append(
                NewImage(
                    originalURL: "http://127.0.0.1/img/\(jobID)/\(index).png", filename: key.filename,
                    storageURL: stored.storageURL, width: file.width, height: file.height, fileSize: file.bytes.count,
                    format: .png, sha256: sha, perceptualHash: UInt64(index), keyword: "red fox", source: "demo",
                    license: "by", creator: "tester"))
        }
        _ = try await server.store.insertImages(jobID: jobID, images: images)
    }

    @Test(
        "POST /v1/jobs/{id}/validations re-validates the stored files; GET /v1/validations/{id} shows the run",
        arguments: Backend.allCases)
    func createAndGet(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await Self.insertMixedImages(server, jobID: jobID)

            let created = try await server.post(
                "/v1/jobs/\(jobID)/validations", as: alice,
                json: ["name": "stricter", "rules": ["min_width": 100, "depth": "full"]] as [String: Any])
            #expect(created.status == 201, "\(created.text)")
            let run = created.json
            let id = try #require(run["id"] as? Int)
            #expect(run["job_id"] as? Int == Int(jobID))
            #expect(run["name"] as? String == "stricter")
            #expect(run["status"] as? String == "completed")
            #expect(run["total_images"] as? Int == 4)
            #expect(run["validated_images"] as? Int == 4)
            #expect(run["invalid_images"] as? Int == 2, "the 80×70 image and the non-image")
            #expect(run["progress"] as? Int == 100)
            let rules = try #require(run["rules"] as? [String: Any])
            #expect(rules["min_width"] as? Int == 100)
            #expect(rules["min_height"] as? Int == 64, "rules not given keep the job's")
            #expect(rules["depth"] as? String == "full")

            let images = try await server.store.images(jobID: jobID, validOnly: false, afterID: 0, limit: 10)
            #expect(images.filter(\.isValid).count == 2)
            #expect(try await server.store.job(id: jobID)?.counters.validImages == 2)

            let fetched = try await server.get("/v1/validations/\(id)", as: alice)
            #expect(fetched.status == 200)
            #expect(fetched.json["id"] as? Int == id)
            #expect(fetched.json["invalid_images"] as? Int == 2)

            let activity = try await server.get("/v1/activity", as: alice)
            let entry = activity.items.first { $0["action"] as? String == "validation.run" }
            #expect(entry != nil, "the run is in the caller's activity log")

            // An empty body re-validates under the job's own rules: the small image is valid again.
            let again = try await server.post("/v1/jobs/\(jobID)/validations", as: alice)
            #expect(again.status == 201, "\(again.text)")
            #expect(again.json["invalid_images"] as? Int == 1)
            #expect(try await server.store.job(id: jobID)?.counters.validImages == 3)
        }
    }

    @Test("another user's job and validation runs answer 404", arguments: [Backend.sqlite])
    func crossTenant(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await Self.insertMixedImages(server, jobID: jobID)
            let created = try await server.post("/v1/jobs/\(jobID)/validations", as: alice, json: ["name": "mine"])
            let id = try #require(created.json["id"] as? Int)

            let read = try await server.get("/v1/validations/\(id)", as: bob)
            #expect(read.status == 404)
            #expect(read.json["error"] as? String == "not_found")
            let write = try await server.post(
                "/v1/jobs/\(jobID)/validations", as: bob, json: ["rules": ["min_width": 1000]] as [String: Any])
            #expect(write.status == 404)
            #expect(write.json["error"] as? String == "not_found")
            #expect(try await server.get("/v1/validations/999999", as: alice).status == 404)

            // Bob's attempt changed nothing: one run, and Alice's verdicts stand.
            #expect(try await server.store.validationJobs(crawlJobID: jobID).count == 1)
            #expect(try await server.store.job(id: jobID)?.counters.validImages == 3)
            let admin = try await server.makeUser("root", role: .admin)
            #expect(try await server.get("/v1/validations/\(id)", as: admin).status == 200)
        }
    }

    static let badCases: [(body: String, status: Int, error: String, field: String?)] = [
        (#"{"rules": {"min_width": 0}}"#, 422, "validation_failed", "rules.min_width"),
        (#"{"rules": {"min_width": 500, "max_width": 100}}"#, 422, "validation_failed", "rules.min_width"),
        (#"{"rules": {"formats": ["gif"]}}"#, 422, "validation_failed", "rules.formats[0]"),
        (#"{"rules": {"formats": []}}"#, 422, "validation_failed", "rules.formats"),
        (#"{"rules": {"max_bytes": 10, "min_bytes": 20}}"#, 422, "validation_failed", "rules.min_bytes"),
        (#"{"rules": {"min_aspect_ratio": 2.0, "max_aspect_ratio": 1.0}}"#, 422, "validation_failed", "rules.min_aspect_ratio"),
        (#"{"rules": {"depth": "deep"}}"#, 422, "validation_failed", "rules.depth"),
        (#"{"name": "\#(String(repeating: "n", count: 101))"}"#, 422, "validation_failed", "name"),
        (#"{"rules": {"min_width": "wide"}}"#, 400, "invalid_type", "rules.min_width"),
        (#"{"rules": "#, 400, "malformed_json", nil),
    ]

    @Test(
        "bad validation input answers with its status and {error, field, reason}, and records no run",
        arguments: Backend.allCases)
    func badInput(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            for testCase in Self.badCases {
                let response = try await server.client.request(
                    "POST", "/v1/jobs/\(jobID)/validations", token: alice.token, body: Array(testCase.body.utf8),
                    headers: ["Content-Type": "application/json"])
                #expect(response.status == testCase.status, "\(testCase.body): \(response.text)")
                #expect(response.json["error"] as? String == testCase.error, "\(testCase.body): \(response.text)")
                #expect(response.json["field"] as? String == testCase.field, "\(testCase.body): \(response.text)")
                #expect((response.json["reason"] as? String)?.isEmpty == false, "\(testCase.body)")
            }
            #expect(try await server.store.validationJobs(crawlJobID: jobID).isEmpty, "no bad request recorded a run")
        }
    }
}
