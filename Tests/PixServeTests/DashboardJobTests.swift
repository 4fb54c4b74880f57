import Foundation
import PixBlob
import PixCore
import PixExport
import PixServe
import PixStore
import PixTestSupport
import Testing

/// The dashboard as the place to run a dataset: the form that starts a crawl, the job page's images, rejects,
/// actions and export form, and the thumbnails behind the grid.
@Suite("Dashboard jobs")
struct DashboardJobTests {
    static let form = ["Content-Type": "application/x-www-form-urlencoded"]

    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Array(
            fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&").utf8)
    }

    static func post(_ server: TestServer, _ path: String, as user: TestUser, _ fields: [(String, String)]) async throws
        -> HTTPResult
    {
        try await server.client.request("POST", path, token: user.token, body: encode(fields), headers: form)
    }

    // Browsers send a textarea's line breaks as CR LF: one Character in Swift, split like any other newline.
    @Test("the form starts a crawl in a new project through the API's path and leads to the job page")
    func formSubmits() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let response = try await Self.post(
                server, "/dashboard/jobs", as: alice,
                [
                    ("project", "new"), ("project_name", "Foxes"), ("keywords", "red fox\r\narctic fox"),
                    ("sources", "demo"), ("max_images", "20"), ("formats", "jpeg"), ("min_width", "64"),
                ])
            #expect(response.status == 303, "\(response.text)")
            let location = try #require(response.headers["location"])
            #expect(location.hasPrefix("/jobs/"))
            let jobID = try #require(Int64(location.dropFirst("/jobs/".count)))
            let job = try #require(try await server.store.job(id: jobID))
            #expect(job.keywords == ["red fox", "arctic fox"])
            #expect(job.maxImages == 20)
            #expect(job.sources == ["demo"])
            #expect(job.rules.formats == [.jpeg])
            #expect(job.rules.minWidth == 64)
            #expect(job.counters.totalChunks > 0, "planned into chunks")
            let projects = try await server.store.listProjects(ownerID: alice.profile.id)
            #expect(projects.map(\.name) == ["Foxes"])
            let page = try await server.get(location, as: alice)
            #expect(page.status == 200)
            #expect(page.text.contains("id=\"chart\""))
        }
    }

    @Test("the form's resize inputs start a crawl that resizes as it crawls; a bad size is shown beside its field")
    func formResizes() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let fields = [
                ("project", "new"), ("project_name", "Foxes"), ("keywords", "red fox"), ("sources", "demo"),
                ("max_images", "20"), ("resize.mode", "center_crop"), ("resize.encode", "png"),
                ("resize.quality", "95"),
            ]
            let refused = try await Self.post(server, "/dashboard/jobs", as: alice, fields + [("resize.size", "0")])
            #expect(refused.status == 422)
            let error = try #require(refused.text.range(of: "id=\"error-resize.size\""), "\(refused.text)")
            #expect(refused.text[error.upperBound...].prefix(200).contains("must be between 1 and 16384"))
            #expect(try await server.store.listJobs(projectID: nil, status: nil, limit: 10, offset: 0).isEmpty)

            let response = try await Self.post(server, "/dashboard/jobs", as: alice, fields + [("resize.size", "256")])
            #expect(response.status == 303, "\(response.text)")
            let location = try #require(response.headers["location"])
            let jobID = try #require(Int64(location.dropFirst("/jobs/".count)))
            let job = try #require(try await server.store.job(id: jobID))
            #expect(job.resize == ResizeOptions(size: 256, mode: .centerCrop, encoding: .png))
        }
    }

    @Test(
        "bad input shows the API's reason beside the field and creates nothing",
        arguments: [
            ("keywords", "", "max_images", "20", "formats", "jpeg", "give at least one keyword"),
            ("max_images", "red fox", "max_images", "0", "formats", "jpeg", "must be between 1 and 1000000"),
            ("formats", "red fox", "max_images", "20", "formats", "gif", "unknown format \"gif\""),
        ])
    func badInput(
        input: String, keywords: String, _ maxName: String, maxImages: String, _ formatsName: String, formats: String,
        reason: String
    ) async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let response = try await Self.post(
                server, "/dashboard/jobs", as: alice,
                [
                    ("project", "new"), ("project_name", "Foxes"), ("keywords", keywords), ("sources", "demo"),
                    (maxName, maxImages), (formatsName, formats),
                ])
            #expect(response.status == 422)
            let html = response.text
            let error = try #require(html.range(of: "id=\"error-\(input)\""), "\(html)")
            #expect(html[error.upperBound...].prefix(300).contains(reason.replacingOccurrences(of: "\"", with: "&quot;")))
            #expect(html.contains("aria-describedby=\"error-\(input)\""))
            #expect(try await server.store.listProjects(ownerID: alice.profile.id).isEmpty, "no project created")
            #expect(try await server.store.listJobs(projectID: nil, status: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test("a thumbnail is a small decodable JPEG with cache headers, cached in storage, and 304 when unchanged")
    func thumbnail() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            let images = try await server.insertRealImages(jobID: jobID, count: 4, width: 1024, height: 768)
            for image in images {
                let response = try await server.get("/v1/images/\(image.id)/thumbnail", as: alice)
                #expect(response.status == 200)
                #expect(response.headers["content-type"] == "image/jpeg")
                #expect(response.headers["cache-control"]?.contains("max-age=") == true)
                let size = try #require(TestServer.decodedJPEGSize(response.body), "\(image.format) thumbnail decodes")
                #expect(size.width == 256 && size.height == 192)
            }
            let cache = server.blobs.root.appendingPathComponent("thumbnails")
            let cached = try FileManager.default.subpathsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".jpg") }
            #expect(cached.count == 4)
            let etag = try #require(try await server.get("/v1/images/\(images[0].id)/thumbnail", as: alice).headers["etag"])
            let again = try await server.client.get(
                "/v1/images/\(images[0].id)/thumbnail", token: alice.token, headers: ["If-None-Match": etag])
            #expect(again.status == 304)
        }
    }

    @Test("a thumbnail of another user's image, of a missing image or of a missing file is 404")
    func thumbnailOwnerScoped() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            let images = try await server.insertRealImages(jobID: jobID, count: 2)
            #expect(try await server.get("/v1/images/\(images[0].id)/thumbnail", as: bob).status == 404)
            #expect(try await server.get("/v1/images/999999/thumbnail", as: alice).status == 404)
            let key = try BlobKey(sha256: images[1].sha256, format: images[1].format)
            _ = try server.blobs.delete(key)
            #expect(try await server.get("/v1/images/\(images[1].id)/thumbnail", as: alice).status == 404)
            #expect(try await server.get("/v1/images/\(images[0].id)/thumbnail", as: alice).status == 200)
        }
    }

    @Test("the job page shows the newest images first with details, paged, and examples of each reject category")
    func jobPage() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID, maxImages: 100)
            let images = try await server.insertRealImages(jobID: jobID, count: 50, width: 64, height: 48)
            try await server.store.recordErrors([
                NewErrorLog(jobID: jobID, category: .decode, message: "premature end of data", url: "http://a.test/1.jpg"),
                NewErrorLog(jobID: jobID, category: .dimensions, message: "32×32 is below 64×64", url: "http://a.test/2.png"),
            ])
            let page = try await server.get("/jobs/\(jobID)", as: alice)
            #expect(page.status == 200)
            let html = page.text
            let newest = try #require(html.range(of: "id=\"image-\(images[49].id)\""))
            let older = try #require(html.range(of: "id=\"image-\(images[10].id)\""))
            #expect(newest.lowerBound < older.lowerBound, "newest first")
            #expect(!html.contains("id=\"image-\(images[1].id)\""), "48 per page")
            #expect(html.contains("src=\"/v1/images/\(images[49].id)/thumbnail\""))
            #expect(html.contains("64×48 · jpeg"))
            #expect(html.contains("href=\"/jobs/\(jobID)?before=\(images[2].id)#images\""))
            let second = try await server.get("/jobs/\(jobID)?before=\(images[2].id)", as: alice)
            #expect(second.text.contains("id=\"image-\(images[1].id)\""))
            #expect(second.text.contains("id=\"image-\(images[0].id)\""))
            #expect(html.contains("id=\"rejects-DECODE\""))
            #expect(html.contains("http://a.test/1.jpg"))
            #expect(html.contains("premature end of data"))
            #expect(html.contains("32×32 is below 64×64"))
            for format in ExportRequest.formats {
                #expect(html.contains("<option>\(format)</option>") || html.contains("<option selected>\(format)</option>"))
            }
            let bob = try await server.makeUser("bob")
            #expect(try await server.get("/jobs/\(jobID)", as: bob).status == 404)
        }
    }

    @Test("the job page lists the workers on the job with their chunk, progress in it and rate")
    func jobWorkers() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await server.store.registerWorker(id: "worker-7", hostname: "crawler-b", pid: 77, version: "test")
            let claimed = try #require(try await server.store.claimChunk(workerID: "worker-7", lease: .seconds(60), jobID: jobID))
            try await server.store.workerHeartbeat(id: "worker-7", status: .running, currentChunkID: claimed.chunk.id)
            let html = try await server.get("/jobs/\(jobID)", as: alice).text
            let table = try #require(html.range(of: "id=\"job-workers\""))
            let rows = html[table.upperBound...]
            #expect(rows.contains("worker-7"))
            #expect(rows.contains("#\(claimed.chunk.id) \(claimed.chunk.keyword) · demo"))
            #expect(rows.contains("images/s"))
        }
    }

    @Test("cancel and retry-failed buttons act through the API's paths")
    func buttons() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            let dashboard = try await server.get("/", as: alice).text
            #expect(dashboard.contains("action=\"/dashboard/jobs/\(jobID)/cancel\""))
            let cancel = try await Self.post(server, "/dashboard/jobs/\(jobID)/cancel", as: alice, [])
            #expect(cancel.status == 303)
            #expect(try await server.store.job(id: jobID)?.status == .cancelled)
            let retry = try await Self.post(server, "/dashboard/jobs/\(jobID)/retry-failed", as: alice, [])
            #expect(retry.status == 409, "a cancelled job is not retried, as over the API")
        }
    }

    /// Alice with a job of three real images to export.
    static func jobWithImages(_ server: TestServer) async throws -> (TestUser, Int64) {
        let alice = try await server.makeUser("alice")
        let projectID = try await server.createProject(as: alice)
        let jobID = try await server.submitJob(as: alice, projectID: projectID)
        try await server.insertRealImages(jobID: jobID, count: 3, width: 64, height: 48)
        return (alice, jobID)
    }

    /// Posts `fields` (whose last one is the bad input) to job `jobID`'s export form: a 422 with the reason beside
    /// that input, and no export.
    static func expectExportRejected(
        _ server: TestServer, _ jobID: Int64, as user: TestUser, _ fields: [(String, String)]
    ) async throws {
        let response = try await post(server, "/dashboard/jobs/\(jobID)/exports", as: user, fields)
        #expect(response.status == 422)
        #expect(response.text.contains("id=\"error-export-\(fields.last?.0 ?? "")\""))
        #expect(try await server.store.exports(crawlJobID: jobID).isEmpty)
    }

    @Test("the export form takes every option, and a bad one is shown beside its field without an export")
    func exportForm() async throws {
        try await TestServer.with(.sqlite) { server in
            let (alice, jobID) = try await Self.jobWithImages(server)
            try await Self.expectExportRejected(server, jobID, as: alice, [("format", "zip"), ("dedup_near", "99")])
            try await Self.expectExportRejected(server, jobID, as: alice, [("format", "zip"), ("split", "train=abc")])
            let good = try await Self.post(
                server, "/dashboard/jobs/\(jobID)/exports", as: alice,
                [
                    ("format", "tar"), ("layout", "imagefolder"), ("expires_in_hours", "2"), ("min_width", "10"),
                    ("split", "train=0.5,val=0.5"), ("seed", "7"), ("shard_size", "100"),
                ])
            #expect(good.status == 303)
            let export = try #require(try await server.store.exports(crawlJobID: jobID).first)
            #expect(export.format == "tar")
            let options = try ExportOptions(json: export.optionsJSON)
            #expect(options.split == "train=0.5,val=0.5")
            #expect(options.seed == 7)
            #expect(options.shardSize == 100)
            #expect(options.layout == .imagefolder)
        }
    }

    @Test("a resized export from the form is stored with its resize options; a bad size is shown beside its field")
    func exportFormResize() async throws {
        try await TestServer.with(.sqlite) { server in
            let (alice, jobID) = try await Self.jobWithImages(server)
            try await Self.expectExportRejected(server, jobID, as: alice, [("format", "zip"), ("resize.size", "0")])
            let good = try await Self.post(
                server, "/dashboard/jobs/\(jobID)/exports", as: alice,
                [
                    ("format", "webdataset"), ("name", "Foxes 32px"), ("resize.size", "32"), ("resize.mode", "center_crop"),
                    ("resize.only_if_bigger", "true"), ("resize.encode", "webp"), ("resize.quality", "80"),
                ])
            #expect(good.status == 303, "\(good.text)")
            let export = try #require(try await server.store.exports(crawlJobID: jobID).first)
            #expect(export.name == "Foxes 32px")
            let options = try ExportOptions(json: export.optionsJSON)
            #expect(
                options.resize
                    == ResizeOptions(size: 32, mode: .centerCrop, onlyIfBigger: true, encoding: .webp, quality: 80))
        }
    }
}
