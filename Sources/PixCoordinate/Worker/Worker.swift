import Logging
import PixCore
import PixStore
import ServiceLifecycle
import Synchronization

/// A worker: registers itself, claims chunks of running jobs (priority, then age), processes them with a
/// ``ChunkProcessor`` while renewing the lease every ``WorkerConfiguration/renewInterval``, and heartbeats.
///
/// A chunk whose lease renewal fails is abandoned at once (another worker owns it now). Idle, the worker waits
/// ``WorkerConfiguration/pollInterval`` or until a ``ChunkHints`` wake-up. On graceful shutdown (or ``stop()``)
/// it claims nothing more, lets its chunk finish the current page — or releases it after
/// ``WorkerConfiguration/shutdownTimeout`` — gives the chunk back, and marks itself stopped.
public final class Worker: Service, Sendable {
    /// How the worker behaves.
    public let configuration: WorkerConfiguration
    private let store: any CrawlStore
    private let processor: ChunkProcessor
    private let hints: ChunkHints
    private let events: (@Sendable (WorkerEvent) -> Void)?
    private let logger: Logger
    private let stopping = StopFlag()
    private let state = Mutex(State())

    private struct State {
        var chunkStop: StopFlag?
        var processed = 0
        var idleWaits = 0
    }

    /// Creates a worker.
    /// - Parameters:
    ///   - configuration: id, lease, intervals and limits.
    ///   - store: the shared store.
    ///   - processor: processes each claimed chunk.
    ///   - hints: wakes the worker when chunks become claimable; the worker announces releases and top-ups.
    ///   - events: called for every claim, committed page and finished chunk.
    ///   - logger: the worker's logger.
    public init(
        configuration: WorkerConfiguration, store: any CrawlStore, processor: ChunkProcessor, hints: ChunkHints,
        events: (@Sendable (WorkerEvent) -> Void)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.processor = processor
        self.hints = hints
        self.events = events
        var logger = logger
        logger[metadataKey: "pixcrawl.worker"] = "\(configuration.id)"
        self.logger = logger
    }

    /// Chunks this worker has processed (whatever their outcome).
    public var processedChunks: Int { state.withLock { $0.processed } }

    /// How many times the worker found nothing to claim and began to wait for a wake-up or its poll interval. Once
    /// this has grown, chunks created afterwards are claimed only after a ``ChunkHints`` wake-up or the interval.
    public var idleWaits: Int { state.withLock { $0.idleWaits } }

    /// Runs until stopped, shut down gracefully, out of work (`once`), at `maxChunks`, or — for a crawl's own
    /// workers — until its job is finished.
    public func run() async throws {
        try await store.registerWorker(
            id: configuration.id, hostname: configuration.hostname, pid: configuration.pid,
            version: PixCrawlVersion.current)
        logger.info("worker started")
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stop()
        }
        do {
            try await store.workerHeartbeat(id: configuration.id, status: .stopped, currentChunkID: nil)
        } catch {
            logger.warning("cannot mark the worker stopped", metadata: ["pixcrawl.error": "\(error)"])
        }
        logger.info("worker stopped", metadata: ["pixcrawl.chunks": "\(processedChunks)"])
    }

    /// Asks the worker to stop: it claims nothing more and gives its chunk back after the current page.
    public func stop() {
        stopping.raise()
        state.withLock { $0.chunkStop }?.raise()
        hints.wake.signal()
    }

    private func loop() async {
        while !stopping.isRaised && !Task.isCancelled {
            if let maxChunks = configuration.maxChunks, processedChunks >= maxChunks { break }
            let generation = hints.wake.generation
            let claim: ClaimedChunk?
            do {
                claim = try await store.claimChunk(
                    workerID: configuration.id, lease: configuration.lease, jobID: configuration.jobID)
            } catch {
                logger.warning("cannot claim a chunk", metadata: ["pixcrawl.error": "\(error)"])
                await hints.wake.wait(since: generation, timeout: configuration.pollInterval)
                continue
            }
            guard let claim else {
                if configuration.once { break }
                if configuration.exitWhenJobFinished, let jobID = configuration.jobID {
                    do {
                        guard let job = try await store.job(id: jobID), !job.status.isFinished else { break }
                    } catch {
                        logger.warning("cannot read the job", metadata: ["pixcrawl.error": "\(error)"])
                    }
                }
                try? await store.workerHeartbeat(id: configuration.id, status: .running, currentChunkID: nil)
                // `generation` was read before the claim: a hint sent since then ends this wait at once.
                state.withLock { $0.idleWaits += 1 }
                await hints.wake.wait(since: generation, timeout: configuration.pollInterval)
                continue
            }
            state.withLock { $0.processed += 1 }
            await handle(claim)
        }
    }

    private func emit(_ claim: ClaimedChunk, _ kind: WorkerEvent.Kind) {
        events?(
            WorkerEvent(
                workerID: configuration.id, chunkID: claim.chunk.id, jobID: claim.chunk.jobID,
                leaseToken: claim.leaseToken, kind: kind))
    }

    private func handle(_ claim: ClaimedChunk) async {
        var chunkLogger = self.logger
        chunkLogger[metadataKey: "pixcrawl.job"] = "\(claim.chunk.jobID)"
        chunkLogger[metadataKey: "pixcrawl.chunk"] = "\(claim.chunk.id)"
        let logger = chunkLogger
        logger.info(
            "claimed chunk",
            metadata: [
                "pixcrawl.lease_token": "\(claim.leaseToken)", "pixcrawl.keyword": "\(claim.chunk.keyword)",
                "pixcrawl.attempt": "\(claim.chunk.attempts)",
                "pixcrawl.checkpoint": "\(claim.chunk.checkpoint.candidatesDone)",
            ])
        emit(claim, .claimed)
        let chunkStop = StopFlag()
        state.withLock { $0.chunkStop = chunkStop }
        if stopping.isRaised { chunkStop.raise() }

        let outcome = await withTaskGroup(of: ChunkOutcome?.self) { group in
            group.addTask {
                await self.processor.process(claim, stop: chunkStop) { checkpoint in
                    self.emit(claim, .pageCommitted(checkpoint))
                }
            }
            group.addTask { await self.keepLease(claim, logger: logger) }
            group.addTask {
                await chunkStop.wait()
                if Task.isCancelled { return nil }
                try? await Task.sleep(for: self.configuration.shutdownTimeout)
                if Task.isCancelled { return nil }
                logger.warning("shutdown timeout: giving the chunk back unfinished")
                return .cancelled
            }
            var outcome = ChunkOutcome.cancelled
            while let next = await group.next() {
                if let next {
                    outcome = next
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
        state.withLock { $0.chunkStop = nil }

        var released = false
        if outcome.needsRelease {
            do {
                released = try await store.releaseChunk(chunkID: claim.chunk.id, token: claim.leaseToken)
            } catch {
                logger.warning("cannot release the chunk", metadata: ["pixcrawl.error": "\(error)"])
            }
            if released { await hints.announce() }
        }
        switch outcome {
        case .completed(let appended) where appended > 0:
            await hints.announce()
        case .completed, .jobFinished:
            // Idle workers of this process re-check at once: the job may be finished now (no NOTIFY needed).
            hints.wake.signal()
        case .storeUnavailable:
            try? await Task.sleep(for: configuration.pollInterval)
        default:
            break
        }
        logger.info("chunk done", metadata: ["pixcrawl.outcome": "\(outcome)", "pixcrawl.released": "\(released)"])
        emit(claim, .finished(outcome, released: released))
    }

    /// Renews the lease every `renewInterval`; returns ``ChunkOutcome/leaseLost`` as soon as a renewal is
    /// refused (or none succeeded for a whole lease), `nil` when cancelled.
    private func keepLease(_ claim: ClaimedChunk, logger: Logger) async -> ChunkOutcome? {
        let clock = ContinuousClock()
        var lastRenewed = clock.now
        while true {
            do {
                try await Task.sleep(for: configuration.renewInterval)
            } catch {
                return nil
            }
            do {
                guard
                    try await store.renewLease(
                        chunkID: claim.chunk.id, token: claim.leaseToken, lease: configuration.lease)
                else {
                    if Task.isCancelled { return nil }
                    logger.warning("lease renewal refused: abandoning the chunk")
                    return .leaseLost
                }
                lastRenewed = clock.now
            } catch {
                if Task.isCancelled { return nil }
                logger.warning("cannot renew the lease", metadata: ["pixcrawl.error": "\(error)"])
                if clock.now - lastRenewed > configuration.lease { return .leaseLost }
            }
            try? await store.workerHeartbeat(
                id: configuration.id, status: stopping.isRaised ? .stopping : .running,
                currentChunkID: claim.chunk.id)
        }
    }
}
