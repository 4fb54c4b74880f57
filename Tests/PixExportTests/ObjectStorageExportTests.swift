import Crypto
import Foundation
import Logging
import PixCore
import PixExport
import PixS3
import PixStore
import PixTestSupport
import Testing

/// Exports whose archives live in S3-compatible object storage (the loopback `moto_server`).
@Suite("Exports to object storage")
struct ObjectStorageExportTests {
    /// A bucket of the test's own and a client for it.
    static func bucket() throws -> S3Client {
        let server = try TestS3.server()
        let environment = ["AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey]
        let location = try S3Location.parse(
            "s3://\(TestS3.bucketName("export"))/datasets?endpoint=\(server.endpoint)&region=\(server.region)",
            environment: environment)
        let client = S3Client(location: location, credentials: try S3Credentials.fromEnvironment(environment))
        _ = try client.createBucket()
        return client
    }

    static func runner(_ fixture: ExportJobFixture, client: S3Client) -> ExportJobRunner {
        ExportJobRunner(
            store: fixture.store, blobs: fixture.blobs,
            configuration: .init(
                exportsDirectory: fixture.exportsDirectory, workerID: "s3-test", pageSize: 3,
                archiveStorage: .s3(client)),
            logger: Logger(label: "pixcrawl.export.test"))
    }

    /// The query item `name` of a URL.
    static func query(_ url: String, _ name: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
    }

    /// Fetches a URL with the curl command (no credentials: a presigned URL must be enough).
    static func fetch(_ url: String, to file: URL) throws -> Int32 {
        try TestProcess.run(["curl", "-sS", "-f", "-o", file.path, url]).status
    }

    @Test(
        "the archive is uploaded, its link is a presigned URL expiring with the record, and it downloads verified",
        arguments: Backend.allCases)
    func uploadedAndPresigned(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages((1...7).map { ImageSpec(seed: $0) })
        let client = try Self.bucket()
        let runner = Self.runner(fixture, client: client)
        let queued = try await runner.enqueue(
            crawlJobID: fixture.job.id, format: .tar, options: ExportOptions(linkLifetimeSeconds: 3_600))
        let outcome = try await runner.run(exportID: queued.id)

        let key = "datasets/exports/job-\(fixture.job.id)/export-\(queued.id).tar"
        let recorded = try #require(try await fixture.store.export(id: queued.id))
        #expect(recorded.filePath == "s3://\(client.location.bucket)/\(key)")
        #expect(outcome.archive.absoluteString == recorded.filePath)
        let object = try #require(try client.headObject(key: key))
        #expect(object.size == Int64(outcome.fileSize))
        #expect(fixture.exportsContents().allSatisfy { !$0.hasSuffix(".tar") }, "no local copy is left behind")

        let url = try #require(recorded.downloadURL)
        #expect(url.hasPrefix(client.location.endpoint.description), "\(url)")
        #expect(Self.query(url, "X-Amz-Expires") == "3600")
        #expect(Self.query(url, "X-Amz-Algorithm") == "AWS4-HMAC-SHA256")
        #expect(Self.query(url, "X-Amz-Signature")?.count == 64)
        let fetched = fixture.directory.file("presigned.tar")
        #expect(try Self.fetch(url, to: fetched) == 0)
        let bytes = try Data(contentsOf: fetched)
        #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == outcome.sha256)

        // A fresh link's presigned URL carries the new link's lifetime.
        let downloads = ExportDownloads(store: fixture.store, archiveStorage: .s3(client))
        let link = try await downloads.issueLink(exportID: queued.id, lifetime: try LinkLifetime(parsing: "2h"))
        let linked = try #require(try await fixture.store.export(id: queued.id)?.downloadURL)
        #expect(Self.query(linked, "X-Amz-Expires") == "7200")
        #expect(!linked.contains(link.token.value), "the URL never carries the download token")

        // The token downloads the archive from the bucket, verified against the recorded size and SHA-256.
        let copy = fixture.directory.file("copy.tar")
        let downloaded = try await downloads.download(token: outcome.downloadToken.value, to: copy)
        #expect(downloaded.sha256 == outcome.sha256)
        #expect(try Data(contentsOf: copy) == bytes)
    }

    @Test("an archive whose object was deleted is reported missing; expiry deletes the object", arguments: [Backend.sqlite])
    func missingAndExpired(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages([ImageSpec(seed: 1), ImageSpec(seed: 2, format: .png)])
        let client = try Self.bucket()
        let runner = Self.runner(fixture, client: client)
        let queued = try await runner.enqueue(
            crawlJobID: fixture.job.id, format: .zip, options: ExportOptions(linkLifetimeSeconds: 60))
        _ = try await runner.run(exportID: queued.id)
        let key = "datasets/exports/job-\(fixture.job.id)/export-\(queued.id).zip"
        let downloads = ExportDownloads(store: fixture.store, archiveStorage: .s3(client))

        // Expire every link: the collector deletes the object and marks the export expired.
        _ = try await fixture.query(
            "UPDATE download_records SET expires_at = \(fixture.anHourAgo) WHERE export_id = $1", [.int(queued.id)])
        _ = try await fixture.query(
            "UPDATE export_jobs SET expires_at = \(fixture.anHourAgo) WHERE id = $1", [.int(queued.id)])
        let report = try await ExportGarbageCollector(store: fixture.store, archiveStorage: .s3(client)).collect()
        #expect(report.archives.map(\.exportID) == [queued.id])
        #expect(try client.headObject(key: key) == nil, "the expired archive's object is deleted")
        #expect(try await fixture.store.export(id: queued.id)?.status == .expired)

        // A second export whose object disappears: a new link is refused as missing.
        let second = try await runner.enqueue(crawlJobID: fixture.job.id, format: .zip, options: ExportOptions())
        _ = try await runner.run(exportID: second.id)
        #expect(try client.deleteObject(key: "datasets/exports/job-\(fixture.job.id)/export-\(second.id).zip"))
        let error = await #expect(throws: ExportJobError.self) {
            _ = try await downloads.issueLink(exportID: second.id)
        }
        #expect(error?.code == .archiveMissing)
    }

    @Test(
        "a WebDataset export stores each shard and index as its own object; download -o DIR verifies the shards; expiry deletes them all"
    )
    func webDatasetShardObjects() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        try await fixture.addImages((1...5).map { ImageSpec(seed: UInt64($0)) })
        let client = try Self.bucket()
        let runner = Self.runner(fixture, client: client)
        let queued = try await runner.enqueue(
            crawlJobID: fixture.job.id, format: .webdataset, options: ExportOptions(shardSize: 2))
        let outcome = try await runner.run(exportID: queued.id)
        let key = "datasets/exports/job-\(fixture.job.id)/export-\(queued.id)\(ExportFormat.webdataset.fileSuffix)"
        var objects: [String] = []
        try client.listObjects(prefix: "\(key).shards/") { objects.append(String($0.key.dropFirst(key.count + 8))) }
        #expect(objects.sorted() == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar", "shard-index.json"])

        let directory = fixture.directory.url.appendingPathComponent("dataset", isDirectory: true)
        let downloaded = try await ExportDownloads(store: fixture.store, archiveStorage: .s3(client))
            .download(token: outcome.downloadToken.value, to: directory)
        #expect(downloaded.files.filter { $0.hasSuffix(".tar") } == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"])
        let index = try JSONDecoder().decode(
            WebDatasetIndex.self, from: Data(contentsOf: directory.appendingPathComponent("shard-index.json")))
        for shard in index.shards {
            let local = try Data(contentsOf: directory.appendingPathComponent(shard.url))
            #expect(SHA256.hash(data: local).map { String(format: "%02x", $0) }.joined() == shard.sha256)
            #expect(try client.getObject(key: "\(key).shards/\(shard.url)") == Array(local), "the shard object is the shard")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).allSatisfy { !$0.hasPrefix(".") })

        _ = try await fixture.query(
            "UPDATE download_records SET expires_at = \(fixture.anHourAgo) WHERE export_id = $1", [.int(queued.id)])
        _ = try await fixture.query(
            "UPDATE export_jobs SET expires_at = \(fixture.anHourAgo) WHERE id = $1", [.int(queued.id)])
        _ = try await ExportGarbageCollector(store: fixture.store, archiveStorage: .s3(client)).collect()
        var left: [String] = []
        try client.listObjects(prefix: key) { left.append($0.key) }
        #expect(left.isEmpty, "the archive and its shard objects are deleted: \(left)")
    }
}
