import Foundation

/// One unit of crawl work: a keyword on a source over a range of result positions.
public struct CrawlChunk: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var jobID: Int64
    public var chunkIndex: Int
    public var keyword: String
    public var source: String
    /// First result position (0-based, inclusive) this chunk covers.
    public var rangeStart: Int
    /// End result position (exclusive).
    public var rangeEnd: Int
    public var status: ChunkStatus
    public var attempts: Int
    public var maxAttempts: Int
    public var priority: Int
    public var leaseOwner: String?
    public var leaseToken: String?
    public var leaseExpiresAt: Date?
    public var availableAt: Date
    public var checkpoint: ChunkCheckpoint
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var completedAt: Date?

    public init(
        id: Int64, jobID: Int64, chunkIndex: Int, keyword: String, source: String, rangeStart: Int, rangeEnd: Int,
        status: ChunkStatus, attempts: Int, maxAttempts: Int, priority: Int, leaseOwner: String?, leaseToken: String?,
        leaseExpiresAt: Date?, availableAt: Date, checkpoint: ChunkCheckpoint, lastError: String?, createdAt: Date,
        updatedAt: Date, completedAt: Date?
    ) {
        self.id = id
        self.jobID = jobID
        self.chunkIndex = chunkIndex
        self.keyword = keyword
        self.source = source
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.leaseOwner = leaseOwner
        self.leaseToken = leaseToken
        self.leaseExpiresAt = leaseExpiresAt
        self.availableAt = availableAt
        self.checkpoint = checkpoint
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.completedAt = completedAt
    }
}

/// Where a chunk resumes after a takeover: the source's cursor and how many candidates are done.
public struct ChunkCheckpoint: Sendable, Codable, Hashable {
    /// Opaque, source-specific position (a page number, an offset, a line number).
    public var cursor: String?
    /// Candidates already processed in this chunk.
    public var candidatesDone: Int

    public init(cursor: String? = nil, candidatesDone: Int = 0) {
        self.cursor = cursor
        self.candidatesDone = candidatesDone
    }
}

/// One planned chunk of a job.
public struct NewChunk: Sendable, Hashable {
    public var keyword: String
    public var source: String
    public var rangeStart: Int
    public var rangeEnd: Int
    public var maxAttempts: Int
    public var priority: Int

    public init(keyword: String, source: String, rangeStart: Int, rangeEnd: Int, maxAttempts: Int = 3, priority: Int = 0) {
        self.keyword = keyword
        self.source = source
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
        self.maxAttempts = maxAttempts
        self.priority = priority
    }
}
