import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// A local blob store that records when the crawl stores originals and flushes them, and can refuse to flush.
private final class FlushRecordingBlobStore: BlobStore {
    let inner: LocalBlobStore
    let failsFlush: Bool
    /// Originals stored since the last flush, and the flushes so far.
    private let state = Mutex((unflushed: 0, flushes: 0, flushedPuts: 0))

    init(inner: LocalBlobStore, failsFlush: Bool) {
        self.inner = inner
        self.failsFlush = failsFlush
    }

    var unflushed: Int { state.withLock { $0.unflushed } }
    var flushes: Int { state.withLock { $0.flushes } }
    var flushedPuts: Int { state.withLock { $0.flushedPuts } }

    func putDeferred(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob {
        let stored = try inner.putDeferred(bytes, for: key)
        state.withLock { $0.unflushed += 1 }
        return stored
    }

    func flushDeferred() throws {
        if failsFlush {
            state.withLock { $0.flushes += 1 }
            throw BlobStoreError(code: .io, message: "the disk is gone")
        }
        try inner.flushDeferred()
        state.withLock { state in
            state.flushes += 1
            state.flushedPuts += state.unflushed
            state.unflushed = 0
        }
    }

    func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob { try inner.put(bytes, for: key) }
    func put(contentsOf file: URL, for key: BlobKey, consuming: Bool) throws -> StoredBlob {
        try inner.put(contentsOf: file, for: key, consuming: consuming)
    }
    func get(_ key: BlobKey) throws -> [UInt8] { try inner.get(key) }
    func exists(_ key: BlobKey) throws -> Bool { try inner.exists(key) }
    func delete(_ key: BlobKey) throws -> Bool { try inner.delete(key) }
    func forEachKey(_ body: (BlobKey) -> Void) throws { try inner.forEachKey(body) }
    func storageURL(for key: BlobKey) -> String { inner.storageURL(for: key) }
}

@Suite("Crawling through workers")
struct CrawlTests {
    @Test(
        "a page's files are flushed once, before its rows commit: a flush that fails fails the attempt and commits nothing",
        arguments: [false, true])
    func pageFlushedBeforeItsRows(failsFlush: Bool) async throws {
        let recorder = Mutex<FlushRecordingBlobStore?>(nil)
        try await CoordinatorHarness.with(
            .sqlite,
            blobs: { local in
                let store = FlushRecordingBlobStore(inner: local, failsFlush: failsFlush)
                recorder.withLock { $0 = store }
                return store
            }
        ) { harness in
            let blobs = try #require(recorder.withLock { $0 })
            let spec = harness.sources.add("six", maxDepth: 6) { _, position in
                position < 6 ? harness.image(position + 1) : nil
            }
            let job = try await harness.submit(
                keywords: ["fox"], maxImages: 6, sources: [spec], chunkSize: 6, maxAttempts: 2)
            try await harness.run([harness.worker("a", jobID: job.id)])
            let final = try #require(try await harness.store.job(id: job.id))
            if failsFlush {
                #expect(final.counters.validImages == 0, "no row refers to a file that may not be on disk")
                #expect(final.counters.failedChunks == 1)
                #expect(blobs.flushes == 2, "each of the two attempts flushed before it would have committed")
            } else {
                #expect(final.counters.validImages == 6)
                #expect(blobs.flushedPuts == 6 && blobs.unflushed == 0, "every file was flushed")
                #expect((1...2).contains(blobs.flushes), "one flush a page, not one a file")
            }
        }
    }

    @Test("a fixture crawl ends with exactly the expected valid and rejected rows", arguments: Backend.allCases)
    func fixtureCrawl(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let server = harness.server
            var urls: [String] = (1...20).map { harness.image($0, size: 100) }
            let bad: [(String, ErrorCategory)] = [
                ("/bad/truncated.jpg", .decode), ("/bad/bad-crc.png", .decode), ("/bad/html.jpg", .format),
                ("/bad/image.svg", .format), ("/bad/image.gif", .format), ("/bad/bomb.png", .tooLarge),
                ("/big?bytes=2000000", .tooLarge), ("/status/404", .httpStatus), ("/status/403", .httpStatus),
                ("/redirect/10/far.jpg", .httpStatus), ("/status/429", .rateLimit), ("/private/7.jpg", .robots),
                ("/noai/8.jpg", .robots), ("/img/9.jpg?w=32&h=32", .dimensions),
                ("/redirect/loopback2?port=\(server.port)&path=/img/1.jpg", .blocked),
            ]
            // Spread the bad ones between the good ones.
            for (offset, entry) in bad.enumerated() {
                urls.insert(server.url(entry.0), at: min(urls.count, offset * 2 + 1))
            }
            urls += [
                server.url("/img/100.png?w=80&h=80"), server.url("/flaky/500/retried.jpg?fail=1"),
                server.url("/dup/a.jpg"), server.url("/dup/b.jpg"),
            ]
            let list = urls
            let spec = harness.sources.add("mixed", maxDepth: list.count) { _, position in
                position < list.count ? list[position] : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 100, sources: [spec], chunkSize: 10)
            #expect(job.counters.totalChunks == 4)  // 39 positions, capped by the source's depth
            try await harness.run([harness.worker("a", jobID: job.id), harness.worker("b", jobID: job.id)])

            let final = try #require(try await harness.store.job(id: job.id))
            let valid = 20 + 1 + 1 + 1  // /img, the PNG, the retried 500, one of the two duplicates
            #expect(final.status == .completed)
            #expect(final.counters.validImages == valid)
            #expect(final.counters.totalImages == valid)
            #expect(final.counters.completedChunks == 4)
            // Downloaded: the valid ones, the duplicate, and the rejects whose bodies arrived (decode, format, bomb, small).
            #expect(final.counters.downloadedImages == valid + 1 + 2 + 3 + 1 + 1)
            var expected: [ErrorCategory: Int] = [.duplicate: 1]
            for (_, category) in bad { expected[category, default: 0] += 1 }
            #expect(try await harness.store.errorSummary(jobID: job.id) == expected)
            let errors = try await harness.store.errors(jobID: job.id, limit: 100)
            #expect(errors.allSatisfy { $0.url != nil && $0.chunkID != nil }, "every reject names its URL and chunk")
            #expect(Set(errors.compactMap(\.url)).count == bad.count + 1)
            // Every accepted file is in the blob store under its content address.
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 100)
            let blobs = LocalBlobStore(root: harness.blobRoot)
            for image in images {
                #expect(try blobs.exists(try BlobKey(sha256: image.sha256, format: image.format)))
                #expect(image.keyword == "fox" && image.license == "cc0")
            }
            #expect(Set(images.map(\.sha256)).count == images.count)
            let shortfall = try #require(try await harness.store.shortfalls(jobID: job.id)["fox"])
            #expect(shortfall.quota == 100)
            #expect(shortfall.exhaustedSources == [spec])
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test(
        "a 500-image fixture crawl ends with exactly the expected counts of valid and rejected rows",
        arguments: Backend.allCases)
    func fiveHundredImageCrawl(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend, concurrency: 8) { harness in
            let server = harness.server
            // Every tenth position (3, 13, 23, …) is bad, cycling through five kinds; the rest are good 64×64 JPEGs.
            let badKinds: [(String, ErrorCategory)] = [
                ("/bad/truncated.jpg", .decode), ("/bad/html.jpg", .format), ("/status/404", .httpStatus),
                ("/img/small.jpg?w=32&h=32", .dimensions), ("/dup/same.jpg", .duplicate),
            ]
            let urls: [String] = (0..<500).map { position in
                guard position % 10 == 3 else { return server.url("/img/\(position).jpg?w=64&h=64") }
                let kind = badKinds[(position / 10) % badKinds.count].0
                return server.url(kind + (kind.contains("?") ? "&" : "?") + "n=\(position)")
            }
            let spec = harness.sources.add("five-hundred", maxDepth: urls.count, pageSize: 25) { _, position in
                position < urls.count ? urls[position] : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 500, sources: [spec], chunkSize: 50)
            #expect(job.counters.totalChunks == 10)
            try await harness.run(
                [harness.worker("a", jobID: job.id), harness.worker("b", jobID: job.id)], timeout: .seconds(120))

            let final = try #require(try await harness.store.job(id: job.id))
            // 450 good positions, plus the first of the ten identical /dup/ bodies.
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 451)
            #expect(final.counters.totalImages == 451)
            #expect(try await harness.store.imageCounts(jobID: job.id) == (451, 451))
            #expect(
                try await harness.store.errorSummary(jobID: job.id)
                    == [.decode: 10, .format: 10, .httpStatus: 10, .dimensions: 10, .duplicate: 9])
            // Downloaded bodies: everything but the ten 404s.
            #expect(final.counters.downloadedImages == 490)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test(
        "concurrent workers never hold one chunk at once; counters equal the rows",
        arguments: Backend.allCases, [2, 4])
    func concurrentWorkers(backend: Backend, workers: Int) async throws {
        try await CoordinatorHarness.with(backend, concurrency: 2) { harness in
            let server = harness.server
            let spec = harness.sources.add("slow") { keyword, position in
                position < 200 ? server.url("/slow/\(keyword.count * 1000 + position).jpg?w=64&h=64&ms=15") : nil
            }
            let job = try await harness.submit(
                keywords: ["fox", "arctic owl"], maxImages: 60, sources: [spec], chunkSize: 5, overFetch: 1)
            #expect(job.counters.totalChunks == 12)
            let recorder = ClaimRecorder()
            try await harness.run((0..<workers).map { harness.worker("w\($0)", jobID: job.id, recorder: recorder) })

            recorder.expectNoOverlap()
            #expect(recorder.claimsPerChunk.values.allSatisfy { $0 == 1 }, "no chunk was claimed twice")
            #expect(recorder.claimsPerChunk.count == 12)
            let claimers = Set(recorder.all.map(\.event.workerID))
            #expect(claimers.count > 1, "the work was shared")
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 60)
            #expect(
                try await harness.store.chunks(jobID: job.id).allSatisfy { $0.status == .completed && $0.attempts == 1 })
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test(
        "a chunk that always fails ends failed after max_attempts without stalling the job", arguments: Backend.allCases
    )
    func poisonChunk(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            struct SearchDown: Error {}
            let spec = harness.sources.add("poison") { keyword, position in
                if keyword == "poison" { throw SearchDown() }
                return position < 20 ? harness.image(position) : nil
            }
            let job = try await harness.submit(
                keywords: ["good", "poison"], maxImages: 20, sources: [spec], chunkSize: 10, overFetch: 1)
            let recorder = ClaimRecorder()
            try await harness.run([harness.worker("a", jobID: job.id, recorder: recorder)])

            let chunks = try await harness.store.chunks(jobID: job.id)
            let poison = try #require(chunks.first { $0.keyword == "poison" })
            #expect(poison.status == .failed)
            #expect(poison.attempts == 3)
            #expect(chunks.filter { $0.keyword == "good" }.allSatisfy { $0.status == .completed })
            #expect(recorder.claimsPerChunk[poison.id] == 3)
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.failedChunks == 1)
            #expect(final.counters.validImages == 10)
            #expect(try await harness.store.errorSummary(jobID: job.id)[.source] == 3)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("credentials in candidate URLs are never stored in image rows or error records")
    func credentialsAreStripped() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let server = harness.server
            let list = [server.url("/img/3.jpg"), server.url("/status/404")].map {
                $0.replacingOccurrences(of: "://", with: "://crawler:hunter2@")
            }
            let spec = harness.sources.add("secret", maxDepth: list.count) { _, position in
                position < list.count ? list[position] : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10)
            try await harness.run([harness.worker("a", jobID: job.id)])
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
            let errors = try await harness.store.errors(jobID: job.id, limit: 10)
            #expect(images.count == 1)
            #expect(errors.count == 1)
            #expect(images.map(\.originalURL) == [server.url("/img/3.jpg")])
            #expect(errors.compactMap(\.url) == [server.url("/status/404")])
            #expect(!errors.contains { $0.message.contains("hunter2") })
        }
    }

    @Test("a private-address opt-in applies to the chunks of its source only")
    func addressPolicyPerSource() async throws {
        try await CoordinatorHarness.with(.sqlite, loopbackOnlyFor: ["test:local"]) { harness in
            let local = harness.sources.add("local", maxDepth: 5) { _, position in
                position < 5 ? harness.image(position + 1) : nil
            }
            let other = harness.sources.add("other", maxDepth: 5) { _, position in
                position < 5 ? harness.image(position + 101) : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [local, other], chunkSize: 5)
            try await harness.run([harness.worker("a", jobID: job.id)])

            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.counters.validImages == 5)
            #expect(try await harness.store.errorSummary(jobID: job.id) == [.blocked: 5])
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 100)
            #expect(images.allSatisfy { $0.source == "test:local" })
        }
    }

    @Test("cancelling stops claims and ends the active chunk at its next checkpoint", arguments: Backend.allCases)
    func cancel(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend, concurrency: 1) { harness in
            let server = harness.server
            let spec = harness.sources.add("slow") { _, position in
                position < 100 ? server.url("/slow/\(position).jpg?w=64&h=64&ms=40") : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 100, sources: [spec], chunkSize: 20)
            let recorder = ClaimRecorder()
            let worker = harness.worker("a", jobID: job.id, recorder: recorder)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await harness.run([worker]) }
                try await eventually("a page is committed") {
                    recorder.all.contains { if case .pageCommitted = $0.event.kind { true } else { false } }
                }
                #expect(try await JobControl(store: harness.store).cancel(jobID: job.id, actor: harness.profile.id))
                try await group.waitForAll()
            }
            #expect(recorder.claimsPerChunk.count == 1, "no claim after the cancel")
            let finished = recorder.all.compactMap { entry -> ChunkOutcome? in
                if case .finished(let outcome, _) = entry.event.kind { outcome } else { nil }
            }
            #expect(finished == [.leaseLost])
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .cancelled)
            #expect(final.counters.cancelledChunks == 5)
            #expect(final.counters.validImages >= 5, "the committed page is kept")
            let actions = try await harness.store.activity(userID: harness.profile.id, limit: 10).map(\.action)
            #expect(actions == ["job.cancelled", "job.submitted"])
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a keyword short of its quota is topped up from the next positions", arguments: Backend.allCases)
    func topUp(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let server = harness.server
            // Every odd position is a 404; 40 results in all.
            let spec = harness.sources.add("half") { _, position in
                guard position < 40 else { return nil }
                return position % 2 == 0 ? harness.image(position) : server.url("/status/404?p=\(position)")
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10)
            #expect(job.counters.totalChunks == 1)
            try await harness.run([harness.worker("a", jobID: job.id)])
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 10)
            #expect(final.counters.totalChunks == 2, "one top-up chunk for the next 10 positions")
            let chunks = try await harness.store.chunks(jobID: job.id)
            #expect(chunks.map(\.rangeStart) == [0, 10])
            #expect(try await harness.store.shortfalls(jobID: job.id).isEmpty)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a keyword whose source runs dry records its shortfall and the job completes", arguments: Backend.allCases)
    func sourceRunsDry(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let server = harness.server
            let spec = harness.sources.add("dry") { _, position in
                guard position < 12 else { return nil }
                return position % 2 == 0 ? harness.image(position) : server.url("/status/404?p=\(position)")
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10)
            try await harness.run([harness.worker("a", jobID: job.id)])
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 6)
            #expect(final.counters.totalChunks == 2)
            let shortfall = try #require(try await harness.store.shortfalls(jobID: job.id)["fox"])
            #expect(shortfall.quota == 10)
            #expect(shortfall.validImages == 6)
            #expect(shortfall.exhaustedSources == [spec])
            #expect(shortfall.reason.contains("ran out of results"))
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a stopped worker gives its chunk back after the current page, checkpoint kept", arguments: Backend.allCases)
    func gracefulStop(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend, concurrency: 1) { harness in
            let server = harness.server
            let spec = harness.sources.add("slow") { _, position in
                position < 100 ? server.url("/slow/\(position).jpg?w=64&h=64&ms=30") : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 20, sources: [spec], chunkSize: 20)
            let recorder = ClaimRecorder()
            let worker = harness.worker("a", jobID: job.id, recorder: recorder)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await harness.run([worker]) }
                try await eventually("a page is committed") {
                    recorder.all.contains { if case .pageCommitted = $0.event.kind { true } else { false } }
                }
                worker.stop()
                try await group.waitForAll()
            }
            let chunk = try #require(try await harness.store.chunks(jobID: job.id).first)
            #expect(chunk.status == .pending)
            #expect(chunk.attempts == 0, "a released attempt does not count")
            #expect(chunk.checkpoint.candidatesDone > 0 && chunk.checkpoint.candidatesDone < 20)
            let finished = recorder.all.compactMap { entry -> WorkerEvent.Kind? in
                if case .finished = entry.event.kind { entry.event.kind } else { nil }
            }
            #expect(finished == [.finished(.stopped, released: true)])
            let registered = try await harness.store.listWorkers().first { $0.id == worker.configuration.id }
            #expect(registered?.status == .stopped)
            // Another worker resumes from the checkpoint and finishes.
            let done = chunk.checkpoint.candidatesDone
            try await harness.run([harness.worker("b", jobID: job.id)])
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 20)
            for position in 0..<done { #expect(server.requestCount(path: "/slow/\(position).jpg") == 1) }
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("re-validation applies new rules to stored images and valid_images follows", arguments: Backend.allCases)
    func revalidation(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let spec = harness.sources.add("sizes") { _, position in
                position < 10 ? harness.image(position, size: position < 4 ? 80 : 200) : nil
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10)
            try await harness.run([harness.worker("a", jobID: job.id)])
            #expect(try await harness.store.job(id: job.id)?.counters.validImages == 10)

            let run = ValidationRun(
                store: harness.store, blobs: LocalBlobStore(root: harness.blobRoot), pool: BlockingPool(threads: 2),
                batchSize: 3, logger: CoordinatorHarness.logger)
            let strict = try await run.run(
                crawlJobID: job.id, rules: ValidationRules(minWidth: 100, minHeight: 100), actor: harness.profile.id)
            #expect(strict.status == .completed)
            #expect(strict.totalImages == 10 && strict.validatedImages == 10 && strict.invalidImages == 4)
            #expect(strict.progress == 100)
            #expect(strict.rules.minWidth == 100)
            #expect(try await harness.store.job(id: job.id)?.counters.validImages == 6)
            let invalid = try await harness.store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 20)
                .filter { !$0.isValid }
            #expect(invalid.count == 4 && invalid.allSatisfy { $0.rejectionReason?.hasPrefix("DIMENSIONS:") == true })
            try await expectInvariant(harness.store, jobID: job.id)

            let relaxed = try await run.run(crawlJobID: job.id, rules: ValidationRules(), actor: harness.profile.id)
            #expect(relaxed.invalidImages == 0)
            #expect(try await harness.store.job(id: job.id)?.counters.validImages == 10)
            #expect(try await harness.store.validationJobs(crawlJobID: job.id).map(\.id) == [relaxed.id, strict.id])
            let actions = try await harness.store.activity(userID: harness.profile.id, limit: 10).map(\.action)
            #expect(actions.filter { $0 == "validation.run" }.count == 2)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("retrying failed chunks runs them again and logs the retry", arguments: Backend.allCases)
    func retryFailed(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let healthy = SourceHealth()
            let spec = harness.sources.add("flaky") { _, position in
                guard healthy.isUp else { throw TestSupportError("search is down") }
                return position < 10 ? harness.image(position) : nil
            }
            let job = try await harness.submit(
                keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10, maxAttempts: 2)
            try await harness.run([harness.worker("a", jobID: job.id)])
            #expect(try await harness.store.job(id: job.id)?.status == .failed)
            try await expectInvariant(harness.store, jobID: job.id)
            healthy.isUp = true
            #expect(try await JobControl(store: harness.store).retryFailed(jobID: job.id, actor: harness.profile.id) == 1)
            try await harness.run([harness.worker("b", jobID: job.id)])
            let final = try #require(try await harness.store.job(id: job.id))
            #expect(final.status == .completed && final.counters.validImages == 10)
            let actions = try await harness.store.activity(userID: harness.profile.id, limit: 10).map(\.action)
            #expect(actions == ["job.retried", "job.submitted"])
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }
}

/// A switch a test source consults.
final class SourceHealth: Sendable {
    private let up = Mutex(false)
    var isUp: Bool {
        get { up.withLock { $0 } }
        set { up.withLock { $0 = newValue } }
    }
}
