import Foundation
import PixCoordinate
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real `pixcrawl worker` processes: killed, signalled, and racing on one store.
@Suite("Worker processes", .serialized)
struct WorkerProcessTests {
    static func workerArguments(_ harness: CoordinatorHarness, jobID: Int64, extra: [String]) -> [String] {
        ["worker"] + WorkerProcess.storeArguments(harness.store.database.location) + [
            "--allow-network", "127.0.0.1/32", "--storage-dir", harness.blobRoot.path, "--job", "\(jobID)",
            "--log-level", "info", "--no-notify",
        ] + extra
    }

    @Test(
        "a worker killed with SIGKILL mid-chunk: another completes the chunk from its checkpoint",
        arguments: Backend.allCases)
    func killedMidChunk(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let server = harness.server
            let spec = try harness.sources.addURLList((0..<30).map { server.url("/slow/\($0).jpg?w=64&h=64&ms=100") })
            let job = try await harness.submit(keywords: ["fox"], maxImages: 30, sources: [spec], chunkSize: 30)
            let chunkID = try #require(try await harness.store.chunks(jobID: job.id).first?.id)
            let settings = ["--lease", "1s", "--poll", "200ms", "--concurrency", "1"]

            let victim = try WorkerProcess(Self.workerArguments(harness, jobID: job.id, extra: settings))
            var checkpoint = 0
            try await eventually("the victim commits a page", timeout: .seconds(60)) {
                guard let chunk = try await harness.store.chunk(id: chunkID), chunk.status == .active else { return false }
                checkpoint = chunk.checkpoint.candidatesDone
                return checkpoint >= 10
            }
            victim.signal(SIGKILL)
            #expect(try await victim.wait() == 128 + SIGKILL)
            #expect(try await harness.store.chunk(id: chunkID)?.status == .active, "the dead worker still holds the lease")

            let rescuer = try WorkerProcess(
                Self.workerArguments(harness, jobID: job.id, extra: settings + ["--max-chunks", "1"]))
            #expect(try await rescuer.wait() == 0, "rescuer output:\n\(rescuer.output)")
            #expect(rescuer.claimedChunks == [chunkID])

            let chunk = try #require(try await harness.store.chunk(id: chunkID))
            #expect(chunk.status == .completed)
            #expect(chunk.attempts == 2)
            #expect(chunk.checkpoint.candidatesDone == 30)
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 30)
            let images = try await harness.store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 100)
            #expect(images.count == 30)
            #expect(Set(images.map(\.originalURL)).count == 30 && Set(images.map(\.sha256)).count == 30)
            // The rescuer resumed at the checkpoint: what was committed before the kill was fetched once only.
            for position in 0..<checkpoint {
                #expect(server.requestCount(path: "/slow/\(position).jpg") == 1, "position \(position) fetched again")
            }
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("SIGTERM: the worker gives its chunk back, marks itself stopped and exits 0", arguments: Backend.allCases)
    func sigterm(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let server = harness.server
            let spec = try harness.sources.addURLList((0..<30).map { server.url("/slow/\($0).jpg?w=64&h=64&ms=60") })
            let job = try await harness.submit(keywords: ["fox"], maxImages: 30, sources: [spec], chunkSize: 30)
            let chunkID = try #require(try await harness.store.chunks(jobID: job.id).first?.id)
            let worker = try WorkerProcess(
                Self.workerArguments(harness, jobID: job.id, extra: ["--concurrency", "1", "--id", "terminated"]))
            try await eventually("a page is committed", timeout: .seconds(60)) {
                (try await harness.store.chunk(id: chunkID)?.checkpoint.candidatesDone ?? 0) >= 10
            }
            worker.signal(SIGTERM)
            #expect(try await worker.wait() == 0, "output:\n\(worker.output)")
            let chunk = try #require(try await harness.store.chunk(id: chunkID))
            #expect(chunk.status == .pending)
            #expect(chunk.attempts == 0)
            #expect(chunk.checkpoint.candidatesDone >= 10)
            let registered = try await harness.store.listWorkers().first { $0.id == "terminated" }
            #expect(registered?.status == .stopped)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("worker --metrics-port serves Prometheus metrics that count its crawl")
    func workerMetrics() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let server = harness.server
            let urls = (0..<12).map { harness.image($0) } + [server.url("/bad/truncated.jpg"), server.url("/status/404")]
            let spec = try harness.sources.addURLList(urls)
            let job = try await harness.submit(keywords: ["fox"], maxImages: 100, sources: [spec], chunkSize: 14)
            let port = try TestPostgres.freePort()
            let worker = try WorkerProcess(
                Self.workerArguments(harness, jobID: job.id, extra: ["--metrics-port", "\(port)", "--id", "metered"]))
            try await eventually("the job finishes", timeout: .seconds(60)) {
                try await harness.store.job(id: job.id)?.status.isFinished == true
            }
            let scrape = try TestProcess.run(["curl", "-sf", "http://127.0.0.1:\(port)/metrics"])
            worker.signal(SIGTERM)
            #expect(try await worker.wait() == 0, "output:\n\(worker.output)")
            #expect(scrape.status == 0, "scrape failed: \(scrape.stderr)")
            var samples: [String: Double] = [:]
            for line in scrape.stdout.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count >= 2, let value = Double(parts[1]) { samples[String(parts[0])] = value }
            }
            #expect(samples["pixcrawl_worker_images_accepted"] == 12)
            #expect(samples["pixcrawl_worker_images_rejected{category=\"DECODE\"}"] == 1)
            #expect(samples["pixcrawl_worker_images_rejected{category=\"HTTP_STATUS\"}"] == 1)
            #expect(samples["pixcrawl_worker_chunks{status=\"completed\"}"] == 1)
            #expect((samples["pixcrawl_worker_bytes_downloaded"] ?? 0) > 0)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("four worker processes on one SQLite store: no chunk claimed twice, no SQLITE_BUSY")
    func fourProcessesOnSQLite() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let spec = try harness.sources.addURLList((0..<200).map { harness.image($0) })
            let job = try await harness.submit(keywords: ["fox"], maxImages: 200, sources: [spec], chunkSize: 10)
            #expect(job.counters.totalChunks == 20)
            let workers = try (0..<4).map { index in
                try WorkerProcess(
                    Self.workerArguments(
                        harness, jobID: job.id,
                        extra: ["--once", "--concurrency", "2", "--lease", "10s", "--id", "process-\(index)"]))
            }
            for worker in workers { #expect(try await worker.wait(timeout: .seconds(120)) == 0, "\(worker.output)") }

            let claims = workers.flatMap(\.claimedChunks)
            #expect(claims.count == 20, "every chunk claimed once")
            #expect(Set(claims).count == 20, "no chunk claimed twice")
            for worker in workers {
                let output = worker.output.lowercased()
                #expect(
                    !output.contains("database is locked") && !output.contains("sqlite_busy") && !output.contains("error"))
            }
            let chunks = try await harness.store.chunks(jobID: job.id)
            #expect(chunks.allSatisfy { $0.status == .completed && $0.attempts == 1 })
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 200)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test(
        "pixcrawl crawl runs a job to the end; status, workers, job and validate work on it",
        arguments: Backend.allCases)
    func crawlCommand(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let urls = (0..<16).map { harness.image($0, size: $0 < 4 ? 80 : 160) } + [harness.server.url("/bad/html.jpg")]
            let spec = try harness.sources.addURLList(urls)
            let store = WorkerProcess.storeArguments(harness.store.database.location)
            let crawl = try WorkerProcess(
                [
                    "crawl", "red fox", "arctic fox", "--max-images", "12", "--source", spec, "--workers", "2",
                    "--chunk-size", "4", "--over-fetch", "1", "--project", "cli", "--allow-network", "127.0.0.1/32",
                    "--storage-dir", harness.blobRoot.path, "--poll", "200ms",
                ] + store)
            #expect(try await crawl.wait(timeout: .seconds(120)) == 0, "\(crawl.output)")
            let output = crawl.output
            let job = try #require(
                try await harness.store.listJobs(projectID: nil, status: nil, limit: 10, offset: 0).first)
            #expect(job.status == .completed)
            // The last pages may carry the count past the target; the summary shows what is stored.
            #expect(job.counters.validImages >= 12)
            #expect(output.contains("valid images      \(job.counters.validImages) / 12"), "\(output)")
            #expect(output.contains("completed in"))
            #expect(job.keywords == ["red fox", "arctic fox"])
            try await expectInvariant(harness.store, jobID: job.id)

            let status = try WorkerProcess(["status", "\(job.id)", "--json"] + store)
            #expect(try await status.wait() == 0)
            let detail = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
            let keywords = detail?["keywords"] as? [[String: Any]]
            #expect(keywords?.map { $0["keyword"] as? String } == ["red fox", "arctic fox"])
            #expect(keywords?.map { $0["quota"] as? Int } == [6, 6])

            let workers = try WorkerProcess(["workers", "--all"] + store)
            #expect(try await workers.wait() == 0)
            let human = try WorkerProcess(["status", "\(job.id)"] + store)
            #expect(try await human.wait() == 0)
            #expect(human.output.contains("KEYWORD") && human.output.contains("red fox"), "\(human.output)")
            #expect(workers.output.contains("crawl1") && workers.output.contains("stopped"), "\(workers.output)")

            let cancel = try WorkerProcess(["job", "cancel", "\(job.id)"] + store)
            #expect(try await cancel.wait() == 0)
            #expect(cancel.output.contains("already finished"))

            let validate = try WorkerProcess(
                ["validate", "\(job.id)", "--min-width", "100", "--storage-dir", harness.blobRoot.path] + store)
            #expect(try await validate.wait() == 0, "\(validate.output)")
            let revalidated = try #require(try await harness.store.job(id: job.id))
            let invalid = try await harness.store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 100)
                .filter { !$0.isValid }
            let rows = try await harness.store.imageCounts(jobID: job.id).total
            #expect(revalidated.counters.validImages == rows - invalid.count)
            #expect(!invalid.isEmpty && invalid.allSatisfy { $0.width < 100 })
            #expect(try await harness.store.validationJobs(crawlJobID: job.id).count == 1)
            try await expectInvariant(harness.store, jobID: job.id)

            let bad = try WorkerProcess(["crawl", "fox", "--max-images", "0", "--source", spec] + store)
            #expect(try await bad.wait() != 0)
            #expect(bad.output.contains("max_images"), "\(bad.output)")
        }
    }
}
