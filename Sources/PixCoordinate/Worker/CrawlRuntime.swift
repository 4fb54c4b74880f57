import Logging
import PixBlob
import PixCore
import PixFetch
import PixStore

/// Everything a process needs to run workers, built once and shared by all of its workers: the downloader,
/// the blob store, the planner with its sources, the validation threads and the wake-up hints.
public struct CrawlRuntime: Sendable {
    /// The shared store.
    public let store: any CrawlStore
    /// Where accepted files go.
    public let blobs: any BlobStore
    /// Resolves sources and plans (top-ups included).
    public let planner: JobPlanner
    /// Downloads for every worker of the process.
    public let downloader: Downloader
    /// Downloaders for the chunks of particular sources (by source specification), each with its own address
    /// policy: a private-address opt-in such as the offline demo's loopback server applies to that source only.
    public let sourceDownloaders: [String: Downloader]
    /// Validation and blob-write threads.
    public let pool: BlockingPool
    /// Wake-ups between workers and processes.
    public let hints: ChunkHints
    /// Concurrency, lease and backoff of every chunk.
    public let processing: ChunkProcessorConfiguration
    private let logger: Logger

    /// Builds a runtime.
    /// - Parameters:
    ///   - store: the shared store.
    ///   - blobs: where accepted files go.
    ///   - sources: resolves source specifications.
    ///   - downloader: the downloader (its address policy decides what may be reached); its transfer limit
    ///     should cover every worker's concurrency. ``shutdown()`` shuts it down.
    ///   - sourceDownloaders: downloaders used instead of `downloader` for the chunks of these source
    ///     specifications; ``shutdown()`` shuts them down too.
    ///   - processing: per-chunk concurrency, lease and backoff.
    ///   - notify: use PostgreSQL `LISTEN/NOTIFY` hints (ignored on SQLite).
    ///   - validationThreads: threads for decoding and blob writes.
    ///   - logger: the process's logger.
    public init(
        store: any CrawlStore, blobs: any BlobStore, sources: SourceResolver, downloader: Downloader,
        sourceDownloaders: [String: Downloader] = [:], processing: ChunkProcessorConfiguration, notify: Bool,
        validationThreads: Int = 2, logger: Logger
    ) {
        self.store = store
        self.blobs = blobs
        self.planner = JobPlanner(sources: sources)
        self.downloader = downloader
        self.sourceDownloaders = sourceDownloaders
        self.pool = BlockingPool(threads: validationThreads, label: "pixcrawl.validate")
        self.hints = ChunkHints(store: store, notify: notify, logger: logger)
        self.processing = processing
        self.logger = logger
    }

    /// A processor using this runtime.
    public var processor: ChunkProcessor {
        ChunkProcessor(
            store: store, downloader: downloader, sourceDownloaders: sourceDownloaders, blobs: blobs, planner: planner,
            pool: pool,
            configuration: processing, logger: logger)
    }

    /// A worker using this runtime; its lease is the processing lease.
    public func makeWorker(
        _ configuration: WorkerConfiguration, events: (@Sendable (WorkerEvent) -> Void)? = nil
    )
        -> Worker
    {
        var processing = self.processing
        processing.lease = configuration.lease
        let processor = ChunkProcessor(
            store: store, downloader: downloader, sourceDownloaders: sourceDownloaders, blobs: blobs, planner: planner,
            pool: pool,
            configuration: processing, logger: logger)
        return Worker(
            configuration: configuration, store: store, processor: processor, hints: hints, events: events,
            logger: logger)
    }

    /// Stops listening and shuts the downloaders down.
    public func shutdown() async {
        hints.stopListening()
        await downloader.shutdown()
        for sourceDownloader in sourceDownloaders.values { await sourceDownloader.shutdown() }
    }
}
