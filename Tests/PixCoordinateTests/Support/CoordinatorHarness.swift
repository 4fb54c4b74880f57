import Foundation
import Logging
import PixBlob
import PixCoordinate
import PixCore
import PixFetch
import PixFixtures
import PixSources
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// A source for tests: position `p` of keyword `k` is `url(k, p)` on the fixture server, or the end of the
/// results when `nil`. Pages of `pageSize`; the cursor is the next position.
struct TestSource: ImageSource {
    let name: String
    let maxDepth: Int?
    let pageSize: Int
    let url: @Sendable (String, Int) throws -> String?

    func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let start = cursor.flatMap(Int.init) ?? range.lowerBound
        let end = min(start + pageSize, range.upperBound)
        var candidates: [ImageCandidate] = []
        var exhausted = false
        for position in start..<end {
            guard let url = try url(keyword, position) else {
                exhausted = true
                break
            }
            candidates.append(
                ImageCandidate(url: url, keyword: keyword, source: name, position: position, license: "cc0"))
        }
        if !exhausted, try url(keyword, end) == nil { exhausted = true }
        return SourcePage(
            candidates: candidates, nextCursor: exhausted || end >= range.upperBound ? nil : "\(end)",
            exhausted: exhausted)
    }
}

/// Records worker events with a global order, to check that no chunk is held by two workers at once.
final class ClaimRecorder: Sendable {
    struct Entry: Sendable {
        let sequence: Int
        let event: WorkerEvent
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ event: WorkerEvent) {
        entries.withLock { $0.append(Entry(sequence: $0.count, event: event)) }
    }

    var all: [Entry] { entries.withLock { $0 } }

    /// Claims per chunk id.
    var claimsPerChunk: [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for entry in all where entry.event.kind == .claimed { counts[entry.event.chunkID, default: 0] += 1 }
        return counts
    }

    /// Every (claim, finish) interval of a chunk, by lease token; asserts none of one chunk overlap.
    func expectNoOverlap(sourceLocation: SourceLocation = #_sourceLocation) {
        var intervals: [Int64: [(start: Int, end: Int, worker: String)]] = [:]
        var open: [String: (Int, WorkerEvent)] = [:]
        for entry in all {
            switch entry.event.kind {
            case .claimed:
                open[entry.event.leaseToken] = (entry.sequence, entry.event)
            case .finished:
                if let (start, claim) = open.removeValue(forKey: entry.event.leaseToken) {
                    intervals[claim.chunkID, default: []].append((start, entry.sequence, claim.workerID))
                }
            case .pageCommitted:
                break
            }
        }
        #expect(open.isEmpty, "every claim was finished", sourceLocation: sourceLocation)
        for (chunk, list) in intervals {
            let sorted = list.sorted { $0.start < $1.start }
            for (first, second) in zip(sorted, sorted.dropFirst()) {
                #expect(
                    first.end < second.start,
                    "chunk \(chunk) held by \(first.worker) and \(second.worker) at once",
                    sourceLocation: sourceLocation)
            }
        }
    }
}

/// A store, a fixture server with slow routes, a blob folder and a runtime whose downloader may reach only
/// 127.0.0.1.
struct CoordinatorHarness {
    let backend: Backend
    let store: SQLCrawlStore
    let server: FixtureServer
    let blobRoot: URL
    let runtime: CrawlRuntime
    let project: PixCore.Project
    let profile: Profile
    let sources: TestSources

    /// Named test sources: the factory resolves `test:NAME`.
    final class TestSources: Sendable {
        private let table = Mutex<[String: TestSource]>([:])

        func add(
            _ name: String, maxDepth: Int? = nil, pageSize: Int = 5,
            url: @escaping @Sendable (String, Int) throws -> String?
        ) -> String {
            let spec = "test:\(name)"
            table.withLock { $0[spec] = TestSource(name: spec, maxDepth: maxDepth, pageSize: pageSize, url: url) }
            return spec
        }

        /// Registers a real source's specification (`openverse`, …) for planning only: the worker processes
        /// resolve it themselves.
        func addPlanningOnly(_ spec: String, maxDepth: Int) -> String {
            table.withLock { $0[spec] = TestSource(name: spec, maxDepth: maxDepth, pageSize: 20) { _, _ in nil } }
            return spec
        }

        /// Registers `urls:PATH` for a text file of URLs, one a line, as the worker command reads it.
        func addURLList(_ urls: [String]) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-urls-\(UUID().uuidString.prefix(8)).txt"
            ).path
            try (urls.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let spec = "urls:\(path)"
            table.withLock {
                $0[spec] = TestSource(name: "urls", maxDepth: urls.count, pageSize: 10) { _, position in
                    position < urls.count ? urls[position] : nil
                }
            }
            return spec
        }

        func source(_ spec: String) throws -> any ImageSource {
            guard let source = table.withLock({ $0[spec] }) else { throw TestSupportError("no test source \(spec)") }
            return source
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "pixcrawl.test")
        logger.logLevel = .critical
        return logger
    }()

    static func downloaderConfiguration() -> DownloaderConfiguration {
        var configuration = DownloaderConfiguration()
        configuration.addressPolicy = AddressPolicy(allowedNetworks: [NetworkRange("127.0.0.1/32")!])
        configuration.connectTimeout = .seconds(2)
        configuration.totalTimeout = .seconds(10)
        configuration.lowSpeedLimit = 100
        configuration.lowSpeedTime = .seconds(2)
        configuration.maxBodyBytes = 1 << 20
        configuration.maxConcurrentTransfers = 32
        configuration.maxTransfersPerHost = 16
        configuration.retryPolicy = RetryPolicy(
            maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxRetryAfter: .seconds(2))
        return configuration
    }

    static func make(
        _ backend: Backend, notify: Bool = true, concurrency: Int = 4, lease: Duration = .seconds(5),
        store given: SQLCrawlStore? = nil, loopbackOnlyFor loopbackSources: [String]? = nil,
        blobs wrap: ((LocalBlobStore) -> any BlobStore)? = nil
    ) async throws -> CoordinatorHarness {
        let store: SQLCrawlStore
        if let given { store = given } else { store = try await TestStores.make(backend) }
        let server = try FixtureServer()
        // `/slow/SEED.jpg?ms=N`: an image after a delay, so chunks take long enough to interrupt.
        server.route(.prefix("/slow/")) { request in
            usleep(useconds_t(request.intQuery("ms", default: 100)) * 1000)
            return FixtureRoute.image(request)
        }
        let blobRoot = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixcrawl-blobs-\(UUID().uuidString.prefix(8))", isDirectory: true)
        let sources = TestSources()
        // With `loopbackOnlyFor`, 127.0.0.1 is reachable for the chunks of those sources only.
        var sharedConfiguration = downloaderConfiguration()
        var sourceDownloaders: [String: Downloader] = [:]
        if let loopbackSources {
            sharedConfiguration.addressPolicy = .publicOnly
            for spec in loopbackSources {
                sourceDownloaders[spec] = try Downloader(configuration: downloaderConfiguration(), logger: logger)
            }
        }
        let downloader = try Downloader(configuration: sharedConfiguration, logger: logger)
        let local = LocalBlobStore(root: blobRoot)
        let runtime = CrawlRuntime(
            store: store, blobs: wrap?(local) ?? local, sources: SourceResolver { try sources.source($0) },
            downloader: downloader, sourceDownloaders: sourceDownloaders,
            processing: ChunkProcessorConfiguration(
                concurrency: concurrency, lease: lease, retryBackoffBase: .milliseconds(20),
                retryBackoffMax: .milliseconds(200)),
            notify: notify, validationThreads: 2, logger: logger)
        let profile = try await store.createProfile(
            NewProfile(email: "tester-\(UUID().uuidString.prefix(6))@example.com"))
        let project = try await store.createProject(NewProject(name: "tests", userID: profile.id))
        return CoordinatorHarness(
            backend: backend, store: store, server: server, blobRoot: blobRoot, runtime: runtime, project: project,
            profile: profile, sources: sources)
    }

    /// Runs `body` with a harness made by ``make(_:notify:concurrency:lease:store:loopbackOnlyFor:blobs:)`` and closes
    /// the harness however `body` ends (an `await` cannot stand in a `defer`).
    static func with<Result>(
        _ backend: Backend, notify: Bool = true, concurrency: Int = 4, lease: Duration = .seconds(5),
        store given: SQLCrawlStore? = nil, loopbackOnlyFor loopbackSources: [String]? = nil,
        blobs wrap: ((LocalBlobStore) -> any BlobStore)? = nil,
        _ body: (CoordinatorHarness) async throws -> Result
    ) async throws -> Result {
        let harness = try await make(
            backend, notify: notify, concurrency: concurrency, lease: lease, store: given,
            loopbackOnlyFor: loopbackSources, blobs: wrap)
        do {
            let result = try await body(harness)
            await harness.close()
            return result
        } catch {
            await harness.close()
            throw error
        }
    }

    func close() async {
        await runtime.shutdown()
        server.stop()
        store.close()
        try? FileManager.default.removeItem(at: blobRoot)
    }

    /// Submits a job through the planner.
    func submit(
        keywords: [String], maxImages: Int, sources specs: [String], chunkSize: Int = 10, overFetch: Double = 1,
        rules: ValidationRules = ValidationRules(), maxAttempts: Int = 3, hints: ChunkHints? = nil,
        resize: ResizeOptions? = nil
    ) async throws -> CrawlJob {
        try await runtime.planner.submit(
            JobSubmission(
                projectID: project.id, keywords: keywords, maxImages: maxImages, sources: specs, rules: rules,
                chunkSize: chunkSize, overFetch: overFetch, maxAttempts: maxAttempts, resize: resize),
            to: store, actor: profile.id, hints: hints ?? runtime.hints
        ).job
    }

    /// A worker of this runtime.
    func worker(
        _ name: String, jobID: Int64? = nil, lease: Duration = .seconds(5), poll: Duration = .milliseconds(100),
        untilJobFinished: Bool = true, once: Bool = false, recorder: ClaimRecorder? = nil
    ) -> Worker {
        let configuration = WorkerConfiguration(
            id: "\(name)-\(UUID().uuidString.prefix(6))", lease: lease, pollInterval: poll,
            shutdownTimeout: .seconds(5), once: once, jobID: jobID, exitWhenJobFinished: untilJobFinished)
        guard let recorder else { return runtime.makeWorker(configuration) }
        return runtime.makeWorker(configuration) { event in recorder.record(event) }
    }

    /// Runs workers until they all return, failing after `timeout`.
    func run(_ workers: [Worker], timeout: Duration = .seconds(60)) async throws {
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

    /// An image URL on the fixture server: a distinct small JPEG per seed.
    func image(_ seed: Int, size: Int = 64) -> String { server.url("/img/\(seed).jpg?w=\(size)&h=\(size)") }
}
