import Foundation

/// A crawl job: keywords, a target number of images, sources and validation rules.
public struct CrawlJob: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var keywords: [String]
    public var maxImages: Int
    /// Source specifications, e.g. `openverse`, `commons`, `urls:/path/list.csv`, `demo`.
    public var sources: [String]
    public var rules: ValidationRules
    public var chunkSize: Int
    public var overFetch: Double
    public var priority: Int
    /// What every accepted image is resized to as it is crawled (its derivative), or `nil`.
    public var resize: ResizeOptions?
    public var status: JobStatus
    public var progress: Int
    public var counters: JobCounters
    public var startedAt: Date?
    public var completedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, projectID: Int64, name: String, keywords: [String], maxImages: Int, sources: [String],
        rules: ValidationRules, chunkSize: Int, overFetch: Double, priority: Int, status: JobStatus, progress: Int,
        counters: JobCounters, startedAt: Date?, completedAt: Date?, createdAt: Date, updatedAt: Date,
        resize: ResizeOptions? = nil
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.keywords = keywords
        self.maxImages = maxImages
        self.sources = sources
        self.rules = rules
        self.chunkSize = chunkSize
        self.overFetch = overFetch
        self.priority = priority
        self.resize = resize
        self.status = status
        self.progress = progress
        self.counters = counters
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Counters of a crawl job, maintained only by the transactions that change its chunks or images.
public struct JobCounters: Sendable, Codable, Hashable {
    public var totalImages: Int
    public var downloadedImages: Int
    public var validImages: Int
    public var totalChunks: Int
    public var activeChunks: Int
    public var completedChunks: Int
    public var failedChunks: Int
    public var cancelledChunks: Int

    public init(
        totalImages: Int = 0, downloadedImages: Int = 0, validImages: Int = 0, totalChunks: Int = 0,
        activeChunks: Int = 0, completedChunks: Int = 0, failedChunks: Int = 0, cancelledChunks: Int = 0
    ) {
        self.totalImages = totalImages
        self.downloadedImages = downloadedImages
        self.validImages = validImages
        self.totalChunks = totalChunks
        self.activeChunks = activeChunks
        self.completedChunks = completedChunks
        self.failedChunks = failedChunks
        self.cancelledChunks = cancelledChunks
    }

    /// Chunks neither leased nor finished.
    public var pendingChunks: Int {
        totalChunks - activeChunks - completedChunks - failedChunks - cancelledChunks
    }
}

/// A crawl job to submit, already validated and planned (see the coordinator's planner).
public struct NewCrawlJob: Sendable, Hashable {
    public var projectID: Int64
    public var name: String
    public var keywords: [String]
    public var maxImages: Int
    public var sources: [String]
    public var rules: ValidationRules
    public var chunkSize: Int
    public var overFetch: Double
    public var priority: Int
    /// What every accepted image is resized to as it is crawled, or `nil`.
    public var resize: ResizeOptions?

    public init(
        projectID: Int64, name: String, keywords: [String], maxImages: Int, sources: [String],
        rules: ValidationRules = ValidationRules(), chunkSize: Int = 50, overFetch: Double = 1.5, priority: Int = 0,
        resize: ResizeOptions? = nil
    ) {
        self.projectID = projectID
        self.name = name
        self.keywords = keywords
        self.maxImages = maxImages
        self.sources = sources
        self.rules = rules
        self.chunkSize = chunkSize
        self.overFetch = overFetch
        self.priority = priority
        self.resize = resize
    }
}
