import Foundation
import PixBlob
import PixCore
import PixStore

/// The consistency check between the blob store and the image rows (`pixcrawl fsck`).
///
/// Workers write a blob before its row, so a crash leaves at worst an *orphan*: a blob no image row refers to.
/// The opposite, a row whose blob is gone, means lost data (a deleted file, a wiped bucket). The check finds
/// both with bounded memory: blobs are listed in batches and looked up in the store, rows are read page by page
/// and their blobs probed a few at a time. With `repair`, orphans older than the grace period are deleted (a
/// younger one may belong to an upload whose row is being written right now) and rows without a blob are marked
/// invalid with the reason ``SQLCrawlStore/missingBlobReason``, so `valid_images` stays equal to the valid rows.
/// A crawl-time derivative is a referenced blob like an original; a row whose derivative is gone keeps its image,
/// and repair forgets the derivative (an export then resizes the original, as it does for a damaged one).
public struct StorageCheck: Sendable {
    /// What a check found and did.
    public struct Report: Sendable {
        /// Blobs listed.
        public var blobsScanned = 0
        /// Their total size in bytes.
        public var blobBytes: Int64 = 0
        /// Image rows read.
        public var rowsScanned = 0
        /// Blobs no row refers to.
        public var orphanCount = 0
        /// Their total size in bytes.
        public var orphanBytes: Int64 = 0
        /// Orphans younger than the grace period (never deleted).
        public var orphansInGrace = 0
        /// Orphans deleted (repair only).
        public var orphansDeleted = 0
        /// Rows whose blob is missing (not counting those marked before).
        public var missingCount = 0
        /// Rows marked invalid for their missing blob (repair only).
        public var rowsMarked = 0
        /// Rows a previous repair marked and whose blob is still missing.
        public var previouslyMarked = 0
        /// Rows whose crawl-time derivative's blob is missing.
        public var missingDerivatives = 0
        /// Those derivatives forgotten (repair only).
        public var derivativesCleared = 0
        /// The first orphans found (at most ``exampleLimit``).
        public var orphanExamples: [BlobListing] = []
        /// The first rows found without a blob (at most ``exampleLimit``).
        public var missingExamples: [ImageBlobReference] = []

        /// How many examples of each kind a report keeps.
        public static let exampleLimit = 20

        /// True when nothing is wrong: no orphan and no row without its blob.
        public var isClean: Bool { orphanCount == 0 && missingCount == 0 && missingDerivatives == 0 }
    }

    /// The image rows.
    public let store: SQLCrawlStore
    /// The blobs.
    public let blobs: any BlobStore
    /// How old an orphan must be before repair deletes it.
    public let grace: Duration
    /// How many blobs are probed at once (HEAD requests on object storage).
    public let parallelism: Int

    /// Creates a check.
    /// - Parameters:
    ///   - store: The store holding the image rows.
    ///   - blobs: The blob store the workers write to.
    ///   - grace: Orphans younger than this are reported, never deleted (default 1 hour).
    ///   - parallelism: Concurrent existence probes (default 8).
    public init(store: SQLCrawlStore, blobs: any BlobStore, grace: Duration = .seconds(3600), parallelism: Int = 8) {
        self.store = store
        self.blobs = blobs
        self.grace = grace
        self.parallelism = max(1, parallelism)
    }

    /// Runs the check.
    /// - Parameters:
    ///   - repair: Delete old orphans and mark rows without a blob.
    ///   - now: The time the grace period is measured from.
    public func run(repair: Bool, now: Date = Date()) async throws -> Report {
        var report = Report()
        let pool = BlockingPool(threads: parallelism, label: "pixcrawl.fsck")
        try await checkOrphans(repair: repair, now: now, pool: pool, report: &report)
        try await checkRows(repair: repair, pool: pool, report: &report)
        return report
    }

    // MARK: Blobs without rows

    private func checkOrphans(repair: Bool, now: Date, pool: BlockingPool, report: inout Report) async throws {
        let listing = ListingChannel(batchSize: 500)
        let blobs = blobs
        NativeThread.detached(name: "pixcrawl.fsck") {
            do {
                try blobs.forEachBlob { listing.send($0) }
                listing.finish(nil)
            } catch {
                listing.finish(error)
            }
        }
        let cutoff = now.addingTimeInterval(-Self.seconds(grace))
        while let batch = try await pool.run({ try listing.receive() }) {
            report.blobsScanned += batch.count
            report.blobBytes += batch.reduce(0) { $0 + $1.size }
            let referenced = try await store.referencedDigests(batch.map(\.key.sha256))
            for blob in batch where !referenced.contains(blob.key.sha256) {
                report.orphanCount += 1
                report.orphanBytes += blob.size
                if report.orphanExamples.count < Report.exampleLimit { report.orphanExamples.append(blob) }
                guard blob.modified <= cutoff else {
                    report.orphansInGrace += 1
                    continue
                }
                guard repair else { continue }
                // Look again just before deleting: a row may have been written since the batch was checked.
                guard try await store.referencedDigests([blob.key.sha256]).isEmpty else {
                    report.orphanCount -= 1
                    report.orphanBytes -= blob.size
                    continue
                }
                let key = blob.key
                if try await pool.run({ try blobs.delete(key) }) { report.orphansDeleted += 1 }
            }
        }
    }

    // MARK: Rows without blobs

    private func checkRows(repair: Bool, pool: BlockingPool, report: inout Report) async throws {
        var afterID: Int64 = 0
        let blobs = blobs
        while true {
            let page = try await store.imageBlobReferences(afterID: afterID, limit: 500)
            guard let last = page.last else { break }
            afterID = last.imageID
            report.rowsScanned += page.count
            let present = try await withThrowingTaskGroup(of: (Int64, Presence).self) { group in
                var results: [Int64: Presence] = [:]
                var iterator = page.makeIterator()
                func next() -> ImageBlobReference? { iterator.next() }
                for _ in 0..<parallelism {
                    guard let row = next() else { break }
                    group.addTask { (row.imageID, try await Self.blobExists(row, blobs: blobs, pool: pool)) }
                }
                while let (id, exists) = try await group.next() {
                    results[id] = exists
                    if let row = next() {
                        group.addTask { (row.imageID, try await Self.blobExists(row, blobs: blobs, pool: pool)) }
                    }
                }
                return results
            }
            for row in page where present[row.imageID]?.derivative == false {
                report.missingDerivatives += 1
                if repair, try await store.clearDerivative(imageID: row.imageID) { report.derivativesCleared += 1 }
            }
            for row in page where present[row.imageID]?.original == false {
                if !row.isValid && row.rejectionReason == SQLCrawlStore.missingBlobReason {
                    report.previouslyMarked += 1
                    continue
                }
                report.missingCount += 1
                if report.missingExamples.count < Report.exampleLimit { report.missingExamples.append(row) }
                if repair,
                    try await store.setImageValidity(
                        imageID: row.imageID, isValid: false, reason: SQLCrawlStore.missingBlobReason)
                {
                    report.rowsMarked += 1
                }
            }
        }
    }

    /// Whether a row's original blob, and its derivative's (`nil`: it has none), are stored.
    private struct Presence: Sendable {
        var original: Bool
        var derivative: Bool?
    }

    private static func blobExists(_ row: ImageBlobReference, blobs: any BlobStore, pool: BlockingPool) async throws
        -> Presence
    {
        var derivative: Bool?
        if let sha256 = row.derivativeSHA256, let format = row.derivativeFormat {
            if let key = try? BlobKey(sha256: sha256, format: format) {
                derivative = try await pool.run { try blobs.exists(key) }
            } else {
                derivative = false
            }
        }
        guard let format = row.format, let key = try? BlobKey(sha256: row.sha256, format: format) else {
            return Presence(original: false, derivative: derivative)
        }
        return Presence(original: try await pool.run { try blobs.exists(key) }, derivative: derivative)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

/// Hands blob listings from the listing thread to the check in batches, holding at most two batches: the
/// listing waits while the check is behind, so memory stays bounded however many blobs there are.
private final class ListingChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private let batchSize: Int
    private var filling: [BlobListing] = []
    private var ready: [[BlobListing]] = []
    private var finished = false
    private var failure: (any Error)?

    init(batchSize: Int) { self.batchSize = batchSize }

    func send(_ listing: BlobListing) {
        filling.append(listing)
        guard filling.count >= batchSize else { return }
        condition.lock()
        while ready.count >= 2 { condition.wait() }
        ready.append(filling)
        condition.broadcast()
        condition.unlock()
        filling = []
    }

    func finish(_ error: (any Error)?) {
        condition.lock()
        if !filling.isEmpty { ready.append(filling) }
        filling = []
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or `nil` at the end; rethrows the listing's error.
    func receive() throws -> [BlobListing]? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            let batch = ready.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }
}
