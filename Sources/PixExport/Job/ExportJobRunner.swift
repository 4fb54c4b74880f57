import Foundation
import Logging
import PixBlob
import PixCore
import PixStore

/// What the export stage needs from the store: the crawl's images and the export jobs.
public typealias ExportJobStore = CrawlStore & ExportStore

/// Runs export jobs: selects a crawl job's valid images, streams their blobs into an archive, publishes it
/// atomically under the exports directory, and issues its first download link.
///
/// Images are read from the store page by page (keyset pagination), twice: a first pass over the metadata
/// selects images (size filters, exact duplicates, near duplicates, which keeps only ids, hashes and sizes in
/// memory) and collects the keywords; the second pass writes them. Memory is bounded by one page of rows, the
/// writers' fixed buffers and a few dozen bytes per image for de-duplication, whatever the size of the export.
/// All file I/O runs on a dispatch queue of its own, never on the Swift cooperative pool.
///
/// A failed export is marked `failed` with the error's description and leaves no archive behind. A cancelled
/// one (a worker shutting down) is handed back to the queue.
public struct ExportJobRunner: Sendable {
    /// Where and how exports are written.
    public struct Configuration: Sendable {
        /// The directory archives are published under (`storage/exports`), one folder per crawl job.
        public var exportsDirectory: URL
        /// The id that claims exports (a worker id, or `cli-HOST-PID`).
        public var workerID: String
        /// How long a claim holds between progress updates.
        public var lease: Duration
        /// Image rows read per page.
        public var pageSize: Int
        /// Block size and durability of the archive writers.
        public var writerOptions: ArchiveWriterOptions
        /// The `download_url` recorded for an export's links; it never contains the token. With ``archiveStorage``
        /// in object storage a presigned URL expiring with the link is recorded instead.
        public var downloadURL: @Sendable (Int64) -> String?
        /// Where finished archives go: kept under ``exportsDirectory`` (the default), or uploaded to object storage
        /// (``exportsDirectory`` then only stages them).
        public var archiveStorage: ArchiveStorage

        /// Creates a configuration.
        /// - Parameters:
        ///   - exportsDirectory: Where archives are published.
        ///   - workerID: Who claims exports.
        ///   - lease: Claim duration between progress updates (default 2 minutes).
        ///   - pageSize: Image rows per page (default 256).
        ///   - writerOptions: Writer block size and durability.
        ///   - downloadURL: The recorded download URL of an export id (default `/v1/exports/ID/download`).
        public init(
            exportsDirectory: URL, workerID: String, lease: Duration = .seconds(120), pageSize: Int = 256,
            writerOptions: ArchiveWriterOptions = .init(),
            downloadURL: @escaping @Sendable (Int64) -> String? = { "/v1/exports/\($0)/download" },
            archiveStorage: ArchiveStorage = .local
        ) {
            self.archiveStorage = archiveStorage
            self.exportsDirectory = exportsDirectory.standardizedFileURL.absoluteURL
            self.workerID = workerID
            self.lease = lease
            self.pageSize = max(1, pageSize)
            self.writerOptions = writerOptions
            self.downloadURL = downloadURL
        }
    }

    /// The store the images and exports live in.
    public let store: any ExportJobStore
    /// Where the image files are.
    public let blobs: any BlobStore
    /// Where and how exports are written.
    public let configuration: Configuration
    private let logger: Logger

    /// Creates a runner.
    /// - Parameters:
    ///   - store: The store.
    ///   - blobs: The blob store holding the images (a ``LocalBlobStore`` is read file by file).
    ///   - configuration: Directory, worker id, lease and writer options.
    ///   - logger: Where progress and failures are logged.
    public init(
        store: any ExportJobStore, blobs: any BlobStore, configuration: Configuration,
        logger: Logger = Logger(label: "pixcrawl.export")
    ) {
        self.store = store
        self.blobs = blobs
        self.configuration = configuration
        self.logger = logger
    }

    /// Queues an export (status `pending`) after checking its options and that the crawl job exists.
    /// - Parameters:
    ///   - crawlJobID: The crawl job whose valid images are exported.
    ///   - format: The archive format.
    ///   - options: Layout, filters, split, link lifetime, shard size.
    ///   - userID: The requesting profile.
    ///   - name: A display name.
    /// - Returns: The queued export.
    public func enqueue(
        crawlJobID: Int64, format: ExportFormat, options: ExportOptions, userID: UUID? = nil, name: String? = nil
    ) async throws -> ExportJobRecord {
        try options.validate(for: format)
        guard try await store.job(id: crawlJobID) != nil else { throw ExportJobError.notFound("crawl job \(crawlJobID)") }
        return try await store.createExport(
            NewExportJob(
                crawlJobID: crawlJobID, userID: userID, name: name, format: format.rawValue,
                optionsJSON: try options.jsonText()))
    }

    /// Claims one export and runs it in this process.
    /// - Parameter exportID: The export; it must be pending (or abandoned by a process whose lease expired).
    /// - Returns: The completed export and its first download token.
    public func run(exportID: Int64) async throws -> ExportOutcome {
        guard
            let claimed = try await store.claimExport(
                workerID: configuration.workerID, lease: configuration.lease, exportID: exportID)
        else {
            guard let export = try await store.export(id: exportID) else {
                throw ExportJobError.notFound("export \(exportID)")
            }
            throw ExportJobError.notClaimable(exportID: exportID, status: export.status.rawValue)
        }
        return try await run(claimed)
    }

    /// Claims the oldest pending export and runs it (what a worker does).
    /// - Returns: The outcome, or `nil` when no export was waiting.
    public func runNext() async throws -> ExportOutcome? {
        guard
            let claimed = try await store.claimExport(
                workerID: configuration.workerID, lease: configuration.lease, exportID: nil)
        else { return nil }
        return try await run(claimed)
    }

    /// Runs an export this process has claimed.
    /// - Parameter claimed: The export and its lease token.
    /// - Returns: The completed export, its archive and its first download token.
    /// - Throws: The error that failed the export, after marking it `failed` (or handing it back when the task
    ///   was cancelled).
    public func run(_ claimed: ClaimedExport) async throws -> ExportOutcome {
        var logger = logger
        logger[metadataKey: "pixcrawl.export"] = "\(claimed.export.id)"
        logger[metadataKey: "pixcrawl.job"] = "\(claimed.export.crawlJobID)"
        let cancellation = StopFlag()
        let executor = BlockingPool(threads: 1, label: "pixcrawl.export.\(claimed.export.id)")
        var pipeline: ExportPipeline?
        var published: String?
        do {
            let outcome = try await write(
                claimed, executor: executor, cancellation: cancellation, logger: logger,
                pipeline: &pipeline, published: &published)
            logger.info(
                "export completed",
                metadata: ["pixcrawl.images": "\(outcome.exportedImages)", "pixcrawl.bytes": "\(outcome.fileSize)"])
            return outcome
        } catch {
            if let pipeline { _ = try? await executor.run { pipeline.cancel() } }
            if let published {
                if (try? configuration.archiveStorage.removeObject(published)) == nil {
                    try? FileManager.default.removeItem(atPath: published)
                }
            }
            let token = claimed.leaseToken
            let exportID = claimed.export.id
            if error is CancellationError {
                logger.notice("export cancelled; handing it back to the queue")
                _ = try? await store.releaseExport(exportID: exportID, token: token)
            } else {
                logger.error("export failed", metadata: ["pixcrawl.error": "\(error)"])
                do {
                    _ = try await store.failExport(exportID: exportID, token: token, message: "\(error)")
                } catch {
                    logger.error("could not mark the export failed", metadata: ["pixcrawl.error": "\(error)"])
                }
            }
            throw error
        }
    }

    private func write(
        _ claimed: ClaimedExport, executor: BlockingPool, cancellation: StopFlag, logger: Logger,
        pipeline pipelineSlot: inout ExportPipeline?, published: inout String?
    ) async throws -> ExportOutcome {
        let export = claimed.export
        guard let format = ExportFormat(rawValue: export.format) else {
            throw ExportJobError.invalidOptions("export \(export.id) has an unknown format \"\(export.format)\"")
        }
        let options = try ExportOptions(json: export.optionsJSON)
        try options.validate(for: format)
        let assigner = try options.splitRatios().map { SplitAssigner(ratios: $0, seed: options.seed) }
        guard let crawlJob = try await store.job(id: export.crawlJobID) else {
            throw ExportJobError.notFound("crawl job \(export.crawlJobID)")
        }

        let selection = try await select(jobID: export.crawlJobID, options: options)
        logger.info(
            "images selected",
            metadata: ["pixcrawl.images": "\(selection.count)", "pixcrawl.excluded": "\(selection.excluded.count)"])
        try await reportProgress(claimed, total: selection.count, exported: 0)

        let destination = configuration.exportsDirectory
            .appendingPathComponent("job-\(export.crawlJobID)", isDirectory: true)
            .appendingPathComponent(Self.fileName(export: export, format: format))
        let writerOptions = configuration.writerOptions
        let blobs = blobs
        let keywords = selection.keywords
        let pipeline = try await executor.run {
            try ExportPipeline(
                format: format, destination: destination, layout: options.layout, keywords: keywords,
                shardSize: options.shardSize, blobs: blobs, options: writerOptions, modified: export.createdAt,
                cancellation: cancellation, resize: options.resize, derivativeSpec: crawlJob.resize)
        }
        pipelineSlot = pipeline

        var afterID: Int64 = 0
        var position = 0
        var reachedEnd = false
        while !reachedEnd {
            try Task.checkCancellation()
            let page = try await store.images(
                jobID: export.crawlJobID, validOnly: true, afterID: afterID, limit: configuration.pageSize)
            var batch: [PlannedImage] = []
            for image in page {
                if image.id > selection.lastImageID {
                    reachedEnd = true
                    break
                }
                guard selection.accepts(image, options: options) else { continue }
                let split = assigner?.split(forImageID: image.id)
                batch.append(PlannedImage(image: image, position: position, split: split))
                position += 1
            }
            if !batch.isEmpty {
                let items = batch
                try await executor.run(cancelling: cancellation) { try pipeline.add(items) }
                try await reportProgress(claimed, total: selection.count, exported: position)
            }
            if page.count < configuration.pageSize { reachedEnd = true }
            if let last = page.last { afterID = last.id }
        }
        try Task.checkCancellation()

        let summary = try await executor.run(cancelling: cancellation) { try pipeline.finish() }
        let skipped = try await executor.run { pipeline.skipped }
        for (imageID, reason) in skipped {
            logger.warning(
                "image left out: it could not be re-encoded",
                metadata: ["pixcrawl.image": "\(imageID)", "pixcrawl.error": "\(reason)"])
        }
        pipelineSlot = nil
        published = summary.url.path
        let storage = configuration.archiveStorage
        let jobID = export.crawlJobID
        let location = try await executor.run { try storage.publish(summary.url, jobID: jobID) }
        published = location

        let token = DownloadToken.generate()
        let archive = CompletedArchive(
            filePath: location, fileSize: Int64(summary.size), sha256: summary.sha256,
            exportedImages: summary.entryCount, totalImages: max(selection.count, position))
        let lifetime = Duration.seconds(options.linkLifetimeSeconds)
        let link = NewDownloadRecord(
            tokenHash: token.hash, lifetime: lifetime,
            downloadURL: try storage.downloadURL(
                location: location, lifetime: lifetime, fallback: configuration.downloadURL(export.id)))
        let completed: ExportJobRecord
        do {
            completed = try await store.completeExport(
                exportID: export.id, token: claimed.leaseToken, archive: archive, download: link)
        } catch let error as StoreError where error.isLeaseLost {
            throw ExportJobError.leaseLost(exportID: export.id)
        }
        published = nil
        return ExportOutcome(
            export: completed,
            archive: ArchiveStorage.isObjectURL(location) ? (URL(string: location) ?? summary.url) : summary.url,
            fileSize: summary.size, sha256: summary.sha256,
            exportedImages: summary.entryCount, skippedImages: skipped.count, downloadToken: token)
    }

    /// `export-ID.EXT`; later attempts get their own name (`export-ID-2.EXT`), so a process that lost its lease
    /// never removes or overwrites the archive of the one that took over.
    static func fileName(export: ExportJobRecord, format: ExportFormat) -> String {
        let attempt = export.attempts > 1 ? "-\(export.attempts)" : ""
        return "export-\(export.id)\(attempt)\(format.fileSuffix)"
    }

    private func reportProgress(_ claimed: ClaimedExport, total: Int, exported: Int) async throws {
        let percent = total == 0 ? 0 : min(99, exported * 100 / total)
        let held = try await store.updateExportProgress(
            exportID: claimed.export.id, token: claimed.leaseToken, lease: configuration.lease,
            progress: ExportProgress(totalImages: max(total, exported), exportedImages: exported, percent: percent))
        guard held else { throw ExportJobError.leaseLost(exportID: claimed.export.id) }
    }

    // MARK: Selection

    /// The first pass: which images the export takes.
    struct Selection: Sendable {
        /// Images selected.
        var count = 0
        /// The last image id seen; images added to the job later are not exported.
        var lastImageID: Int64 = 0
        /// Keywords of the selected images.
        var keywords: Set<String> = []
        /// Images passing the size filters but dropped as exact or near duplicates.
        var excluded: Set<Int64> = []

        func accepts(_ image: ImageRecord, options: ExportOptions) -> Bool {
            ExportJobRunner.passesSize(image, options: options) && !excluded.contains(image.id)
        }
    }

    static func passesSize(_ image: ImageRecord, options: ExportOptions) -> Bool {
        image.width >= (options.minWidth ?? 0) && image.height >= (options.minHeight ?? 0)
    }

    /// Reads the job's valid images page by page and decides which to export. Exact duplicates keep the first
    /// image (by id); near duplicates keep the largest of each group.
    func select(jobID: Int64, options: ExportOptions) async throws -> Selection {
        var selection = Selection()
        var exact = ExactDuplicateFilter()
        var candidates: [NearDuplicateCandidate<Int64>] = []
        var afterID: Int64 = 0
        while true {
            try Task.checkCancellation()
            let page = try await store.images(
                jobID: jobID, validOnly: true, afterID: afterID, limit: configuration.pageSize)
            for image in page {
                selection.lastImageID = image.id
                guard Self.passesSize(image, options: options) else { continue }
                guard exact.insert(sha256: image.sha256) else {
                    selection.excluded.insert(image.id)
                    continue
                }
                if options.nearDuplicateDistance != nil, let hash = image.perceptualHash {
                    candidates.append(
                        NearDuplicateCandidate(
                            id: image.id, dhash: hash, width: image.width, height: image.height,
                            bytes: image.fileSize))
                }
                selection.keywords.insert(image.keyword)
                selection.count += 1
            }
            guard let last = page.last, page.count == configuration.pageSize else { break }
            afterID = last.id
        }
        if let distance = options.nearDuplicateDistance, !candidates.isEmpty {
            let result = NearDuplicateFilter.select(candidates, maxDistance: distance)
            for dropped in result.dropped.keys {
                selection.excluded.insert(dropped)
                selection.count -= 1
            }
        }
        return selection
    }
}

/// A completed export, as ``ExportJobRunner`` returns it.
public struct ExportOutcome: Sendable {
    /// The export record, now `completed`.
    public var export: ExportJobRecord
    /// The published archive (or manifest).
    public var archive: URL
    /// Its size in bytes.
    public var fileSize: Int
    /// Its SHA-256, lowercase hex.
    public var sha256: String
    /// Images in it.
    public var exportedImages: Int
    /// Images left out because they could not be resized or re-encoded (logged with their reasons).
    public var skippedImages: Int = 0
    /// The first download token: shown once, only its hash is stored.
    public var downloadToken: DownloadToken
}
