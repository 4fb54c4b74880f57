import Foundation
import Logging
import PixCore
import PixExport
import PixS3
import PixServe
import PixStore
import PixTestSupport
import Synchronization
import Testing

@Suite("Downloads")
struct DownloadTests {
    @Test("unknown tokens 404, bad ranges 416, suffix ranges, If-None-Match 304, counts", arguments: [Backend.sqlite])
    func edges(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await server.insertImages(jobID: jobID, count: 3)
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "tar"])
            let exportID = Int64(try #require(export.json["id"] as? Int))
            let bytes = try await server.runExport(exportID)
            let size = bytes.count
            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice)
            let token = String(try #require(link.json["download_url"] as? String).dropFirst("/downloads/".count))
            let before = try await server.downloadCount(exportID: exportID)

            let unknown = try await server.client.get("/downloads/dl_\(String(repeating: "A", count: 43))")
            #expect(unknown.status == 404)
            #expect(unknown.json["error"] as? String == "not_found")

            let beyond = try await server.client.get("/downloads/\(token)", headers: ["Range": "bytes=\(size)-"])
            #expect(beyond.status == 416)
            #expect(beyond.headers["content-range"] == "bytes */\(size)")
            #expect(beyond.json["error"] as? String == "range_not_satisfiable")
            let backwards = try await server.client.get("/downloads/\(token)", headers: ["Range": "bytes=50-10"])
            #expect(backwards.status == 416)

            let suffix = try await server.client.get("/downloads/\(token)", headers: ["Range": "bytes=-100"])
            #expect(suffix.status == 206)
            #expect(suffix.body == Array(bytes[(size - 100)...]))
            #expect(suffix.headers["content-range"] == "bytes \(size - 100)-\(size - 1)/\(size)")
            #expect(suffix.headers["content-length"] == "100")

            let clamped = try await server.client.get(
                "/downloads/\(token)", headers: ["Range": "bytes=\(size - 10)-\(size + 5000)"])
            #expect(clamped.status == 206)
            #expect(clamped.body == Array(bytes[(size - 10)...]))

            let whole = try await server.client.get("/downloads/\(token)")
            #expect(whole.headers["accept-ranges"] == "bytes")
            #expect(whole.headers["content-disposition"]?.contains("attachment") == true)
            let etag = try #require(whole.headers["etag"])
            let cached = try await server.client.get("/downloads/\(token)", headers: ["If-None-Match": etag])
            #expect(cached.status == 304)
            #expect(cached.body.isEmpty)
            let stale = try await server.client.get(
                "/downloads/\(token)", headers: ["Range": "bytes=0-9", "If-Range": "\"other\""])
            #expect(stale.status == 200, "a stale If-Range gets the whole file")
            #expect(stale.body == bytes)

            // Two 206 and two 200 are counted; the 416s and the 304 are not downloads.
            #expect(try await server.downloadCount(exportID: exportID) - before == 4)
        }
    }

    @Test("an archive in object storage: the link redirects to a presigned URL expiring with it; 410 after expiry")
    func objectStorageRedirect() async throws {
        let bucket = try TestBucket.make("serve")
        try await TestServer.with(.sqlite, archiveStorage: .s3(bucket)) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await server.insertImages(jobID: jobID, count: 3)
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "tar"])
            let exportID = Int64(try #require(export.json["id"] as? Int))
            _ = try await server.runExport(exportID)
            let record = try #require(try await server.store.export(id: exportID))
            #expect(record.filePath?.hasPrefix("s3://\(bucket.location.bucket)/p/exports/") == true)
            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice, json: ["expires_in_hours": 2])
            let token = String(try #require(link.json["download_url"] as? String).dropFirst("/downloads/".count))

            let redirect = try await server.client.get("/downloads/\(token)")
            #expect(redirect.status == 302)
            let target = try #require(redirect.headers["location"])
            let expires = try #require(
                URLComponents(string: target)?.queryItems?.first { $0.name == "X-Amz-Expires" }?.value.flatMap(Int.init))
            #expect((7_190...7_200).contains(expires), "the presigned URL expires with the link (\(expires) s)")
            #expect(!target.contains(token))
            let fetched = try await TestProcess.runDetached([
                "curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}", target,
            ])
            #expect(fetched.status == 0, "\(fetched.stderr)")
            #expect(Int64(fetched.stdout) == record.fileSize, "the presigned URL serves the archive")
            #expect(try await server.downloadCount(exportID: exportID) == 1)

            _ = try await server.store.database.withConnection { connection in
                try connection.query(
                    "UPDATE download_records SET expires_at = '2000-01-01T00:00:00.000Z' WHERE export_id = $1",
                    .int(exportID))
            }
            let gone = try await server.client.get("/downloads/\(token)")
            #expect(gone.status == 410)
            #expect(gone.headers["location"] == nil)
        }
    }

    @Test("without an export service the export routes answer 501", arguments: [Backend.sqlite])
    func unavailable(_ backend: Backend) async throws {
        try await TestServer.with(backend, withExports: false) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "zip"])
            #expect(export.status == 501)
            #expect(export.json["error"] as? String == "not_implemented")
            #expect(try await server.client.get("/downloads/whatever").status == 501)
            #expect(try await server.get("/v1/exports/1", as: alice).status == 501)
        }
    }
}

/// Keeps every log line with its metadata, rendered as text, so a test can search it.
/// (Handler metadata such as `hb.request.id` is kept too, shared by every logger made from this recorder.)
final class LogTextRecorder: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    private let stored = Mutex<Logger.Metadata>([:])

    var metadata: Logger.Metadata {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stored.withLock { $0[key] } }
        set { stored.withLock { $0[key] = newValue } }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let metadata = all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(metadata)") }
    }

    /// Everything logged so far, one line per event.
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

@Suite("Download secrets")
struct DownloadSecretTests {
    @Test("a 500 on a download link logs the route template, never the token")
    func failedDownloadLogsNoToken() async throws {
        let recorder = LogTextRecorder()
        try await TestServer.with(.sqlite, logHandler: recorder) { server in
            // A store that fails in an unexpected way: the lookup's table is gone.
            try await server.store.database.withConnection { connection in
                try connection.executeScript("DROP TABLE download_records")
            }
            let token = "secret" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let response = try await server.client.get("/downloads/\(token)")
            #expect(response.status == 500)
            #expect(recorder.text.contains("request failed"))
            #expect(recorder.text.contains("/downloads/{token}"))
            #expect(!recorder.text.contains(token))
        }
    }

    @Test("a link for an export whose archive is gone answers 409 without saying where it was stored")
    func missingArchiveNamesNoLocation() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await server.insertImages(jobID: jobID, count: 2)
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "tar"])
            let exportID = Int64(try #require(export.json["id"] as? Int))
            _ = try await server.runExport(exportID)
            let path = try #require(try await server.store.export(id: exportID)?.filePath)
            try FileManager.default.removeItem(atPath: path)
            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice)
            #expect(link.status == 409)
            let body = String(decoding: link.body, as: UTF8.self)
            #expect(body.contains("missing from storage"))
            #expect(!body.contains(path))
            #expect(!body.contains(URL(fileURLWithPath: path).lastPathComponent))
        }
    }
}
