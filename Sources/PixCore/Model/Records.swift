import Foundation

/// A user of PixCrawler.
public struct Profile: Sendable, Codable, Hashable, Identifiable {
    public var id: UUID
    public var email: String
    public var fullName: String?
    public var avatarURL: String?
    public var role: ProfileRole
    public var onboardingCompleted: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, email: String, fullName: String? = nil, avatarURL: String? = nil, role: ProfileRole = .user,
        onboardingCompleted: Bool = false, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.fullName = fullName
        self.avatarURL = avatarURL
        self.role = role
        self.onboardingCompleted = onboardingCompleted
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A user's crawl project: a named group of crawl jobs.
public struct Project: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var name: String
    public var description: String?
    public var userID: UUID
    public var status: ProjectStatus
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, name: String, description: String?, userID: UUID, status: ProjectStatus, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.userID = userID
        self.status = status
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
        counters: JobCounters, startedAt: Date?, completedAt: Date?, createdAt: Date, updatedAt: Date
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
        self.status = status
        self.progress = progress
        self.counters = counters
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
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

/// A stored, validated image of a crawl job.
public struct ImageRecord: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var jobID: Int64
    public var chunkID: Int64?
    public var originalURL: String
    public var filename: String
    public var storageURL: String?
    public var width: Int
    public var height: Int
    public var fileSize: Int
    public var format: ImageFormat
    public var sha256: String
    /// 64-bit difference hash of the decoded pixels, for near-duplicate removal.
    public var perceptualHash: UInt64?
    public var keyword: String
    public var source: String
    public var license: String?
    public var licenseVersion: String?
    public var creator: String?
    public var landingURL: String?
    public var title: String?
    public var isValid: Bool
    public var rejectionReason: String?
    public var createdAt: Date
    /// The URL list row's kept columns (`--keep-columns`), by column name.
    public var keptColumns: [String: String]?

    public init(
        id: Int64, jobID: Int64, chunkID: Int64?, originalURL: String, filename: String, storageURL: String?,
        width: Int, height: Int, fileSize: Int, format: ImageFormat, sha256: String, perceptualHash: UInt64?,
        keyword: String, source: String, license: String?, licenseVersion: String?, creator: String?,
        landingURL: String?, title: String?, isValid: Bool, rejectionReason: String?, createdAt: Date,
        keptColumns: [String: String]? = nil
    ) {
        self.id = id
        self.jobID = jobID
        self.chunkID = chunkID
        self.originalURL = originalURL
        self.filename = filename
        self.storageURL = storageURL
        self.width = width
        self.height = height
        self.fileSize = fileSize
        self.format = format
        self.sha256 = sha256
        self.perceptualHash = perceptualHash
        self.keyword = keyword
        self.source = source
        self.license = license
        self.licenseVersion = licenseVersion
        self.creator = creator
        self.landingURL = landingURL
        self.title = title
        self.isValid = isValid
        self.rejectionReason = rejectionReason
        self.createdAt = createdAt
        self.keptColumns = keptColumns
    }
}

/// A categorized error record: every rejected candidate and failed operation has one.
public struct ErrorLogEntry: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var jobID: Int64?
    public var chunkID: Int64?
    public var category: ErrorCategory
    public var severity: ErrorSeverity
    public var message: String
    public var url: String?
    /// JSON object with details (HTTP status, reason, …).
    public var context: [String: String]
    public var createdAt: Date

    public init(
        id: Int64, jobID: Int64?, chunkID: Int64?, category: ErrorCategory, severity: ErrorSeverity, message: String,
        url: String?, context: [String: String], createdAt: Date
    ) {
        self.id = id
        self.jobID = jobID
        self.chunkID = chunkID
        self.category = category
        self.severity = severity
        self.message = message
        self.url = url
        self.context = context
        self.createdAt = createdAt
    }
}

/// A user action recorded for audit.
public struct ActivityLogEntry: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var userID: UUID?
    public var action: String
    public var resourceType: String?
    public var resourceID: String?
    public var metadata: [String: String]
    public var timestamp: Date

    public init(
        id: Int64, userID: UUID?, action: String, resourceType: String?, resourceID: String?,
        metadata: [String: String], timestamp: Date
    ) {
        self.id = id
        self.userID = userID
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.metadata = metadata
        self.timestamp = timestamp
    }
}

/// A worker process as registered in the store.
public struct WorkerRecord: Sendable, Codable, Hashable, Identifiable {
    public var id: String
    public var hostname: String
    public var pid: Int
    public var version: String
    public var status: WorkerStatus
    public var currentChunkID: Int64?
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(
        id: String, hostname: String, pid: Int, version: String, status: WorkerStatus, currentChunkID: Int64?,
        startedAt: Date, heartbeatAt: Date
    ) {
        self.id = id
        self.hostname = hostname
        self.pid = pid
        self.version = version
        self.status = status
        self.currentChunkID = currentChunkID
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}

/// An API token's metadata; the token itself is never stored, only its SHA-256.
public struct APIToken: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var profileID: UUID
    public var name: String
    /// The first characters of the token, to tell tokens apart in lists.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: Int64, profileID: UUID, name: String, prefix: String, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.profileID = profileID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
