import Foundation
import PixCore

/// A crawl job as the API shows it: counters with pending chunks, and per-keyword progress on `GET /v1/jobs/{id}`.
struct JobView: Encodable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var keywords: [String]
    var maxImages: Int
    var sources: [String]
    var rules: RulesView
    var chunkSize: Int
    var overFetch: Double
    var priority: Int
    var status: JobStatus
    var progress: Int
    var counters: CountersView
    var startedAt: Date?
    var completedAt: Date?
    var createdAt: Date
    var updatedAt: Date
    var keywordProgress: [KeywordProgress]?
    /// What each accepted image is resized to as it is crawled (the export API's `resize` object), if anything.
    var resize: ResizeOptions?

    struct CountersView: Encodable, Sendable {
        var totalImages: Int
        var downloadedImages: Int
        var validImages: Int
        var totalChunks: Int
        var pendingChunks: Int
        var activeChunks: Int
        var completedChunks: Int
        var failedChunks: Int
        var cancelledChunks: Int
    }

    struct RulesView: Encodable, Sendable {
        var formats: [String]
        var minWidth: Int
        var minHeight: Int
        var maxWidth: Int
        var maxHeight: Int
        var minBytes: Int
        var maxBytes: Int
        var minAspectRatio: Double?
        var maxAspectRatio: Double?
        var depth: ValidationDepth

        init(_ rules: ValidationRules) {
            self.formats = rules.formats.map(\.rawValue).sorted()
            self.minWidth = rules.minWidth
            self.minHeight = rules.minHeight
            self.maxWidth = rules.maxWidth
            self.maxHeight = rules.maxHeight
            self.minBytes = rules.minBytes
            self.maxBytes = rules.maxBytes
            self.minAspectRatio = rules.minAspectRatio
            self.maxAspectRatio = rules.maxAspectRatio
            self.depth = rules.depth
        }
    }

    init(_ job: CrawlJob, keywordProgress: [KeywordProgress]? = nil) {
        let c = job.counters
        self.id = job.id
        self.projectId = job.projectID
        self.name = job.name
        self.keywords = job.keywords
        self.maxImages = job.maxImages
        self.sources = job.sources
        self.rules = RulesView(job.rules)
        self.chunkSize = job.chunkSize
        self.overFetch = job.overFetch
        self.priority = job.priority
        self.status = job.status
        self.progress = job.progress
        self.counters = CountersView(
            totalImages: c.totalImages, downloadedImages: c.downloadedImages, validImages: c.validImages,
            totalChunks: c.totalChunks, pendingChunks: c.pendingChunks, activeChunks: c.activeChunks,
            completedChunks: c.completedChunks, failedChunks: c.failedChunks, cancelledChunks: c.cancelledChunks)
        self.startedAt = job.startedAt
        self.completedAt = job.completedAt
        self.createdAt = job.createdAt
        self.updatedAt = job.updatedAt
        self.keywordProgress = keywordProgress
        self.resize = job.resize
    }
}

/// How far one keyword of a job is, from its chunks.
struct KeywordProgress: Encodable, Sendable, Hashable {
    var keyword: String
    var totalChunks: Int
    var pendingChunks: Int
    var activeChunks: Int
    var completedChunks: Int
    var failedChunks: Int
    var cancelledChunks: Int
    /// Candidates processed over all of the keyword's chunks.
    var candidatesDone: Int
    /// Candidate positions the keyword's chunks cover.
    var candidatesPlanned: Int
    /// Finished chunks as a percentage of the keyword's chunks.
    var progress: Int

    static func summarize(_ chunks: [CrawlChunk], keywords: [String]) -> [KeywordProgress] {
        var byKeyword: [String: [CrawlChunk]] = [:]
        for chunk in chunks { byKeyword[chunk.keyword, default: []].append(chunk) }
        let order = keywords + byKeyword.keys.filter { !keywords.contains($0) }.sorted()
        return order.map { keyword in
            let list = byKeyword[keyword] ?? []
            func count(_ status: ChunkStatus) -> Int { list.count { $0.status == status } }
            let finished = count(.completed) + count(.failed) + count(.cancelled)
            return KeywordProgress(
                keyword: keyword, totalChunks: list.count, pendingChunks: count(.pending), activeChunks: count(.active),
                completedChunks: count(.completed), failedChunks: count(.failed), cancelledChunks: count(.cancelled),
                candidatesDone: list.reduce(0) { $0 + $1.checkpoint.candidatesDone },
                candidatesPlanned: list.reduce(0) { $0 + ($1.rangeEnd - $1.rangeStart) },
                progress: list.isEmpty ? 0 : finished * 100 / list.count)
        }
    }
}

/// An image as the API shows it, with the URL its stored file is fetched from.
struct ImageView: Encodable, Sendable {
    var id: Int64
    var jobId: Int64
    var originalUrl: String
    var filename: String
    var width: Int
    var height: Int
    var fileSize: Int
    var format: ImageFormat
    var sha256: String
    var keyword: String
    var source: String
    var license: String?
    var licenseVersion: String?
    var creator: String?
    var landingUrl: String?
    var title: String?
    var isValid: Bool
    var rejectionReason: String?
    var createdAt: Date
    var fileUrl: String

    init(_ image: ImageRecord) {
        self.id = image.id
        self.jobId = image.jobID
        self.originalUrl = image.originalURL
        self.filename = image.filename
        self.width = image.width
        self.height = image.height
        self.fileSize = image.fileSize
        self.format = image.format
        self.sha256 = image.sha256
        self.keyword = image.keyword
        self.source = image.source
        self.license = image.license
        self.licenseVersion = image.licenseVersion
        self.creator = image.creator
        self.landingUrl = image.landingURL
        self.title = image.title
        self.isValid = image.isValid
        self.rejectionReason = image.rejectionReason
        self.createdAt = image.createdAt
        self.fileUrl = "/v1/images/\(image.id)/file"
    }
}

/// One page of a list.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var limit: Int
    var offset: Int?
    /// Keyset cursor: pass as `after_id` for the next page; absent on the last page.
    var nextAfterId: Int64?
}

/// Error records of a job by category.
struct ErrorSummaryView: Encodable, Sendable {
    struct Category: Encodable, Sendable {
        var category: String
        var count: Int
    }
    struct Recent: Encodable, Sendable {
        var id: Int64
        var category: String
        var severity: String
        var message: String
        var url: String?
        var createdAt: Date
    }
    var jobId: Int64
    var total: Int
    var categories: [Category]
    var recent: [Recent]
}

/// A token just created: the secret appears here once and never again.
struct CreatedTokenView: Encodable, Sendable {
    var token: String
    var apiToken: APIToken
}
