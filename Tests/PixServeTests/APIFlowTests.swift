import Foundation
import PixCore
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("API flow over loopback HTTP")
struct APIFlowTests {
    @Test("user → project → job → images → file → export → download with Range → expiry", arguments: Backend.allCases)
    func fullFlow(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")

            let me = try await server.get("/v1/me", as: alice)
            #expect(me.status == 200)
            #expect(me.json["email"] as? String == alice.profile.email)
            #expect(me.json["role"] as? String == "user")

            // Project: create, read, update.
            let projectID = try await server.createProject(as: alice)
            let project = try await server.get("/v1/projects/\(projectID)", as: alice)
            #expect(project.status == 200)
            #expect(project.json["name"] as? String == "Foxes")
            #expect(project.json["user_id"] as? String == alice.profile.id.uuidString)
            let renamed = try await server.patch(
                "/v1/projects/\(projectID)", as: alice, json: ["name": "Wild foxes", "status": "active"])
            #expect(renamed.status == 200)
            #expect(renamed.json["name"] as? String == "Wild foxes")

            // Job: submitted with chunks in one go.
            let jobID = try await server.submitJob(as: alice, projectID: projectID, maxImages: 20)
            let job = try await server.get("/v1/jobs/\(jobID)", as: alice)
            #expect(job.status == 200)
            #expect(job.json["status"] as? String == "pending")
            let counters = try #require(job.json["counters"] as? [String: Any])
            // 20 images over 2 keywords, ×1.5 over-fetch = 15 candidates each, chunks of 5: 3 per keyword.
            #expect(counters["total_chunks"] as? Int == 6)
            #expect(counters["pending_chunks"] as? Int == 6)
            let keywordProgress = try #require(job.json["keyword_progress"] as? [[String: Any]])
            #expect(keywordProgress.map { $0["keyword"] as? String } == ["red fox", "arctic fox"])
            #expect(keywordProgress.allSatisfy { $0["total_chunks"] as? Int == 3 })
            let storedChunks = try await server.store.chunks(jobID: jobID)
            #expect(storedChunks.count == 6)

            // Crawl results: images stored as workers would.
            try await server.insertImages(jobID: jobID, count: 6)
            try await server.store.recordErrors([
                NewErrorLog(jobID: jobID, category: .decode, message: "truncated JPEG"),
                NewErrorLog(jobID: jobID, category: .dimensions, message: "too small"),
                NewErrorLog(jobID: jobID, category: .dimensions, message: "too small"),
            ])
            let afterImages = try await server.get("/v1/jobs/\(jobID)", as: alice)
            #expect((afterImages.json["counters"] as? [String: Any])?["valid_images"] as? Int == 6)
            #expect((afterImages.json["progress"] as? Int ?? 0) > 0)

            // Images: pagination with a keyset cursor, filters.
            let firstPage = try await server.get("/v1/jobs/\(jobID)/images?limit=4", as: alice)
            #expect(firstPage.status == 200)
            #expect(firstPage.items.count == 4)
            let cursor = try #require(firstPage.json["next_after_id"] as? Int)
            let secondPage = try await server.get("/v1/jobs/\(jobID)/images?limit=4&after_id=\(cursor)", as: alice)
            #expect(secondPage.items.count == 2)
            #expect(secondPage.json["next_after_id"] == nil)
            let pngs = try await server.get("/v1/jobs/\(jobID)/images?format=png", as: alice)
            #expect(pngs.items.count == 1)
            #expect(pngs.items.allSatisfy { $0["format"] as? String == "png" })
            let large = try await server.get("/v1/jobs/\(jobID)/images?min_width=140&min_height=120", as: alice)
            #expect(large.items.count == 2)
            let invalid = try await server.get("/v1/jobs/\(jobID)/images?valid=false", as: alice)
            #expect(invalid.items.isEmpty)

            // The stored file behind an image.
            let first = try #require(firstPage.items.first)
            let fileURL = try #require(first["file_url"] as? String)
            let file = try await server.get(fileURL, as: alice)
            #expect(file.status == 200)
            #expect(file.headers["content-type"] == "image/jpeg")
            #expect(APITokenGenerator.hash(file.text) == first["sha256"] as? String)

            // Errors by category.
            let errors = try await server.get("/v1/jobs/\(jobID)/errors", as: alice)
            #expect(errors.json["total"] as? Int == 3)
            let categories = try #require(errors.json["categories"] as? [[String: Any]])
            #expect(categories.first?["category"] as? String == "DIMENSIONS")
            #expect(categories.first?["count"] as? Int == 2)

            // Job list with a status filter.
            let pending = try await server.get("/v1/jobs?status=pending", as: alice)
            #expect(pending.items.map { $0["id"] as? Int } == [Int(jobID)])
            let completed = try await server.get("/v1/jobs?status=completed", as: alice)
            #expect(completed.items.isEmpty)

            // Export: requested over the API, run as a worker would, link issued, downloaded with Range.
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "zip"])
            #expect(export.status == 202)
            #expect(export.json["status"] as? String == "pending")
            let exportID = try #require(export.json["id"] as? Int)
            let early = try await server.post("/v1/exports/\(exportID)/links", as: alice)
            #expect(early.status == 409, "no link before the archive exists")
            let archive = try await server.runExport(Int64(exportID))
            #expect(archive.count > 1000)
            let exportView = try await server.get("/v1/exports/\(exportID)", as: alice)
            #expect(exportView.json["status"] as? String == "completed")
            #expect(exportView.json["exported_images"] as? Int == 6)
            #expect(exportView.json["file_size"] as? Int == archive.count)

            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice, json: ["expires_in_hours": 1])
            #expect(link.status == 201)
            let url = try #require(link.json["download_url"] as? String)
            #expect(url.hasPrefix("/downloads/pxd_"))
            #expect(link.json["expires_at"] is String)
            let token = String(url.dropFirst("/downloads/".count))
            #expect(try await server.store.downloadRecord(tokenHash: APITokenGenerator.hash(token)) != nil, "stored as its hash")

            let whole = try await server.client.get(url)
            #expect(whole.status == 200)
            #expect(whole.body == archive)
            #expect(whole.headers["content-length"] == "\(archive.count)")
            #expect(whole.headers["content-type"] == "application/zip")
            let etag = try #require(whole.headers["etag"])
            let recordedSHA = try #require(try await server.store.export(id: Int64(exportID))?.sha256)
            #expect(etag == "\"\(recordedSHA)\"", "the ETag is the archive's SHA-256")
            let part = try await server.client.get(url, headers: ["Range": "bytes=100-599"])
            #expect(part.status == 206)
            #expect(part.body == Array(archive[100...599]))
            #expect(part.headers["content-range"] == "bytes 100-599/\(archive.count)")
            let resumed = try await server.client.get(url, headers: ["Range": "bytes=600-", "If-Range": etag])
            #expect(resumed.status == 206)
            #expect(part.body + resumed.body == Array(archive[100...]), "a resumed download completes the file")
            #expect(try await server.downloadCount(exportID: Int64(exportID)) == 3)

            // The link expires: 410 from then on (a record whose lifetime is already over is the same as waiting).
            let expiredToken = APITokenGenerator.generate(scheme: "pxd_").token
            _ = try await server.store.createDownloadRecord(
                exportID: Int64(exportID),
                NewDownloadRecord(tokenHash: APITokenGenerator.hash(expiredToken), lifetime: .seconds(-1)))
            let expired = try await server.client.get("/downloads/\(expiredToken)")
            #expect(expired.status == 410)
            #expect(expired.json["error"] as? String == "gone")
            #expect(try await server.client.get(url).status == 200, "the other link still works")

            // Cancel, retry, activity, delete with cascade.
            let cancelled = try await server.post("/v1/jobs/\(jobID)/cancel", as: alice)
            #expect(cancelled.status == 200)
            #expect(cancelled.json["status"] as? String == "cancelled")
            #expect((cancelled.json["counters"] as? [String: Any])?["cancelled_chunks"] as? Int == 6)
            let again = try await server.post("/v1/jobs/\(jobID)/cancel", as: alice)
            #expect(again.status == 409)

            let deleted = try await server.delete("/v1/projects/\(projectID)", as: alice)
            #expect(deleted.status == 204)
            #expect(try await server.store.job(id: jobID) == nil, "jobs cascade with their project")
            #expect(try await server.get("/v1/projects/\(projectID)", as: alice).status == 404)

            let activity = try await server.get("/v1/activity", as: alice)
            let actions = Set(activity.items.compactMap { $0["action"] as? String })
            #expect(
                actions.isSuperset(of: [
                    "project.created", "project.updated", "project.deleted", "job.submitted", "job.cancelled",
                    "export.requested", "download.link_issued", "download.served",
                ]))
        }
    }

    @Test("retry-failed puts failed chunks back to pending", arguments: Backend.allCases)
    func retryFailed(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID, keywords: ["owl"], maxImages: 3)
            // One chunk of 5 candidates (3 × 1.5 = 4.5 → 5); fail it for good.
            let claimed = try #require(try await server.store.claimChunk(workerID: "w1", lease: .seconds(30), jobID: jobID))
            let outcome = try await server.store.failChunkAttempt(
                chunkID: claimed.chunk.id, token: claimed.leaseToken,
                error: NewErrorLog(jobID: jobID, category: .source, message: "source down"), retryAfter: .zero)
            if outcome != .failed {
                for _ in 0..<5 {
                    guard let again = try await server.store.claimChunk(workerID: "w1", lease: .seconds(30), jobID: jobID)
                    else { break }
                    _ = try await server.store.failChunkAttempt(
                        chunkID: again.chunk.id, token: again.leaseToken,
                        error: NewErrorLog(jobID: jobID, category: .source, message: "source down"), retryAfter: .zero)
                }
            }
            let failed = try await server.get("/v1/jobs/\(jobID)", as: alice)
            #expect((failed.json["counters"] as? [String: Any])?["failed_chunks"] as? Int == 1)

            let retried = try await server.post("/v1/jobs/\(jobID)/retry-failed", as: alice)
            #expect(retried.status == 200)
            #expect(retried.json["retried_chunks"] as? Int == 1)
            let job = try #require(retried.json["job"] as? [String: Any])
            #expect((job["counters"] as? [String: Any])?["pending_chunks"] as? Int == 1)
            #expect((job["counters"] as? [String: Any])?["failed_chunks"] as? Int == 0)
        }
    }

    @Test("health, readiness and workers", arguments: Backend.allCases)
    func operations(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            #expect(try await server.client.get("/healthz").status == 200)
            let ready = try await server.client.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.json["status"] as? String == "ready")
            #expect((ready.json["checks"] as? [String: Bool]) == ["store": true, "migrations": true])

            try await server.store.registerWorker(id: "worker-1", hostname: "host-a", pid: 42, version: "test")
            let admin = try await server.makeUser("root", role: .admin)
            let alice = try await server.makeUser("alice")
            let workers = try await server.get("/v1/workers", as: admin)
            #expect(workers.status == 200)
            #expect(workers.items.map { $0["id"] as? String } == ["worker-1"])
            let refused = try await server.get("/v1/workers", as: alice)
            #expect(refused.status == 403)
            #expect(refused.json["error"] as? String == "forbidden")
        }
    }

    @Test("a job submitted with a resize object keeps it, and its JSON shows it", arguments: Backend.allCases)
    func jobWithResize(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let resize: [String: Any] = ["size": 256, "mode": "center_crop", "encode": "webp", "quality": 80]
            let created = try await server.post(
                "/v1/jobs", as: alice,
                json: [
                    "project_id": projectID, "keywords": ["red fox"], "max_images": 10, "sources": ["demo"],
                    "resize": resize,
                ] as [String: Any])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.json["id"] as? Int)
            let expected = ResizeOptions(size: 256, mode: .centerCrop, encoding: .webp, quality: 80)
            #expect(try await server.store.job(id: Int64(id))?.resize == expected)
            let shown = try await server.get("/v1/jobs/\(id)", as: alice)
            let json = try #require(shown.json["resize"] as? [String: Any])
            #expect(json["size"] as? Int == 256 && json["mode"] as? String == "center_crop")
            #expect(json["encode"] as? String == "webp" && json["quality"] as? Int == 80)
            #expect(json["only_if_bigger"] as? Bool == false)
            let plain = try await server.submitJob(as: alice, projectID: projectID)
            #expect(try await server.get("/v1/jobs/\(plain)", as: alice).json["resize"] == nil)
        }
    }
}
