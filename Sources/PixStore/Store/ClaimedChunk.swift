import Foundation
import PixCore

/// A chunk leased to a worker, with the token that proves the lease.
public struct ClaimedChunk: Sendable, Hashable {
    public var chunk: CrawlChunk
    public var leaseToken: String
    /// Validation rules and settings of the chunk's job.
    public var job: CrawlJob

    public init(chunk: CrawlChunk, leaseToken: String, job: CrawlJob) {
        self.chunk = chunk
        self.leaseToken = leaseToken
        self.job = job
    }
}

/// What a worker reports for a processed slice of its chunk, committed in one transaction.
public struct ChunkProgress: Sendable, Hashable {
    public var images: [NewImage]
    public var errors: [NewErrorLog]
    /// Candidates whose bytes were fully downloaded in this slice (accepted or not).
    public var downloaded: Int
    public var checkpoint: ChunkCheckpoint

    public init(images: [NewImage] = [], errors: [NewErrorLog] = [], downloaded: Int = 0, checkpoint: ChunkCheckpoint) {
        self.images = images
        self.errors = errors
        self.downloaded = downloaded
        self.checkpoint = checkpoint
    }
}

/// The result of committing a ``ChunkProgress``.
public struct ChunkCommitResult: Sendable, Hashable {
    /// Images inserted (the others were duplicates within the job and got DUPLICATE error records).
    public var inserted: Int
    public var duplicates: Int
    /// Valid images not stored because the job already had `max_images`.
    public var surplus: Int
    /// True when the job reached its target or was cancelled: the worker should stop this chunk.
    public var jobFinished: Bool

    public init(inserted: Int, duplicates: Int, surplus: Int = 0, jobFinished: Bool) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.surplus = surplus
        self.jobFinished = jobFinished
    }
}

/// What happened to a chunk whose attempt failed.
public enum ChunkFailureOutcome: Sendable, Hashable {
    /// Back to pending; claimable again after the backoff.
    case willRetry(attempt: Int)
    /// Out of attempts: the chunk is failed for good.
    case failed
}
