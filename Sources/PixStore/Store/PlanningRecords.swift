import PixCore
import PixSQL

/// Why a keyword of a job cannot (or could not) reach its share of `max_images`, stored per keyword in
/// `crawl_jobs.shortfall`.
public struct KeywordShortfall: Sendable, Codable, Hashable {
    /// The keyword's share of `max_images` (0 while only a source's exhaustion has been recorded).
    public var quota: Int
    /// Result positions planned for the keyword over all sources (initial plan plus top-ups).
    public var plannedCandidates: Int
    /// Valid images the keyword had when the shortfall was recorded, when known.
    public var validImages: Int?
    /// Sources that ran out of results for the keyword.
    public var exhaustedSources: [String]
    /// What limits the keyword, in words.
    public var reason: String

    /// Creates a shortfall record.
    public init(
        quota: Int, plannedCandidates: Int, validImages: Int? = nil, exhaustedSources: [String] = [],
        reason: String
    ) {
        self.quota = quota
        self.plannedCandidates = plannedCandidates
        self.validImages = validImages
        self.exhaustedSources = exhaustedSources
        self.reason = reason
    }
}

/// What the store knows about one keyword of a job when its last open chunk completes; the input of a
/// top-up decision.
public struct KeywordSnapshot: Sendable, Hashable {
    /// Where one source stands for the keyword.
    public struct SourcePosition: Sendable, Hashable {
        /// The source specification as stored on chunks.
        public var source: String
        /// The first result position no chunk covers yet (the largest `range_end`).
        public var nextPosition: Int
        /// Candidates processed by the keyword's chunks on this source.
        public var candidatesDone: Int
        /// True once a chunk saw the source run out of results for the keyword.
        public var exhausted: Bool

        /// Creates a source position.
        public init(source: String, nextPosition: Int, candidatesDone: Int, exhausted: Bool) {
            self.source = source
            self.nextPosition = nextPosition
            self.candidatesDone = candidatesDone
            self.exhausted = exhausted
        }
    }

    /// The job, as it stands inside the completing transaction.
    public var job: CrawlJob
    /// The keyword whose chunks are all finished.
    public var keyword: String
    /// Valid image rows of the keyword.
    public var validImages: Int
    /// One entry per source the keyword has chunks on.
    public var sources: [SourcePosition]
    /// The keyword's recorded shortfall, if any.
    public var shortfall: KeywordShortfall?

    /// Creates a snapshot.
    public init(
        job: CrawlJob, keyword: String, validImages: Int, sources: [SourcePosition], shortfall: KeywordShortfall?
    ) {
        self.job = job
        self.keyword = keyword
        self.validImages = validImages
        self.sources = sources
        self.shortfall = shortfall
    }
}

/// What a top-up decision asks the store to do, in the transaction that completed the keyword's last chunk.
public struct TopUpDecision: Sendable, Hashable {
    /// Chunks to append for the next result positions (may be empty).
    public var chunks: [NewChunk]
    /// A shortfall to record for the keyword, or `nil` to leave the record as it is.
    public var shortfall: KeywordShortfall?

    /// Creates a decision.
    public init(chunks: [NewChunk] = [], shortfall: KeywordShortfall? = nil) {
        self.chunks = chunks
        self.shortfall = shortfall
    }

    /// Append nothing, record nothing.
    public static let none = TopUpDecision()
}

/// The result of completing a chunk with ``SQLCrawlStore/completeChunk(chunkID:token:finalProgress:sourceExhausted:topUp:)``.
public struct ChunkCompletion: Sendable, Hashable {
    /// Images inserted from the final slice.
    public var inserted: Int
    /// Images of the final slice that were duplicates within the job.
    public var duplicates: Int
    /// True when the job is finished (target reached, every chunk done, or cancelled).
    public var jobFinished: Bool
    /// Top-up chunks appended for the keyword.
    public var appendedChunks: Int

    /// Creates a completion report.
    public init(inserted: Int, duplicates: Int, jobFinished: Bool, appendedChunks: Int) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.jobFinished = jobFinished
        self.appendedChunks = appendedChunks
    }
}

/// Progress of one keyword of a job, straight from the rows.
public struct KeywordProgress: Sendable, Hashable {
    /// The keyword.
    public var keyword: String
    /// Its chunks by status.
    public var chunks: [ChunkStatus: Int]
    /// Candidates its chunks processed.
    public var candidatesDone: Int
    /// Its image rows.
    public var images: Int
    /// Its valid image rows.
    public var validImages: Int
    /// Bytes of its image rows' files.
    public var bytes: Int

    /// Creates a progress record.
    public init(
        keyword: String, chunks: [ChunkStatus: Int], candidatesDone: Int, images: Int, validImages: Int, bytes: Int = 0
    ) {
        self.keyword = keyword
        self.chunks = chunks
        self.candidatesDone = candidatesDone
        self.images = images
        self.validImages = validImages
        self.bytes = bytes
    }

    /// Chunks of the keyword, all statuses.
    public var totalChunks: Int { chunks.values.reduce(0, +) }
}
