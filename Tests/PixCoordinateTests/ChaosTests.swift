import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixFixtures
import PixS3
import PixStore
import PixTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Failure on purpose: real `pixcrawl worker` processes on a PostgreSQL server of the suite's own (so it can be
/// restarted and its connections cut) and S3-compatible object storage on loopback, killed, paused and cut off
/// while they crawl. Every test ends by checking the invariants: counters equal rows, no image twice, every
/// image row has its file.
@Suite("Chaos", .serialized)
struct ChaosTests {
    /// A PostgreSQL server, a migrated schema on it, object storage, a fixture server and workers to kill.
    final class Cluster {
        let postgres: PostgresServer
        let schema: String
        let harness: CoordinatorHarness
        let storage: TestStorage
        private(set) var workers: [WorkerProcess] = []
        private var started = 0

        init() async throws {
            postgres = try PostgresServer()
            schema = "chaos_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            let location = try DatabaseLocation.parse(postgres.url, schema: schema)
            let store = try await SQLCrawlStore.open(location)
            try await Migrator(database: store.database, directory: TestStores.migrationsDirectory).migrate()
            harness = try await CoordinatorHarness.make(.postgres, store: store)
            storage = try TestStorage()
        }

        var storeArguments: [String] { WorkerProcess.storeArguments(harness.store.database.location) }

        /// Starts one more `pixcrawl worker` on the job.
        @discardableResult
        func startWorker(jobID: Int64, extra: [String] = []) throws -> WorkerProcess {
            started += 1
            let worker = try WorkerProcess(
                ["worker"] + storeArguments + storage.arguments + [
                    "--allow-network", "127.0.0.1/32", "--job", "\(jobID)", "--id", "chaos-\(started)",
                    "--lease", "2s", "--poll", "250ms", "--concurrency", "2", "--retry-backoff", "200ms",
                    "--no-exports", "--log-level", "info",
                ] + extra,
                environment: storage.environment)
            workers.append(worker)
            return worker
        }

        /// The workers still running.
        var running: [WorkerProcess] { workers.filter { $0.exitStatus == nil && !$0.hasExited } }

        /// Stops every worker with SIGTERM and waits for it.
        func stopWorkers() async throws {
            for worker in running { worker.signal(SIGTERM) }
            for worker in workers where worker.exitStatus == nil {
                let status = try await worker.wait(timeout: .seconds(60))
                #expect(status == 0 || status == 128 + SIGKILL, "worker exited with \(status):\n\(worker.output)")
            }
        }

        /// Runs `body` with a new cluster and closes the cluster however `body` ends.
        static func with(_ body: (Cluster) async throws -> Void) async throws {
            let cluster = try await Cluster()
            do {
                try await body(cluster)
                await cluster.close()
            } catch {
                await cluster.close()
                throw error
            }
        }

        func close() async {
            for worker in running { worker.signal(SIGKILL) }
            await harness.close()
            postgres.stop()
            storage.remove()
        }

        /// Waits until the job is finished, failing after `timeout`.
        func waitForJob(_ jobID: Int64, timeout: Duration) async throws -> CrawlJob {
            try await eventually("job \(jobID) finishes", timeout: timeout) {
                (try? await harness.store.job(id: jobID))?.status.isFinished == true
            }
            return try #require(try await harness.store.job(id: jobID))
        }
    }

    // MARK: Kill workers, restart PostgreSQL

    @Test("4 workers, 2,000 images, a worker SIGKILLed every few seconds and PostgreSQL restarted: nothing lost")
    func killAndRestart() async throws {
        try await Cluster.with { cluster in
            let server = cluster.harness.server
            let count = 2_000
            let urls = (0..<count).map { server.url("/slow/\($0).jpg?w=64&h=64&ms=60") }
            let spec = try cluster.harness.sources.addURLList(urls)
            let job = try await cluster.harness.submit(
                keywords: ["fox"], maxImages: count, sources: [spec], chunkSize: 50, maxAttempts: 20)
            for _ in 0..<4 { try cluster.startWorker(jobID: job.id) }

            var generator = SystemRandomNumberGenerator()
            var kills: [String] = []
            var restarted = false
            let deadline = ContinuousClock.now + .seconds(240)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2_500))
                if (try? await cluster.harness.store.job(id: job.id))?.status.isFinished == true { break }
                if kills.count < 8, let victim = cluster.running.randomElement(using: &generator) {
                    victim.signal(SIGKILL)
                    #expect(try await victim.wait() == 128 + SIGKILL)
                    kills.append("\(victim.pid)")
                    try cluster.startWorker(jobID: job.id)
                }
                if kills.count == 2 && !restarted {
                    try cluster.postgres.restart()
                    restarted = true
                }
            }
            let final = try await cluster.waitForJob(job.id, timeout: .seconds(120))
            try await cluster.stopWorkers()
            print("chaos: \(kills.count) workers SIGKILLed, PostgreSQL restarted: \(restarted), \(cluster.workers.count) started")
            #expect(restarted, "PostgreSQL was restarted during the crawl")
            #expect(kills.count >= 3, "workers were killed during the crawl (\(kills.count))")

            #expect(final.status == .completed)
            #expect(final.counters.validImages == count)
            try await expectInvariant(cluster.harness.store, jobID: job.id)
            let chunks = try await cluster.harness.store.chunks(jobID: job.id)
            #expect(chunks.allSatisfy { $0.status == .completed }, "every chunk completed")
            let images = try await allImages(cluster.harness.store, jobID: job.id)
            #expect(images.count == count)
            #expect(Set(images.map(\.sha256)).count == images.count, "no image stored twice (sha256)")
            #expect(Set(images.map(\.originalURL)).count == images.count, "no image stored twice (URL)")
            let blobs = try cluster.storage.blobStore()
            var missing = 0
            for image in images where !(try blobs.exists(BlobKey(sha256: image.sha256, format: image.format))) {
                missing += 1
            }
            #expect(missing == 0, "every image row's file exists")

            // fsck finds no row without its file (orphans from killed uploads may exist).
            let fsck = try WorkerProcess(
                ["fsck", "--json"] + cluster.storeArguments + cluster.storage.fsckArguments,
                environment: cluster.storage.environment)
            let fsckStatus = try await fsck.wait(timeout: .seconds(120))
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(fsck.output.utf8)) as? [String: Any], "\(fsck.output)")
            print("chaos: fsck after the crawl: \(report["orphans"] ?? 0) orphan(s), \(report["missing"] ?? 0) missing")
            #expect(report["missing"] as? Int == 0, "\(fsck.output)")
            #expect(report["rows_scanned"] as? Int == count)
            #expect(fsckStatus == 0, "no row lacks its file: fsck exits 0 (orphans are reclaimable space)")

            try await exportAndVerify(cluster, jobID: job.id, expectedImages: count)
        }
    }

    // MARK: Poison chunk

    @Test("a chunk whose source always times out fails after max_attempts without stalling the others")
    func poisonChunk() async throws {
        try await Cluster.with { cluster in
            let server = cluster.harness.server
            // A search endpoint that never answers in time: every page of the poisoned keyword times out.
            server.route(.prefix("/hang/")) { _ in
                usleep(4_000_000)
                return FixtureResponse.json("{\"result_count\": 0, \"page_count\": 0, \"results\": []}")
            }
            let good = try cluster.harness.sources.addURLList((0..<60).map { cluster.harness.image($0) })
            let poison = cluster.harness.sources.addPlanningOnly("openverse", maxDepth: 240)
            let goodJob = try await cluster.harness.submit(
                keywords: ["fox"], maxImages: 60, sources: [good], chunkSize: 10, maxAttempts: 3)
            let poisonJob = try await cluster.harness.submit(
                keywords: ["hang"], maxImages: 10, sources: [poison], chunkSize: 10, maxAttempts: 3)
            let environment = cluster.storage.environment.merging([
                "PIXCRAWL_OPENVERSE_URL": server.url("/hang"), "PIXCRAWL_CONTACT": "crawler-ops@example.org",
            ]) { $1 }
            var workers: [WorkerProcess] = []
            for index in 0..<2 {
                workers.append(
                    try WorkerProcess(
                        ["worker"] + cluster.storeArguments + cluster.storage.arguments + [
                            "--allow-network", "127.0.0.1/32", "--id", "poison-\(index)", "--lease", "3s", "--poll", "200ms",
                            "--retry-backoff", "200ms", "--no-exports", "--fetch-timeout", "1s",
                        ], environment: environment))
            }
            let goodFinal = try await cluster.waitForJob(goodJob.id, timeout: .seconds(120))
            #expect(goodFinal.status == .completed)
            #expect(goodFinal.counters.validImages == 60)
            let poisonFinal = try await cluster.waitForJob(poisonJob.id, timeout: .seconds(120))
            let poisonChunks = try await cluster.harness.store.chunks(jobID: poisonJob.id)
            #expect(poisonChunks.count == 1)
            #expect(poisonChunks.first?.status == .failed)
            #expect(poisonChunks.first?.attempts == 3)
            #expect(poisonFinal.counters.failedChunks == 1)
            try await expectInvariant(cluster.harness.store, jobID: goodJob.id)
            try await expectInvariant(cluster.harness.store, jobID: poisonJob.id)
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(try await worker.wait() == 0, "\(worker.output)") }
            let attempts = workers.map(\.output).joined().components(separatedBy: "openverse").count - 1
            #expect(attempts >= 3, "the poisoned source was asked at least once per attempt")
        }
    }

    // MARK: A paused worker

    @Test("a worker paused with SIGSTOP past its lease loses the chunk and, resumed, leaves the new owner's result")
    func pausedWorker() async throws {
        try await Cluster.with { cluster in
            let server = cluster.harness.server
            let spec = try cluster.harness.sources.addURLList((0..<30).map { server.url("/slow/\($0).jpg?w=64&h=64&ms=100") })
            let job = try await cluster.harness.submit(keywords: ["fox"], maxImages: 30, sources: [spec], chunkSize: 30)
            let chunkID = try #require(try await cluster.harness.store.chunks(jobID: job.id).first?.id)
            let paused = try cluster.startWorker(jobID: job.id, extra: ["--lease", "1s", "--concurrency", "1"])
            try await eventually("the first worker commits a page", timeout: .seconds(60)) {
                (try await cluster.harness.store.chunk(id: chunkID)?.checkpoint.candidatesDone ?? 0) >= 10
            }
            paused.signal(SIGSTOP)
            try await Task.sleep(for: .seconds(3))
            let pausedChunk = try #require(try await cluster.harness.store.chunk(id: chunkID))
            #expect(pausedChunk.status == .active, "the paused worker's lease has expired but nobody took it yet")

            let rescuer = try cluster.startWorker(jobID: job.id, extra: ["--lease", "5s", "--max-chunks", "1"])
            #expect(try await rescuer.wait(timeout: .seconds(90)) == 0, "\(rescuer.output)")
            let completed = try #require(try await cluster.harness.store.chunk(id: chunkID))
            #expect(completed.status == .completed)
            #expect(completed.attempts == 2)

            paused.signal(SIGCONT)
            do {
                try await eventually("the resumed worker notices it lost the lease", timeout: .seconds(30)) {
                    paused.output.contains("outcome=leaseLost")
                }
            } catch {
                Issue.record("\(error); its output:\n\(paused.output)")
            }
            paused.signal(SIGTERM)
            #expect(try await paused.wait(timeout: .seconds(30)) == 0, "\(paused.output)")

            let after = try #require(try await cluster.harness.store.chunk(id: chunkID))
            #expect(after.status == .completed && after.attempts == 2)
            #expect(after.checkpoint.candidatesDone == completed.checkpoint.candidatesDone)
            let final = try #require(try await cluster.harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 30)
            let images = try await allImages(cluster.harness.store, jobID: job.id)
            #expect(images.count == 30)
            #expect(Set(images.map(\.originalURL)).count == 30 && Set(images.map(\.sha256)).count == 30)
            try await expectInvariant(cluster.harness.store, jobID: job.id)
        }
    }

    // MARK: Connections cut

    @Test("pg_terminate_backend on every worker connection, LISTEN included: workers reconnect, the job completes")
    func terminatedConnections() async throws {
        try await Cluster.with { cluster in
            let server = cluster.harness.server
            let count = 600
            let spec = try cluster.harness.sources.addURLList(
                (0..<count).map { server.url("/slow/\($0).jpg?w=64&h=64&ms=50") })
            let job = try await cluster.harness.submit(keywords: ["fox"], maxImages: count, sources: [spec], chunkSize: 30)
            for _ in 0..<3 { try cluster.startWorker(jobID: job.id, extra: ["--poll", "1h"]) }
            let listening = "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'"
            try await eventually("every worker listens", timeout: .seconds(30)) {
                Int(try cluster.postgres.psql(listening).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 3
            }
            try await eventually("the crawl is under way", timeout: .seconds(60)) {
                (try await cluster.harness.store.job(id: job.id)?.counters.validImages ?? 0) >= 100
            }
            let terminated = try cluster.postgres.psql(
                """
                SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) AS cut
                """
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((Int(terminated) ?? 0) >= 6, "every worker's store and LISTEN connections were cut (\(terminated))")
            let midway = try #require(try await cluster.harness.store.job(id: job.id))
            #expect(midway.status != .completed, "the connections were cut mid-crawl")

            try await eventually("the listeners reconnect", timeout: .seconds(30)) {
                Int(try cluster.postgres.psql(listening).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 3
            }
            let final = try await cluster.waitForJob(job.id, timeout: .seconds(120))
            try await cluster.stopWorkers()
            #expect(final.status == .completed)
            #expect(final.counters.validImages == count)
            let images = try await allImages(cluster.harness.store, jobID: job.id)
            #expect(images.count == count && Set(images.map(\.sha256)).count == count)
            try await expectInvariant(cluster.harness.store, jobID: job.id)
        }
    }

    // MARK: A long transaction

    @Test("a transaction held open for a minute by another client: claims go on, latency bounded")
    func longTransaction() async throws {
        try await Cluster.with { cluster in
            // Enough chunks for 8 paced claimers to keep claiming for the whole minute.
            let spec = try cluster.harness.sources.addURLList((0..<6_000).map { cluster.harness.image($0) })
            let job = try await cluster.harness.submit(keywords: ["fox"], maxImages: 6_000, sources: [spec], chunkSize: 1)
            let lockedChunk = try #require(try await cluster.harness.store.chunks(jobID: job.id).first?.id)
            let schema = cluster.schema
            // Another client: a snapshot held for a minute (no dead row can be cleaned up meanwhile) and a row lock
            // on the first chunk.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: try TestPostgres.findBinary("psql"))
            holder.arguments = [
                "-X", "-q", "-h", "127.0.0.1", "-p", "\(cluster.postgres.port)", "-U", "postgres", "-d", "postgres",
                "-c",
                """
                BEGIN ISOLATION LEVEL REPEATABLE READ;
                SELECT count(*) FROM \(schema).images;
                SELECT id FROM \(schema).crawl_chunks WHERE id = \(lockedChunk) FOR UPDATE;
                SELECT pg_sleep(60);
                COMMIT;
                """,
            ]
            holder.standardOutput = FileHandle.nullDevice
            try holder.run()
            try await eventually("the other client holds its transaction", timeout: .seconds(10)) {
                let open = try cluster.postgres.psql(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")
                return open.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            }

            let store = cluster.harness.store
            let start = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
                for claimer in 0..<8 {
                    group.addTask {
                        var measured: [Duration] = []
                        while ContinuousClock.now - start < .seconds(55) {
                            let before = ContinuousClock.now
                            guard
                                let claimed = try await store.claimChunk(
                                    workerID: "claimer-\(claimer)", lease: .seconds(30), jobID: job.id)
                            else { break }
                            #expect(claimed.chunk.id != lockedChunk, "the locked chunk is skipped, not waited for")
                            _ = try await store.completeChunk(
                                chunkID: claimed.chunk.id, token: claimed.leaseToken, finalProgress: nil)
                            measured.append(ContinuousClock.now - before)
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        return measured
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let claimedFor = ContinuousClock.now - start
            let heldFor = try cluster.postgres.psql(
                """
                SELECT coalesce(max(extract(epoch FROM now() - xact_start))::int, 0) FROM pg_stat_activity
                WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()
                """
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            holder.waitUntilExit()
            #expect(claimedFor >= .seconds(50), "claims went on for the whole minute (\(claimedFor))")
            #expect(
                Double(Int(heldFor) ?? 0) >= Double(claimedFor.components.seconds) - 1,
                "the transaction was open throughout (\(heldFor) s of \(claimedFor))")
            let sorted = latencies.sorted()
            let median = sorted.isEmpty ? .zero : sorted[sorted.count / 2]
            let p99 = sorted.isEmpty ? .zero : sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            let worst = sorted.last ?? .zero
            print("claim+complete under a 60 s transaction: \(sorted.count) ops, median \(median), p99 \(p99), max \(worst)")
            #expect(sorted.count >= 200, "claims went on while the transaction was open")
            #expect(worst < .seconds(10), "no claim waited for the other transaction (worst \(worst))")
            try await expectInvariant(cluster.harness.store, jobID: job.id)
        }
    }

    // MARK: Helpers

    func allImages(_ store: SQLCrawlStore, jobID: Int64) async throws -> [ImageRecord] {
        var all: [ImageRecord] = []
        var after: Int64 = 0
        while true {
            let page = try await store.images(jobID: jobID, validOnly: false, afterID: after, limit: 1_000)
            all += page
            guard let last = page.last, page.count == 1_000 else { break }
            after = last.id
        }
        return all
    }

    /// Exports the job as tar through the CLI, downloads it with its token and checks every image is in it.
    func exportAndVerify(_ cluster: Cluster, jobID: Int64, expectedImages: Int) async throws {
        let export = try WorkerProcess(
            ["export", "\(jobID)", "--format", "tar"] + cluster.storeArguments + cluster.storage.exportArguments,
            environment: cluster.storage.environment)
        #expect(try await export.wait(timeout: .seconds(120)) == 0, "\(export.output)")
        let token = try #require(
            export.output.split(separator: "\n").first { $0.hasPrefix("token:") }.map {
                $0.dropFirst("token:".count).trimmingCharacters(in: .whitespaces)
            }, "\(export.output)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: file) }
        let download = try WorkerProcess(
            ["download", token, "-o", file.path] + cluster.storeArguments + cluster.storage.exportArguments,
            environment: cluster.storage.environment)
        #expect(try await download.wait(timeout: .seconds(120)) == 0, "\(download.output)")
        let listing = try TestProcess.run(["tar", "tf", file.path])
        #expect(listing.status == 0)
        let entries = listing.stdout.split(separator: "\n").filter { !$0.hasSuffix("/") && !$0.hasSuffix(".json") }
        let imageEntries = entries.filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }
        #expect(imageEntries.count == expectedImages, "\(entries.prefix(5))")
    }
}

/// Where chaos workers store files: a bucket of their own on the loopback S3 server (moto), shared by every process
/// of the test the way a MinIO or S3 bucket is shared by worker machines.
struct TestStorage {
    let url: String
    let environment: [String: String]

    init() throws {
        let server = try TestS3.server()
        let bucket = TestS3.bucketName("chaos")
        url = "s3://\(bucket)/crawl?endpoint=\(server.endpoint)&region=\(server.region)"
        environment = ["AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey]
        guard case .s3(let location) = try BlobStorageLocation.parse(url, environment: environment) else {
            throw TestSupportError("\(url) is not an s3:// location")
        }
        let client = S3Client(location: location, credentials: try S3Credentials.fromEnvironment(environment))
        _ = try client.createBucket()
    }

    var arguments: [String] { ["--storage-dir", url] }
    var fsckArguments: [String] { ["--storage", url] }
    var exportArguments: [String] { ["--storage", url] }

    func blobStore() throws -> any BlobStore {
        try BlobStorageLocation.parse(url, environment: environment).makeBlobStore(environment: environment)
    }

    func remove() {}
}
