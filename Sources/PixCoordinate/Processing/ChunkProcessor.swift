import Foundation
import Logging
import Metrics
import PixBlob
import PixCore
import PixFetch
import PixSources
import PixStore
import PixValidate

/// What a ``ChunkProcessor`` may do and how it backs off.
public struct ChunkProcessorConfiguration: Sendable, Hashable {
    /// Candidates downloaded at once for one chunk.
    public var concurrency: Int
    /// The lease each page commit renews.
    public var lease: Duration
    /// The first retry delay after a failed attempt; it doubles with every further attempt.
    public var retryBackoffBase: Duration
    /// The longest retry delay.
    public var retryBackoffMax: Duration

    /// Creates a configuration (defaults: 8 downloads, 60 s lease, 5 s × 2^attempt backoff up to 10 min).
    public init(
        concurrency: Int = 8, lease: Duration = .seconds(60), retryBackoffBase: Duration = .seconds(5),
        retryBackoffMax: Duration = .seconds(600)
    ) {
        self.concurrency = concurrency
        self.lease = lease
        self.retryBackoffBase = retryBackoffBase
        self.retryBackoffMax = retryBackoffMax
    }

    /// The delay before the next attempt after attempt number `attempt` (1-based) failed.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let delay = retryBackoffBase * (1 << exponent)
        return min(delay, retryBackoffMax)
    }
}

/// Processes one claimed chunk: pages through its source from the checkpoint, downloads candidates (bounded
/// concurrency), validates them off the cooperative pool (for a job with a resize spec, the same decode makes each
/// accepted image's derivative), stores accepted files (and derivatives) in the blob store, flushes the page's files
/// to disk at once, and commits each page — image rows, an error record for every rejected candidate, counters and
/// the next checkpoint — in one transaction. The last page completes the chunk (and may top up its keyword) in the
/// same transaction.
public struct ChunkProcessor: Sendable {
    /// The store.
    public let store: any CrawlStore
    /// Downloads candidates.
    public let downloader: Downloader
    /// Downloaders for the chunks of particular sources, keyed by the chunk's source specification (`demo`),
    /// each with its own address policy; chunks of other sources use ``downloader``.
    public let sourceDownloaders: [String: Downloader]
    /// Holds accepted files.
    public let blobs: any BlobStore
    /// Plans top-ups and resolves sources.
    public let planner: JobPlanner
    /// Runs validation (decoding and hashing).
    public let pool: BlockingPool
    /// Runs blob writes, which mostly wait for the disk.
    public let ioPool: BlockingPool
    /// Limits and backoff.
    public let configuration: ChunkProcessorConfiguration
    private let logger: Logger

    /// Creates a processor.
    /// - Parameters:
    ///   - store: where pages are committed.
    ///   - downloader: fetches candidates (its address policy decides what may be reached).
    ///   - sourceDownloaders: downloaders for the chunks of particular sources, by source specification.
    ///   - blobs: where accepted files go, before their rows are committed.
    ///   - planner: resolves the chunk's source and decides top-ups.
    ///   - pool: threads for validation (shared by a process's workers; as many as the cores).
    ///   - ioPool: threads for blob writes (``BlockingPool/sharedIO`` unless given).
    ///   - configuration: concurrency, lease and backoff.
    ///   - logger: receives page and failure messages.
    public init(
        store: any CrawlStore, downloader: Downloader, sourceDownloaders: [String: Downloader] = [:],
        blobs: any BlobStore, planner: JobPlanner, pool: BlockingPool, ioPool: BlockingPool = .sharedIO,
        configuration: ChunkProcessorConfiguration = ChunkProcessorConfiguration(),
        logger: Logger
    ) {
        self.store = store
        self.downloader = downloader
        self.sourceDownloaders = sourceDownloaders
        self.blobs = blobs
        self.planner = planner
        self.pool = pool
        self.ioPool = ioPool
        self.configuration = configuration
        self.logger = logger
    }

    /// Processes a claimed chunk until it is completed, its lease is lost, it fails, or `stop` is requested
    /// (then it returns ``ChunkOutcome/stopped`` after the current page is committed and the caller releases it).
    /// - Parameters:
    ///   - claim: the chunk, its lease token and its job.
    ///   - stop: asks the processor to stop at the next page boundary.
    ///   - onPage: called after each committed page with the candidates done so far.
    public func process(
        _ claim: ClaimedChunk, stop: StopFlag = StopFlag(), onPage: (@Sendable (ChunkCheckpoint) -> Void)? = nil
    ) async -> ChunkOutcome {
        let chunk = claim.chunk
        var logger = self.logger
        logger[metadataKey: "pixcrawl.job"] = "\(chunk.jobID)"
        logger[metadataKey: "pixcrawl.chunk"] = "\(chunk.id)"
        let source: any ImageSource
        do {
            source = try planner.sources.source(for: chunk.source)
        } catch {
            return await failAttempt(claim, message: "SOURCE: cannot use source '\(chunk.source)': \(error)", logger)
        }
        let validator = ImageValidator(rules: claim.job.rules)
        let range = chunk.rangeStart..<chunk.rangeEnd
        var cursor = chunk.checkpoint.cursor
        var done = chunk.checkpoint.candidatesDone
        if cursor == nil && done > 0 {
            // Every page was committed before a crash, but not the completion.
            return await complete(claim, final: nil, exhausted: false, logger)
        }
        while true {
            if Task.isCancelled { return .cancelled }
            if stop.isRaised { return .stopped }
            let page: SourcePage
            do {
                page = try await source.page(keyword: chunk.keyword, range: range, cursor: cursor)
            } catch is CancellationError {
                return .cancelled
            } catch {
                if Task.isCancelled { return .cancelled }
                if let error = error as? SourceError, let wait = error.retryAfter {
                    return await deferChunk(claim, delay: wait, message: "\(error)", logger)
                }
                return await failAttempt(claim, message: "SOURCE: \(source.name) failed: \(error)", logger)
            }
            if let wait = await pauseOfAllHosts(page.candidates) {
                return await deferChunk(
                    claim, delay: wait,
                    message: "RATE_LIMIT: every candidate of the page is on a paused host; retrying in "
                        + "\(wait.milliseconds / 1000 + 1) s", logger)
            }
            if page.candidates.isEmpty, page.nextCursor != nil, page.nextCursor == cursor, !page.exhausted {
                return await failAttempt(
                    claim, message: "SOURCE: \(source.name) returned the same cursor without results", logger)
            }
            let slice = await processCandidates(page.candidates, claim: claim, validator: validator)
            if Task.isCancelled { return .cancelled }
            if !slice.images.isEmpty {
                // The page's files were stored without waiting for the disk: one flush before their rows commit.
                let blobs = self.blobs
                do {
                    try await ioPool.run { try blobs.flushDeferred() }
                } catch {
                    return await failAttempt(claim, message: "STORAGE: cannot flush the page's files: \(error)", logger)
                }
            }
            done += page.candidates.count
            let checkpoint = ChunkCheckpoint(cursor: page.nextCursor, candidatesDone: done)
            let progress = ChunkProgress(
                images: slice.images, errors: slice.errors, downloaded: slice.downloaded, checkpoint: checkpoint)
            if page.nextCursor == nil || page.exhausted {
                return await complete(claim, final: progress, exhausted: page.exhausted, logger)
            }
            do {
                let result = try await store.commitProgress(
                    chunkID: chunk.id, token: claim.leaseToken, lease: configuration.lease, progress: progress)
                onPage?(checkpoint)
                if result.jobFinished { return .jobFinished }
            } catch let error as StoreError where error.isLeaseLost {
                logger.info("lease lost; dropping the page")
                return .leaseLost
            } catch {
                logger.error("cannot record a page", metadata: ["pixcrawl.error": "\(error)"])
                return .storeUnavailable("\(error)")
            }
            cursor = page.nextCursor
        }
    }

    private func complete(
        _ claim: ClaimedChunk, final: ChunkProgress?, exhausted: Bool, _ logger: Logger
    ) async
        -> ChunkOutcome
    {
        let planner = self.planner
        do {
            guard
                let completion = try await store.completeChunk(
                    chunkID: claim.chunk.id, token: claim.leaseToken, finalProgress: final, sourceExhausted: exhausted,
                    topUp: { planner.topUp($0) })
            else {
                logger.info("lease lost; dropping the last page")
                return .leaseLost
            }
            if completion.appendedChunks > 0 {
                logger.info(
                    "keyword short of its quota: appended top-up chunks",
                    metadata: [
                        "pixcrawl.keyword": "\(claim.chunk.keyword)", "pixcrawl.chunks": "\(completion.appendedChunks)",
                    ])
            }
            Counter(label: "pixcrawl.worker.chunks", dimensions: [("status", "completed")]).increment()
            return .completed(appendedChunks: completion.appendedChunks)
        } catch {
            logger.error("cannot complete the chunk", metadata: ["pixcrawl.error": "\(error)"])
            return .storeUnavailable("\(error)")
        }
    }

    /// How long until a host of `candidates` is available again, when every one of them is on a paused host.
    private func pauseOfAllHosts(_ candidates: [ImageCandidate]) async -> Duration? {
        let hosts = Set(candidates.compactMap { URL(string: $0.url)?.host?.lowercased() })
        guard !hosts.isEmpty, let pauses = try? await store.hostPauses(hosts), pauses.count == hosts.count else {
            return nil
        }
        return pauses.values.min()
    }

    /// Gives the chunk back to be claimed after `delay`, the attempt not counted, so the worker takes other work.
    private func deferChunk(_ claim: ClaimedChunk, delay: Duration, message: String, _ logger: Logger) async
        -> ChunkOutcome
    {
        logger.info(
            "chunk deferred", metadata: ["pixcrawl.reason": "\(message)", "pixcrawl.retry_ms": "\(delay.milliseconds)"])
        do {
            let deferred = try await store.deferChunk(
                chunkID: claim.chunk.id, token: claim.leaseToken, delay: delay,
                reason: NewErrorLog(
                    jobID: claim.chunk.jobID, chunkID: claim.chunk.id, category: .rateLimit, severity: .info,
                    message: message, context: ["source": claim.chunk.source, "retry_s": "\(delay.milliseconds / 1000)"]))
            guard deferred else { return .leaseLost }
            Counter(label: "pixcrawl.worker.chunks", dimensions: [("status", "deferred")]).increment()
            return .deferred(delay)
        } catch {
            return .storeUnavailable("\(error)")
        }
    }

    private func failAttempt(_ claim: ClaimedChunk, message: String, _ logger: Logger) async -> ChunkOutcome {
        let delay = configuration.backoff(afterAttempt: claim.chunk.attempts)
        logger.warning(
            "chunk attempt failed",
            metadata: ["pixcrawl.error": "\(message)", "pixcrawl.retry_ms": "\(delay.milliseconds)"])
        do {
            guard
                let outcome = try await store.failChunkAttempt(
                    chunkID: claim.chunk.id, token: claim.leaseToken,
                    error: NewErrorLog(
                        jobID: claim.chunk.jobID, chunkID: claim.chunk.id, category: .source, message: message,
                        context: ["attempt": "\(claim.chunk.attempts)", "source": claim.chunk.source]),
                    retryAfter: delay)
            else { return .leaseLost }
            let status = outcome == .failed ? "failed" : "retrying"
            Counter(label: "pixcrawl.worker.chunks", dimensions: [("status", status)]).increment()
            return .failedAttempt(outcome)
        } catch {
            return .storeUnavailable("\(error)")
        }
    }

    // MARK: Candidates

    struct Slice {
        var images: [NewImage] = []
        var errors: [NewErrorLog] = []
        var downloaded = 0
    }

    enum CandidateResult: Sendable {
        case accepted(NewImage)
        case rejected(NewErrorLog, downloaded: Bool)
        case cancelled
    }

    private func processCandidates(
        _ candidates: [ImageCandidate], claim: ClaimedChunk, validator: ImageValidator
    )
        async -> Slice
    {
        let width = max(1, configuration.concurrency)
        let results = await withTaskGroup(of: (Int, CandidateResult).self) { group in
            var results: [(Int, CandidateResult)] = []
            results.reserveCapacity(candidates.count)
            var iterator = candidates.enumerated().makeIterator()
            for _ in 0..<width {
                guard let (index, candidate) = iterator.next() else { break }
                group.addTask { (index, await self.handle(candidate, claim: claim, validator: validator)) }
            }
            while let result = await group.next() {
                results.append(result)
                if let (index, candidate) = iterator.next() {
                    group.addTask { (index, await self.handle(candidate, claim: claim, validator: validator)) }
                }
            }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var slice = Slice()
        for result in results {
            switch result {
            case .accepted(let image):
                slice.images.append(image)
                slice.downloaded += 1
            case .rejected(let error, let downloaded):
                slice.errors.append(error)
                if downloaded { slice.downloaded += 1 }
            case .cancelled:
                break
            }
        }
        return slice
    }

    private func handle(
        _ candidate: ImageCandidate, claim: ClaimedChunk, validator: ImageValidator
    ) async
        -> CandidateResult
    {
        let chunk = claim.chunk
        // What is stored and logged: the URL without `user:password@` (the fetch still uses the original).
        let url = URLRedaction.redacted(candidate.url)
        func rejection(
            _ category: ErrorCategory, _ message: String, _ context: [String: String], downloaded: Bool
        )
            -> CandidateResult
        {
            Counter(label: "pixcrawl.worker.images.rejected", dimensions: [("category", category.rawValue)]).increment()
            var context = context
            context["position"] = "\(candidate.position)"
            context["source"] = candidate.source
            return .rejected(
                NewErrorLog(
                    jobID: chunk.jobID, chunkID: chunk.id, category: category, severity: .warning, message: message,
                    url: url, context: context),
                downloaded: downloaded)
        }
        let response: FetchResponse
        do {
            response = try await (sourceDownloaders[chunk.source] ?? downloader).fetch(candidate.url)
        } catch let error as FetchError {
            if Task.isCancelled { return .cancelled }
            var context = ["reason": error.reason, "attempts": "\(error.attempts)"]
            if let status = error.status { context["status"] = "\(status)" }
            return rejection(error.category, error.description, context, downloaded: false)
        } catch {
            if Task.isCancelled || error is CancellationError { return .cancelled }
            return rejection(.network, "NETWORK: \(error) (\(url))", [:], downloaded: false)
        }
        let body = response.body
        Counter(label: "pixcrawl.worker.bytes.downloaded").increment(by: body.count)
        Metrics.Timer(label: "pixcrawl.worker.download.duration").record(duration: response.timing.total)
        let outcome: ValidationOutcome
        let resize = claim.job.resize
        do {
            outcome = try await pool.run { validator.validate(body, resize: resize) }
        } catch {
            return rejection(.decode, "DECODE: validation failed: \(error)", [:], downloaded: true)
        }
        switch outcome {
        case .rejected(let rejected):
            var context = ["stage": rejected.stage.rawValue, "bytes": "\(body.count)"]
            if let format = rejected.format { context["format"] = format.rawValue }
            if let width = rejected.width, let height = rejected.height { context["size"] = "\(width)x\(height)" }
            return rejection(rejected.category, rejected.reason, context, downloaded: true)
        case .accepted(let image):
            if let expected = candidate.expectedSHA256, expected.lowercased() != image.sha256 {
                return rejection(
                    .hashMismatch, "HASH_MISMATCH: the bytes' SHA-256 is \(image.sha256), the list says \(expected)",
                    ["expected": expected, "actual": image.sha256], downloaded: true)
            }
            let blobs = self.blobs
            let stored: StoredBlob
            var derivative: ImageDerivative?
            do {
                // Both blobs are stored, in one job on the I/O pool, without waiting for the disk: they are flushed
                // with the rest of the page's files before its rows commit.
                var copy: (key: BlobKey, bytes: [UInt8])?
                if let resized = image.derivative, let resize {
                    copy = (try BlobKey(sha256: resized.sha256, format: resize.encoding.format), resized.bytes)
                    derivative = resized.record
                }
                let key = try BlobKey(sha256: image.sha256, format: image.format)
                stored = try await ioPool.run { [copy] in
                    if let copy { _ = try blobs.putDeferred(copy.bytes, for: copy.key) }
                    return try blobs.putDeferred(body, for: key)
                }
            } catch {
                return rejection(.storage, "STORAGE: cannot store the file: \(error)", [:], downloaded: true)
            }
            Counter(label: "pixcrawl.worker.images.accepted").increment()
            return .accepted(
                NewImage(
                    originalURL: url, filename: stored.key.filename, storageURL: stored.storageURL,
                    width: image.width, height: image.height, fileSize: image.byteCount, format: image.format,
                    sha256: image.sha256, perceptualHash: image.perceptualHash, keyword: chunk.keyword,
                    source: candidate.source, license: candidate.license, licenseVersion: candidate.licenseVersion,
                    creator: candidate.creator, landingURL: candidate.landingURL, title: candidate.title,
                    keptColumns: candidate.keptColumns, derivative: derivative))
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
