import Foundation
import PixCore
import PixSQL

/// A profile to create.
public struct NewProfile: Sendable, Hashable {
    public var id: UUID
    public var email: String
    public var fullName: String?
    public var role: ProfileRole

    public init(id: UUID = UUID(), email: String, fullName: String? = nil, role: ProfileRole = .user) {
        self.id = id
        self.email = email
        self.fullName = fullName
        self.role = role
    }
}

/// A project to create.
public struct NewProject: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var userID: UUID
    public var status: ProjectStatus

    public init(name: String, description: String? = nil, userID: UUID, status: ProjectStatus = .active) {
        self.name = name
        self.description = description
        self.userID = userID
        self.status = status
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

    public init(
        projectID: Int64, name: String, keywords: [String], maxImages: Int, sources: [String],
        rules: ValidationRules = ValidationRules(), chunkSize: Int = 50, overFetch: Double = 1.5, priority: Int = 0
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

/// An accepted image to record; its blob is already stored.
public struct NewImage: Sendable, Hashable {
    public var originalURL: String
    public var filename: String
    public var storageURL: String?
    public var width: Int
    public var height: Int
    public var fileSize: Int
    public var format: ImageFormat
    public var sha256: String
    public var perceptualHash: UInt64?
    public var keyword: String
    public var source: String
    public var license: String?
    public var licenseVersion: String?
    public var creator: String?
    public var landingURL: String?
    public var title: String?
    /// The URL list row's kept columns (`--keep-columns`), by column name.
    public var keptColumns: [String: String]?

    public init(
        originalURL: String, filename: String, storageURL: String?, width: Int, height: Int, fileSize: Int,
        format: ImageFormat, sha256: String, perceptualHash: UInt64?, keyword: String, source: String,
        license: String? = nil, licenseVersion: String? = nil, creator: String? = nil, landingURL: String? = nil,
        title: String? = nil, keptColumns: [String: String]? = nil
    ) {
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
        self.keptColumns = keptColumns
    }
}

/// An error record to write.
public struct NewErrorLog: Sendable, Hashable {
    public var jobID: Int64?
    public var chunkID: Int64?
    public var category: ErrorCategory
    public var severity: ErrorSeverity
    public var message: String
    public var url: String?
    public var context: [String: String]

    public init(
        jobID: Int64?, chunkID: Int64? = nil, category: ErrorCategory, severity: ErrorSeverity = .error,
        message: String, url: String? = nil, context: [String: String] = [:]
    ) {
        self.jobID = jobID
        self.chunkID = chunkID
        self.category = category
        self.severity = severity
        self.message = message
        self.url = url
        self.context = context
    }
}

/// A user action to record.
public struct NewActivity: Sendable, Hashable {
    public var userID: UUID?
    public var action: String
    public var resourceType: String?
    public var resourceID: String?
    public var metadata: [String: String]

    public init(
        userID: UUID?, action: String, resourceType: String? = nil, resourceID: String? = nil,
        metadata: [String: String] = [:]
    ) {
        self.userID = userID
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.metadata = metadata
    }
}

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
