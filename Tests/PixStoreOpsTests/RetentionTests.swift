import Foundation
import PixCore
import PixStore
import PixTestSupport
import Synchronization
import Testing

@testable import PixStoreOps

@Suite("retention")
struct RetentionTests {
    static let now = Date(timeIntervalSince1970: 1_768_478_400)

    static func ids(_ store: SQLCrawlStore, _ sql: String) async throws -> [Int64] {
        try await store.database.withConnection { connection in
            try connection.query(sql).compactMap { $0.int64("id") }
        }
    }

    @Test("old error and activity records go, in batches; recent ones stay", arguments: Backend.allCases)
    func oldLogs(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "logs@example.com"))
        let day: TimeInterval = 86_400
        let errorAges: [TimeInterval] = [40, 31, 1, 30.5, 90, 29, 0.1, 400]  // days
        let activityAges: [TimeInterval] = [200, 181, 179, 1000, 1]
        try await store.database.transaction { connection in
            for age in errorAges {
                try connection.query(
                    "INSERT INTO error_logs (category, message, created_at) VALUES ('NETWORK', $1, $2)",
                    .text("age \(age)"), .date(Self.now.addingTimeInterval(-age * day)))
            }
            for age in activityAges {
                try connection.query(
                    "INSERT INTO activity_logs (user_id, action, \"timestamp\") VALUES ($1, $2, $3)",
                    .uuid(profile.id), .text("age \(age)"), .date(Self.now.addingTimeInterval(-age * day)))
            }
        }
        let allErrors = try await Self.ids(store, "SELECT id FROM error_logs ORDER BY id")
        let allActivity = try await Self.ids(store, "SELECT id FROM activity_logs ORDER BY id")
        let policy = Retention.Policy(
            errorsOlderThan: try TimeSpan(parsing: "30d"), activityOlderThan: try TimeSpan(parsing: "180d"))
        let retention = Retention(database: store.database, batchSize: 2)

        let preview = try await retention.preview(policy, now: Self.now)
        #expect(preview.errorLogs == 5)
        #expect(preview.activityLogs == 3)
        #expect(try await Self.ids(store, "SELECT id FROM error_logs ORDER BY id") == allErrors, "a preview deletes nothing")

        let report = try await retention.run(policy, now: Self.now)
        #expect(report.errorLogs == 5)
        #expect(report.activityLogs == 3)
        #expect(report.batches == 3 + 2, "5 rows in batches of 2, then 3 rows in batches of 2")
        let keptErrors = zip(allErrors, errorAges).filter { $0.1 < 30 }.map(\.0)
        let keptActivity = zip(allActivity, activityAges).filter { $0.1 < 180 }.map(\.0)
        #expect(try await Self.ids(store, "SELECT id FROM error_logs ORDER BY id") == keptErrors)
        #expect(try await Self.ids(store, "SELECT id FROM activity_logs ORDER BY id") == keptActivity)

        let again = try await retention.run(policy, now: Self.now)
        #expect(again.errorLogs == 0 && again.activityLogs == 0)
    }

    @Test("jobs of deleted projects go with everything below them; other projects are untouched", arguments: Backend.allCases)
    func jobsOfDeletedProjects(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "gc@example.com"))
        let doomedProject = try await store.createProject(NewProject(name: "doomed", userID: profile.id))
        let keptProject = try await store.createProject(NewProject(name: "kept", userID: profile.id))

        func job(_ project: Project, chunks: Int) async throws -> CrawlJob {
            try await store.createJob(
                NewCrawlJob(projectID: project.id, name: "j", keywords: ["k"], maxImages: 1000, sources: ["demo"]),
                chunks: (0..<chunks).map { NewChunk(keyword: "k", source: "demo", rangeStart: $0 * 10, rangeEnd: $0 * 10 + 10) })
        }
        func image(_ n: Int, storage: String) -> NewImage {
            NewImage(
                originalURL: "http://127.0.0.1/\(n).jpg", filename: "\(n).jpg", storageURL: storage, width: 1, height: 1,
                fileSize: n, format: .jpeg, sha256: String(format: "%064lx", n), perceptualHash: nil, keyword: "k",
                source: "demo")
        }
        let first = try await job(doomedProject, chunks: 3)
        let second = try await job(doomedProject, chunks: 2)
        let kept = try await job(keptProject, chunks: 2)
        _ = try await store.insertImages(jobID: first.id, images: (1...5).map { image($0, storage: "images/\($0).jpg") })
        _ = try await store.insertImages(jobID: second.id, images: (6...7).map { image($0, storage: "images/\($0).jpg") })
        // The kept job shares one blob with the first job, and its derivative of image 101 has image 2's content.
        var derived = image(101, storage: "images/101.jpg")
        derived.derivative = ImageDerivative(
            sha256: String(format: "%064lx", 2), byteCount: 2, width: 1, height: 1, originalWidth: 2, originalHeight: 2)
        _ = try await store.insertImages(
            jobID: kept.id, images: [image(3, storage: "images/3.jpg"), image(100, storage: "images/100.jpg"), derived])
        let claimed = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: first.id))
        _ = try await store.completeChunk(chunkID: claimed.chunk.id, token: claimed.leaseToken, finalProgress: nil)
        try await store.recordErrors([
            NewErrorLog(jobID: first.id, chunkID: claimed.chunk.id, category: .decode, message: "a"),
            NewErrorLog(jobID: second.id, category: .network, message: "b"),
            NewErrorLog(jobID: kept.id, category: .network, message: "c"),
        ])
        try await store.database.transaction { connection in
            for (jobID, path) in [(first.id, "exports/first.zip"), (kept.id, "exports/kept.zip")] {
                let export =
                    try connection.query(
                        """
                        INSERT INTO export_jobs (crawl_job_id, format, status, file_path) VALUES ($1, 'zip', 'completed', $2)
                        RETURNING id
                        """, .int(jobID), .text(path)
                    ).first?.int64("id") ?? 0
                try connection.query(
                    "INSERT INTO download_records (export_id, token_hash, expires_at) VALUES ($1, $2, $3)", .int(export),
                    .text(String(repeating: "\(jobID % 10)", count: 64)), .date(Self.now))
            }
            try connection.query("INSERT INTO validation_jobs (crawl_job_id) VALUES ($1)", .int(second.id))
        }
        _ = try await store.updateProject(id: doomedProject.id, name: nil, description: nil, status: .deleted)
        let keptBefore = try await AppView.read(store)

        let retention = Retention(database: store.database, batchSize: 2)
        let preview = try await retention.preview(Retention.Policy(jobsOfDeletedProjects: true))
        #expect(preview.jobs == 2 && preview.jobImages == 7 && preview.jobChunks == 5 && preview.jobErrorLogs == 2)

        let report = try await retention.run(Retention.Policy(jobsOfDeletedProjects: true))
        #expect(report.jobs == 2)
        #expect(report.jobImages == 7)
        #expect(report.jobChunks == 5)
        #expect(report.jobErrorLogs == 2)
        #expect(report.exportFiles == ["exports/first.zip"])
        #expect(
            report.unreferencedStorageURLs.sorted() == [
                "images/1.jpg", "images/4.jpg", "images/5.jpg", "images/6.jpg", "images/7.jpg",
            ])
        #expect(report.errorLogs == 0 && report.activityLogs == 0)

        #expect(try await store.job(id: first.id) == nil)
        #expect(try await store.job(id: second.id) == nil)
        #expect(try await store.project(id: doomedProject.id)?.status == .deleted, "the project row itself stays")
        let counts = try await rowCounts(store.database)
        #expect(counts["images"] == 3)
        #expect(counts["crawl_chunks"] == 2)
        #expect(counts["error_logs"] == 1)
        #expect(counts["export_jobs"] == 1)
        #expect(counts["download_records"] == 1)
        #expect(counts["validation_jobs"] == 0)
        let keptAfter = try await AppView.read(store)
        #expect(keptAfter.jobs == keptBefore.jobs.filter { $0.id == kept.id })
        #expect(keptAfter.images == [try await store.images(jobID: kept.id, validOnly: false, afterID: 0, limit: 10)])
        #expect(keptAfter.images.first?.map(\.storageURL) == ["images/3.jpg", "images/100.jpg", "images/101.jpg"])
    }

    @Test("while a job's rows go in batches, its counters equal its rows after every batch", arguments: Backend.allCases)
    func countersFollowBatches(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "counters@example.com"))
        let project = try await store.createProject(NewProject(name: "p", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "j", keywords: ["k"], maxImages: 1000, sources: ["demo"]),
            chunks: (0..<5).map { NewChunk(keyword: "k", source: "demo", rangeStart: $0 * 10, rangeEnd: $0 * 10 + 10) })
        _ = try await store.insertImages(
            jobID: job.id,
            images: (1...9).map {
                NewImage(
                    originalURL: "http://127.0.0.1/\($0).jpg", filename: "\($0).jpg", storageURL: nil, width: 1, height: 1,
                    fileSize: 1, format: .jpeg, sha256: String(format: "%064lx", $0), perceptualHash: nil, keyword: "k",
                    source: "demo")
            })
        let images = try await store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 100)
        _ = try await store.setImageValidity(imageID: images[0].id, isValid: false, reason: "x")
        _ = try await store.setImageValidity(imageID: images[5].id, isValid: false, reason: "y")
        let done = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id))
        _ = try await store.completeChunk(chunkID: done.chunk.id, token: done.leaseToken, finalProgress: nil)
        _ = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id))
        _ = try await store.updateProject(id: project.id, name: nil, description: nil, status: .deleted)

        let observed = Observed()
        var retention = Retention(database: store.database, batchSize: 4)
        retention.afterJobBatch = { jobID in
            let current = try #require(try await store.job(id: jobID))
            let rows = try await store.imageCounts(jobID: jobID)
            let chunks = try await store.chunkStatusCounts(jobID: jobID)
            let c = current.counters
            #expect(c.totalImages == rows.total && c.validImages == rows.valid)
            #expect(c.totalChunks == chunks.values.reduce(0, +))
            #expect(c.activeChunks == chunks[.active, default: 0])
            #expect(c.completedChunks == chunks[.completed, default: 0])
            observed.record(c.totalImages, c.totalChunks)
        }
        let report = try await retention.deleteJobsOfDeletedProjects()
        #expect(report.jobImages == 9)
        #expect(report.jobChunks == 5)
        #expect(report.batches == 3 + 1 + 2 + 1, "images 4+4+1, errors (none), chunks 4+1, then the job")
        #expect(observed.values == [[5, 5], [1, 5], [0, 5], [0, 5], [0, 1], [0, 0]])
        #expect(try await store.job(id: job.id) == nil)
    }
}

/// Counter values seen between batches.
final class Observed: Sendable {
    private let box = Mutex<[[Int]]>([])
    func record(_ images: Int, _ chunks: Int) { box.withLock { $0.append([images, chunks]) } }
    var values: [[Int]] { box.withLock { $0 } }
}
