import Foundation
import Logging
import PixCoordinate
import PixCore
import PixDemo
import PixFetch
import PixServe
import PixSources
import PixStore
import PixTestSupport
import Testing

@Suite("End to end: a crawl submitted over the API, run by real workers, exported and downloaded")
struct CrawlFlowTests {
    static let logger: Logger = {
        var logger = Logger(label: "pixcrawl.test.crawlflow")
        logger.logLevel = .critical
        return logger
    }()

    /// Workers of the server's store and blob folder, fetching only from loopback (the demo source's server);
    /// `notify` makes them listen for PostgreSQL wake-ups.
    static func runtime(for server: TestServer, demo: DemoSource, notify: Bool = false) throws -> CrawlRuntime {
        var configuration = DownloaderConfiguration()
        configuration.addressPolicy = AddressPolicy(allowedNetworks: DemoSource.requiredNetworkRanges)
        configuration.connectTimeout = .seconds(2)
        configuration.totalTimeout = .seconds(10)
        configuration.maxBodyBytes = 1 << 20
        configuration.maxConcurrentTransfers = 16
        configuration.maxTransfersPerHost = 16
        configuration.retryPolicy = RetryPolicy(
            maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxRetryAfter: .seconds(1))
        let downloader = try Downloader(configuration: configuration, logger: logger)
        return CrawlRuntime(
            store: server.store, blobs: server.blobs, sources: Self.resolver(demo), downloader: downloader,
            processing: ChunkProcessorConfiguration(
                concurrency: 4, lease: .seconds(10), retryBackoffBase: .milliseconds(20),
                retryBackoffMax: .milliseconds(200)),
            notify: notify, validationThreads: 2, logger: logger)
    }

    static func resolver(_ demo: DemoSource) -> SourceResolver {
        SourceResolver { spec in
            guard spec == "demo" else { throw PlanningError.invalid("sources", "only the demo source in this test") }
            return demo
        }
    }

    /// Runs workers until they all return, stopping them and failing after `timeout`.
    static func run(_ workers: [Worker], timeout: Duration = .seconds(25)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { try await worker.run() } }
            group.addTask {
                try await Task.sleep(for: timeout)
                for worker in workers { worker.stop() }
                throw TestSupportError("workers did not finish within \(timeout)")
            }
            for _ in workers { try await group.next() }
            group.cancelAll()
        }
    }

    @Test(
        "user → project → job on the demo source → two workers crawl → counters and metrics → export → Range download → 410",
        arguments: Backend.allCases)
    func crawlFlow(_ backend: Backend) async throws {
        let demo = DemoSource(maxDepth: 200, pageSize: 10, logger: Self.logger)
        defer { demo.shutdown() }
        try await TestServer.with(backend, planner: JobPlanner(sources: Self.resolver(demo))) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(
                as: alice, projectID: projectID, keywords: ["red fox", "arctic fox"], maxImages: 20)
            let planned = try await server.store.chunks(jobID: jobID)
            #expect(!planned.isEmpty && planned.allSatisfy { $0.source == "demo" && $0.status == .pending })
            #expect(
                Array(planned.prefix(2).map(\.keyword)) == ["red fox", "arctic fox"],
                "the coordinator's plan interleaves keywords")

            // Two in-process workers crawl the job over loopback until it is finished.
            let runtime = try Self.runtime(for: server, demo: demo)
            let workers = (0..<2).map { index in
                runtime.makeWorker(
                    WorkerConfiguration(
                        id: "flow-\(index)-\(UUID().uuidString.prefix(6))", lease: .seconds(10),
                        pollInterval: .milliseconds(50), shutdownTimeout: .seconds(5), jobID: jobID,
                        exitWhenJobFinished: true))
            }
            do {
                try await Self.run(workers)
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()

            // The job over the API: completed, exactly the target, counters consistent with each other and the rows.
            let job = try await server.get("/v1/jobs/\(jobID)", as: alice)
            #expect(job.status == 200)
            #expect(job.json["status"] as? String == "completed")
            #expect(job.json["progress"] as? Int == 100)
            let counters = try #require(job.json["counters"] as? [String: Int])
            #expect(counters["valid_images"] == 20)
            #expect(counters["total_images"] == 20)
            let downloaded = try #require(counters["downloaded_images"])
            #expect(downloaded >= 20)
            #expect(counters["pending_chunks"] == 0 && counters["active_chunks"] == 0 && counters["failed_chunks"] == 0)
            let totalChunks = try #require(counters["total_chunks"])
            #expect(totalChunks >= planned.count)
            #expect(counters["completed_chunks", default: 0] + counters["cancelled_chunks", default: 0] == totalChunks)
            let rows = try await server.store.chunkStatusCounts(jobID: jobID)
            #expect(rows.values.reduce(0, +) == totalChunks, "total_chunks equals the chunk rows")
            #expect(try await server.store.imageCounts(jobID: jobID) == (20, 20), "valid_images equals the image rows")
            let keywordProgress = try #require(job.json["keyword_progress"] as? [[String: Any]])
            #expect(keywordProgress.compactMap { $0["total_chunks"] as? Int }.reduce(0, +) == totalChunks)
            let images = try await server.get("/v1/jobs/\(jobID)/images?limit=100", as: alice)
            #expect(images.items.count == 20)
            #expect(Set(images.items.compactMap { $0["keyword"] as? String }).isSubset(of: ["red fox", "arctic fox"]))
            let firstImage = try #require(images.items.first)
            let file = try await server.get(try #require(firstImage["file_url"] as? String), as: alice)
            #expect(file.status == 200)
            #expect(file.body.count == firstImage["file_size"] as? Int, "the stored file the worker wrote")
            let errors = try await server.get("/v1/jobs/\(jobID)/errors", as: alice)
            let rejected = try #require(errors.json["total"] as? Int)
            let completedList = try await server.get("/v1/jobs?status=completed", as: alice)
            #expect(completedList.items.map { $0["id"] as? Int } == [Int(jobID)])

            // The metrics scrape reflects the crawl.
            let scrape = try await server.client.get("/metrics")
            #expect(scrape.status == 200)
            let samples = MetricsTests.parse(scrape.text)
            #expect(samples["pixcrawl_images_accepted"] == 20)
            #expect(samples["pixcrawl_images_downloaded"] == Double(downloaded))
            #expect(samples["pixcrawl_jobs{status=\"completed\"}"] == 1)
            #expect(samples["pixcrawl_jobs{status=\"running\"}"] == 0)
            #expect(samples["pixcrawl_jobs{status=\"pending\"}"] == 0)
            #expect(samples["pixcrawl_chunks{status=\"pending\"}"] == 0)
            #expect(samples["pixcrawl_chunks{status=\"active\"}"] == 0)
            #expect(samples["pixcrawl_queue_depth"] == 0)
            #expect(
                samples["pixcrawl_chunks{status=\"completed\"}"] == Double(counters["completed_chunks", default: -1]))
            let rejectedSamples = samples.filter { $0.key.hasPrefix("pixcrawl_images_rejected{") }
            #expect(rejectedSamples.count == ErrorCategory.allCases.count)
            #expect(rejectedSamples.values.reduce(0, +) == Double(rejected), "rejects by category sum to the job's errors")

            // Export over the API, run as a worker would; a link; a ranged download; expiry.
            let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "zip"])
            #expect(export.status == 202)
            let exportID = try #require(export.json["id"] as? Int)
            let archive = try await server.runExport(Int64(exportID))
            let exportView = try await server.get("/v1/exports/\(exportID)", as: alice)
            #expect(exportView.json["status"] as? String == "completed")
            #expect(exportView.json["exported_images"] as? Int == 20)
            #expect(exportView.json["file_size"] as? Int == archive.count)
            #expect(archive.count > 2000)
            let afterExport = MetricsTests.parse(try await server.client.get("/metrics").text)
            #expect(afterExport["pixcrawl_export_bytes"] == Double(archive.count), "export bytes after the export")
            #expect(afterExport["pixcrawl_exports_completed"] == 1)

            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice, json: ["expires_in_hours": 1])
            #expect(link.status == 201)
            let url = try #require(link.json["download_url"] as? String)
            let last = archive.count - 1
            let part = try await server.client.get(url, headers: ["Range": "bytes=1000-\(last)"])
            #expect(part.status == 206)
            #expect(part.body == Array(archive[1000...]))
            #expect(part.headers["content-range"] == "bytes 1000-\(last)/\(archive.count)")
            #expect(part.headers["content-length"] == "\(archive.count - 1000)")
            let head = try await server.client.get(url, headers: ["Range": "bytes=0-999"])
            #expect(head.status == 206)
            #expect(head.body + part.body == archive, "the two ranges are the whole archive")

            // A link that has expired answers 410 (a short-lived record, as waiting an hour would).
            let expiredToken = APITokenGenerator.generate(scheme: "pxd_").token
            _ = try await server.store.createDownloadRecord(
                exportID: Int64(exportID),
                NewDownloadRecord(tokenHash: APITokenGenerator.hash(expiredToken), lifetime: .seconds(-1)))
            let expired = try await server.client.get("/downloads/\(expiredToken)", headers: ["Range": "bytes=0-99"])
            #expect(expired.status == 410)
            #expect(expired.json["error"] as? String == "gone")
        }
    }
}
