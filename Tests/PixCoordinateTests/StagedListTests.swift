import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixFetch
import PixFixtures
import PixS3
import PixSources
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// URL lists staged into the shared storage: a job submitted from one directory, its list file deleted, is run
/// by worker processes started elsewhere that share only the database URL and the storage URL.
@Suite("Staged URL lists", .serialized)
struct StagedListTests {
    /// The variables a machine of the cluster is given: database, storage and, for S3, credentials.
    static func clusterEnvironment(_ harness: CoordinatorHarness, storage: String, extra: [String: String] = [:])
        -> [String: String]
    {
        var environment = [
            "PIXCRAWL_STORAGE_URL": storage,
            "PIXCRAWL_MIGRATIONS_DIR": WorkerProcess.repositoryRoot.appendingPathComponent("migrations").path,
            "PIXCRAWL_ALLOW_NETWORK": "127.0.0.1/32",
        ]
        switch harness.store.database.location {
        case .sqlite(let path):
            environment["PIXCRAWL_DATABASE_URL"] = "sqlite:\(path)"
        case .postgres(let conninfo, let schema):
            environment["PIXCRAWL_DATABASE_URL"] = conninfo
            environment["PIXCRAWL_DATABASE_SCHEMA"] = schema
        }
        return environment.merging(extra) { $1 }
    }

    /// The storage URL for a backend: a shared directory on SQLite, a fresh bucket of the test S3 server on
    /// PostgreSQL (with the credentials it accepts).
    static func sharedStorage(_ backend: Backend, root: URL) throws -> (url: String, environment: [String: String]) {
        switch backend {
        case .sqlite:
            return (root.appendingPathComponent("shared-storage").path, [:])
        case .postgres:
            let server = try TestS3.server()
            let environment = ["AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey]
            let url = "s3://\(TestS3.bucketName("lists"))/cluster?endpoint=\(server.endpoint)&region=\(server.region)"
            let location = try S3Location.parse(url, environment: environment)
            _ = try S3Client(location: location, credentials: try S3Credentials.fromEnvironment(environment))
                .createBucket()
            return (url, environment)
        }
    }

    @Test(
        "a list submitted from one directory and then deleted is crawled by workers started from another",
        arguments: Backend.allCases)
    func workersElsewhere(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-staged-\(UUID().uuidString.prefix(8))", isDirectory: true)
            let submitter = root.appendingPathComponent("submitter", isDirectory: true)
            let elsewhere = root.appendingPathComponent("elsewhere", isDirectory: true)
            try FileManager.default.createDirectory(at: submitter, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let storage = try Self.sharedStorage(backend, root: root)
            let environment = Self.clusterEnvironment(harness, storage: storage.url, extra: storage.environment)

            var csv = "url,caption\n"
            for seed in 0..<18 { csv += "\(harness.image(seed)),\"picture \(seed), a fox\"\n" }
            csv += "\(harness.server.url("/bad/truncated.jpg")),broken\n"
            let list = submitter.appendingPathComponent("list.csv")
            try csv.write(to: list, atomically: true, encoding: .utf8)

            let submit = try TestProcess.pixcrawl(
                [
                    "crawl", "fox", "--max-images", "18", "--source", "urls:list.csv", "--chunk-size", "5",
                    "--over-fetch", "1.1", "--detach", "--json",
                ], environment: environment, directory: submitter.path)
            #expect(submit.status == 0, "\(submit.stdout)\(submit.stderr)")
            let answer = try #require(
                try JSONSerialization.jsonObject(with: Data(submit.stdout.utf8)) as? [String: Any], "\(submit.stdout)")
            let jobID = try #require((answer["job_id"] as? NSNumber)?.int64Value)
            try FileManager.default.removeItem(at: list)

            let job = try #require(try await harness.store.job(id: jobID))
            #expect(job.status == .pending)
            #expect(job.sources.count == 1 && job.sources[0].hasPrefix("list:"), "\(job.sources)")

            let workers = try (0..<2).map { index in
                try WorkerProcess(
                    ["worker", "--job", "\(jobID)", "--once", "--no-notify", "--id", "elsewhere-\(index)"],
                    environment: environment, directory: elsewhere.path)
            }
            for worker in workers { #expect(try await worker.wait(timeout: .seconds(120)) == 0, "\(worker.output)") }

            let final = try #require(try await harness.store.job(id: jobID))
            #expect(final.status == .completed)
            #expect(final.counters.failedChunks == 0)
            #expect(final.counters.validImages == 18)
            let images = try await harness.store.images(jobID: jobID, validOnly: true, afterID: 0, limit: 100)
            #expect(Set(images.map(\.originalURL)) == Set((0..<18).map { harness.image($0) }))
            let errors = try await harness.store.errorSummary(jobID: jobID)
            #expect(errors[.source] == nil, "no chunk failed to read the list: \(errors)")
            try await expectInvariant(harness.store, jobID: jobID)
        }
    }

    @Test("gc forgets a list only when no job names it", arguments: Backend.allCases)
    func unusedLists(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-staged-\(UUID().uuidString.prefix(8))", isDirectory: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let lists = LocalListObjectStore(root: root)
            let staging = ListSubmission(lists: lists, logger: CoordinatorHarness.logger)
            let used = root.appendingPathComponent("used.txt")
            let unused = root.appendingPathComponent("unused.txt")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try "\(harness.image(1))\n".write(to: used, atomically: true, encoding: .utf8)
            try "\(harness.image(2))\n".write(to: unused, atomically: true, encoding: .utf8)
            let kept = try await staging.stage(path: used.path, owner: harness.profile.id, store: harness.store)
            let dropped = try await staging.stage(path: unused.path, owner: harness.profile.id, store: harness.store)
            _ = try await harness.store.createJob(
                NewCrawlJob(
                    projectID: harness.project.id, name: "kept", keywords: ["fox"], maxImages: 1,
                    sources: ["list:\(kept.sha256)"], rules: ValidationRules(), chunkSize: 1, overFetch: 1, priority: 0),
                chunks: [])
            #expect(try await harness.store.deleteUnusedLists(submittedBefore: Date().addingTimeInterval(-3600)).isEmpty)
            let deleted = try await harness.store.deleteUnusedLists(submittedBefore: Date().addingTimeInterval(60))
            #expect(deleted == [dropped.sha256])
            #expect(try await harness.store.lists(ownerID: harness.profile.id).map(\.sha256) == [kept.sha256])
        }
    }

    /// Every sample's `.txt` and the `kept_columns` of its `.json` by its `original_url`, read with the `webdataset`
    /// package from every shard under `root` (shards stored directly, or inside an outer tar).
    static let readSamples = """
        import glob, json, os, sys, tarfile
        import webdataset as wds
        root, scratch = sys.argv[1], sys.argv[2]
        shards = []
        for path in sorted(glob.glob(os.path.join(root, "**", "*.tar"), recursive=True)):
            with tarfile.open(path) as outer:
                inner = [m for m in outer.getmembers() if m.name.endswith(".tar")]
                if not inner:
                    shards.append(path)
                for member in inner:
                    target = os.path.join(scratch, member.name.replace("/", "_"))
                    with open(target, "wb") as f:
                        f.write(outer.extractfile(member).read())
                    shards.append(target)
        samples = {}
        for sample in wds.WebDataset(shards, shardshuffle=False):
            meta = json.loads(sample["json"])
            samples[meta["original_url"]] = {"txt": sample["txt"].decode("utf-8"), "kept": meta["kept_columns"]}
        print(json.dumps(samples))
        """

    @Test("a list row's caption is its WebDataset sample's .txt (the keyword when the row has none)")
    func captionsInWebDataset() async throws {
        let python = try await TestPython.webDataset()
        try await CoordinatorHarness.with(.sqlite) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-captions-\(UUID().uuidString.prefix(8))", isDirectory: true)
            let scratch = root.appendingPathComponent("scratch", isDirectory: true)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let list = root.appendingPathComponent("list.csv")
            try """
            url,caption
            \(harness.image(1)),"A red fox, sleeping"
            \(harness.image(2)),Zwei Füchse im Schnee
            \(harness.image(3)),

            """.write(to: list, atomically: true, encoding: .utf8)
            let storage = root.appendingPathComponent("storage").path
            let crawl = try TestProcess.pixcrawl(
                [
                    "crawl", "fox", "--max-images", "3", "--source", "urls:\(list.path)", "--over-fetch", "1",
                    "--allow-network", "127.0.0.1/32", "--storage-dir", storage, "--export", "webdataset", "--poll",
                    "100ms",
                ] + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(crawl.status == 0, "\(crawl.stdout)\(crawl.stderr)")

            let samples = try Self.samples(python: python, storage: storage, scratch: scratch)
            let captions = samples.mapValues { $0["txt"] as? String }
            #expect(
                captions == [
                    harness.image(1): "A red fox, sleeping", harness.image(2): "Zwei Füchse im Schnee",
                    harness.image(3): "fox",
                ])
        }
    }

    /// The exported WebDataset samples under `storage`, by `original_url` (``readSamples``).
    static func samples(python: String, storage: String, scratch: URL) throws -> [String: [String: Any]] {
        let read = try TestProcess.run(["/usr/bin/env", python, "-c", Self.readSamples, storage, scratch.path])
        guard read.status == 0 else { throw TestSupportError("reading the shards failed: \(read.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: [String: Any]] ?? [:]
    }

    @Test("--keep-columns: the kept columns of each list row are its WebDataset sample's KEY.json kept_columns")
    func keptColumnsInWebDataset() async throws {
        let python = try await TestPython.webDataset()
        try await CoordinatorHarness.with(.sqlite) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-kept-\(UUID().uuidString.prefix(8))", isDirectory: true)
            let scratch = root.appendingPathComponent("scratch", isDirectory: true)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let list = root.appendingPathComponent("list.csv")
            try """
            url,caption,photo_id,similarity,nsfw
            \(harness.image(1)),a fox,p-1,0.31,unlikely
            \(harness.image(2)),two foxes,p-2,,unlikely

            """.write(to: list, atomically: true, encoding: .utf8)
            let storage = root.appendingPathComponent("storage").path
            let crawl = try TestProcess.pixcrawl(
                [
                    "crawl", "fox", "--max-images", "2", "--source", "urls:\(list.path)", "--over-fetch", "1",
                    "--keep-columns", "photo_id,Similarity", "--allow-network", "127.0.0.1/32", "--storage-dir", storage,
                    "--export", "webdataset", "--poll", "100ms",
                ] + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(crawl.status == 0, "\(crawl.stdout)\(crawl.stderr)")
            let kept = try Self.samples(python: python, storage: storage, scratch: scratch).mapValues {
                $0["kept"] as? [String: String]
            }
            #expect(
                kept == [
                    harness.image(1): ["photo_id": "p-1", "similarity": "0.31"],
                    harness.image(2): ["photo_id": "p-2", "similarity": ""],
                ])
        }
    }

    @Test("--keep-columns naming a column the list does not have fails the submit with the list's columns")
    func unknownKeptColumn() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-kept-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let list = root.appendingPathComponent("list.csv")
            try "url,caption\n\(harness.image(1)),a fox\n".write(to: list, atomically: true, encoding: .utf8)
            let crawl = try TestProcess.pixcrawl(
                [
                    "crawl", "fox", "--max-images", "1", "--source", "urls:\(list.path)", "--keep-columns", "caption,nsfw",
                    "--storage-dir", root.appendingPathComponent("storage").path,
                ] + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(crawl.status == 1)
            #expect(crawl.stderr.contains("unknown column to keep: nsfw; the list has url, caption"), "\(crawl.stderr)")
            #expect(try await harness.store.listJobs(projectID: nil, status: nil, limit: 1, offset: 0).isEmpty)
        }
    }

    @Test("a gzip TSV list with --url-col, --caption-col, --hash-col: a wrong SHA-256 is rejected as HASH_MISMATCH")
    func columnsAndHashes() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-columns-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let digest = try TestProcess.run(["sh", "-c", "curl -sf '\(harness.image(1))' | sha256sum"])
            let right = String(digest.stdout.prefix(64))
            let wrong = String(repeating: "0", count: 64)
            let list = root.appendingPathComponent("list.tsv")
            try """
            link\ttext\tdigest
            \(harness.image(1))\tone fox\t\(right)
            \(harness.image(2))\ttwo foxes\t\(wrong)
            \(harness.image(3))\tthree foxes\t

            """.write(to: list, atomically: true, encoding: .utf8)
            #expect(try TestProcess.run(["gzip", list.path]).status == 0)
            let crawl = try TestProcess.pixcrawl(
                [
                    "crawl", "fox", "--max-images", "3", "--source", "urls:\(list.path).gz", "--url-col", "link",
                    "--caption-col", "text", "--hash-col", "digest", "--over-fetch", "1", "--allow-network",
                    "127.0.0.1/32", "--storage-dir", root.appendingPathComponent("storage").path, "--poll", "100ms",
                ] + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(crawl.status == 6, "two of three are valid: completed short\n\(crawl.stdout)\(crawl.stderr)")
            let job = try #require(try await harness.store.listJobs(projectID: nil, status: nil, limit: 1, offset: 0).first)
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
            #expect(
                Dictionary(uniqueKeysWithValues: images.map { ($0.originalURL, $0.title ?? "") }) == [
                    harness.image(1): "one fox", harness.image(3): "three foxes",
                ])
            let errors = try await harness.store.errorSummary(jobID: job.id)
            #expect(errors == [.hashMismatch: 1])
        }
    }

    @Test("a list without its URL column fails the submit with the reason, and nothing is created")
    func missingURLColumn() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-nourl-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let list = root.appendingPathComponent("list.csv")
            try "link,caption\n\(harness.image(1)),a fox\n".write(to: list, atomically: true, encoding: .utf8)
            let storage = root.appendingPathComponent("storage")
            let crawl = try TestProcess.pixcrawl(
                ["crawl", "fox", "--max-images", "1", "--source", "urls:\(list.path)", "--storage-dir", storage.path]
                    + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(crawl.status == 1)
            #expect(crawl.stderr.contains("no 'url' column"), "\(crawl.stderr)")
            #expect(try await harness.store.listJobs(projectID: nil, status: nil, limit: 1, offset: 0).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: storage.appendingPathComponent("lists").path))
        }
    }

    @Test(
        "a million-row staged list is planned in batches into contiguous chunk ranges, claimable only once all committed",
        arguments: Backend.allCases)
    func millionRows(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-million-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let rows = 1_000_000
            let list = root.appendingPathComponent("million.txt")
            try Self.writeList(rows: rows, to: list)

            let lists = LocalListObjectStore(root: root.appendingPathComponent("storage"))
            let staged = try await ListSubmission(lists: lists, logger: CoordinatorHarness.logger).staging(
                JobSubmission(
                    projectID: harness.project.id, keywords: ["fox"], maxImages: rows, sources: ["urls:\(list.path)"],
                    chunkSize: 100, overFetch: 1),
                owner: harness.profile.id, store: harness.store)
            let record = try #require(try await harness.store.lists(ownerID: harness.profile.id).first)
            #expect(record.rows == Int64(rows))

            var options = SourceRegistry.Options()
            options.listStore = lists
            let registry = SourceRegistry(
                downloader: try Downloader(logger: CoordinatorHarness.logger), options: options,
                logger: CoordinatorHarness.logger)
            let planner = JobPlanner(sources: SourceResolver { try registry.source(for: $0) })
            let plan = try planner.plan(staged)
            #expect(plan.chunks.count == rows / 100)

            let store = harness.store
            let early = Shared<[Int: Bool]>([:])
            let job = try await store.createJob(plan.job, streaming: plan.chunks, batchSize: 1000) { jobID, written in
                guard written < rows / 100 else { return }
                let claimed = try await store.claimChunk(workerID: "early", lease: .seconds(60), jobID: nil) != nil
                let status = try await store.job(id: jobID)?.status
                early.value.withLock { $0[written] = claimed || status != .planning }
            }
            #expect(early.value.withLock { $0 } == Dictionary(uniqueKeysWithValues: (1..<10).map { ($0 * 1000, false) }))
            #expect(job.status == .pending && job.counters.totalChunks == rows / 100)
            let stored = try await store.chunks(jobID: job.id)
            #expect(stored.count == rows / 100)
            #expect(stored.map(\.rangeStart) == Array(stride(from: 0, to: rows, by: 100)))
            #expect(stored.allSatisfy { $0.rangeEnd == $0.rangeStart + 100 })
            #expect(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id) != nil)
        }
    }

    @Test(
        "a submit killed mid-plan leaves a planning job no worker can claim, which the abandoned-plan sweep deletes",
        arguments: Backend.allCases)
    func killedMidPlan(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-killplan-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            // 300,000 one-row chunks: 30 batches of 10,000 chunk rows.
            let rows = 300_000
            let list = root.appendingPathComponent("list.txt")
            try Self.writeList(rows: rows, to: list)
            let submit = try WorkerProcess(
                [
                    "crawl", "fox", "--max-images", "\(rows)", "--source", "urls:\(list.path)", "--chunk-size", "1",
                    "--over-fetch", "1", "--detach", "--storage-dir", root.appendingPathComponent("storage").path,
                ] + WorkerProcess.storeArguments(harness.store.database.location))
            var planning: CrawlJob?
            try await eventually("the job is planning with some of its chunks written", timeout: .seconds(120)) {
                planning = try await harness.store.listJobs(projectID: nil, status: .planning, limit: 1, offset: 0).first
                return (planning?.counters.totalChunks ?? 0) > 0 || submit.hasExited
            }
            submit.signal(SIGKILL)
            _ = try await submit.wait(timeout: .seconds(30))
            let job = try #require(planning, "the submit ended before it was seen planning:\n\(submit.output)")
            let left = try #require(try await harness.store.job(id: job.id))
            #expect(left.status == .planning)
            #expect(left.counters.totalChunks > 0 && left.counters.totalChunks < rows, "killed mid-plan")
            #expect(try await harness.store.chunkStatusCounts(jobID: job.id) == [.pending: left.counters.totalChunks])
            #expect(try await harness.store.claimChunk(workerID: "w", lease: .seconds(60), jobID: nil) == nil)

            #expect(try await harness.store.deleteAbandonedPlans(idleSince: Date().addingTimeInterval(60)) == [job.id])
            #expect(try await harness.store.job(id: job.id) == nil)
            #expect(try await harness.store.chunks(jobID: job.id).isEmpty)
        }
    }

    /// A text list of `rows` URLs (unroutable documentation addresses: nothing is fetched).
    static func writeList(rows: Int, to file: URL) throws {
        var text = ""
        text.reserveCapacity(rows * 32)
        for row in 0..<rows { text += "http://192.0.2.1/i/\(row).jpg\n" }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
}
