import PixCoordinate
import PixCore
import PixStore

/// Splits a validated job into the chunks workers claim.
///
/// The coordinator's planner is the real one; the server depends only on this protocol so the two stay
/// interchangeable. ``KeywordChunkPlanner`` is the server's own minimal implementation.
public protocol JobPlanning: Sendable {
    /// The chunks of `job`, in claim order.
    /// - Throws: ``APIError`` 422 when the job cannot be planned.
    func plan(_ job: NewCrawlJob) throws -> [NewChunk]

    /// The chunks of `job`, and the keywords whose sources cannot serve their quota (recorded on the job).
    /// The default plans with ``plan(_:)`` and reports no shortfalls.
    /// - Throws: ``APIError`` 422 when the job cannot be planned.
    func planWithShortfalls(_ job: NewCrawlJob) throws -> PlannedChunks
}

/// What a planner made of a job: its chunks in claim order, and the keywords that cannot reach their quota.
public struct PlannedChunks: Sendable, Hashable {
    /// The chunks, in claim order.
    public var chunks: [NewChunk]
    /// Keywords whose sources cannot serve enough results for their quota, with why.
    public var shortfalls: [String: KeywordShortfall]

    /// Creates a plan.
    public init(chunks: [NewChunk], shortfalls: [String: KeywordShortfall] = [:]) {
        self.chunks = chunks
        self.shortfalls = shortfalls
    }
}

extension JobPlanning {
    public func planWithShortfalls(_ job: NewCrawlJob) throws -> PlannedChunks {
        PlannedChunks(chunks: try plan(job))
    }
}

/// Plans with the coordinator's ``PixCoordinate/JobPlanner``, the same way `pixcrawl crawl` does: never past a
/// source's depth, chunks interleaved over keywords so every keyword starts early, and a shortfall for each
/// keyword its sources cannot serve.
///
/// ```swift
/// let planner = CoordinatorJobPlanner(sources: SourceResolver { spec in try registry.source(for: spec) })
/// ```
public struct CoordinatorJobPlanner: JobPlanning {
    /// The coordinator's planner.
    public let planner: JobPlanner

    /// - Parameter planner: the coordinator's planner, with the resolver of the sources jobs may name.
    public init(_ planner: JobPlanner) {
        self.planner = planner
    }

    /// - Parameter sources: resolves source specifications (for their depth limits).
    public init(sources: SourceResolver) {
        self.init(JobPlanner(sources: sources))
    }

    public func plan(_ job: NewCrawlJob) throws -> [NewChunk] {
        try planWithShortfalls(job).chunks
    }

    public func planWithShortfalls(_ job: NewCrawlJob) throws -> PlannedChunks {
        let submission = PixCoordinate.JobSubmission(
            projectID: job.projectID, name: job.name, keywords: job.keywords, maxImages: job.maxImages,
            sources: job.sources, rules: job.rules, chunkSize: job.chunkSize, overFetch: job.overFetch,
            priority: job.priority)
        do {
            let plan = try planner.plan(submission)
            return PlannedChunks(chunks: plan.chunks, shortfalls: plan.shortfalls)
        } catch {
            throw APIError.validation(field: error.field, reason: error.reason)
        }
    }
}

/// Plans keyword chunks: `max_images` split over the keywords (the remainder spread one each over the first
/// keywords), each keyword's quota times the over-fetch factor split over the sources, and each source's
/// share cut into ranges of `chunk_size` result positions.
public struct KeywordChunkPlanner: JobPlanning {
    /// The most chunks one job may have (keeps a submission to one bounded transaction).
    public var maxChunks: Int

    public init(maxChunks: Int = 100_000) {
        self.maxChunks = maxChunks
    }

    public func plan(_ job: NewCrawlJob) throws -> [NewChunk] {
        guard !job.keywords.isEmpty, !job.sources.isEmpty, job.maxImages > 0, job.chunkSize > 0 else {
            throw APIError.validation(field: nil, reason: "a job needs keywords, sources, max_images and chunk_size")
        }
        var chunks: [NewChunk] = []
        let base = job.maxImages / job.keywords.count
        let remainder = job.maxImages % job.keywords.count
        for (index, keyword) in job.keywords.enumerated() {
            let quota = base + (index < remainder ? 1 : 0)
            guard quota > 0 else { continue }
            let candidates = Int((Double(quota) * job.overFetch).rounded(.up))
            let perSource = candidates / job.sources.count
            let sourceRemainder = candidates % job.sources.count
            for (sourceIndex, source) in job.sources.enumerated() {
                let share = perSource + (sourceIndex < sourceRemainder ? 1 : 0)
                var start = 0
                while start < share {
                    let end = min(start + job.chunkSize, share)
                    chunks.append(
                        NewChunk(keyword: keyword, source: source, rangeStart: start, rangeEnd: end, priority: job.priority))
                    start = end
                }
                if chunks.count > maxChunks {
                    throw APIError.validation(
                        field: "chunk_size",
                        reason: "the job would need more than \(maxChunks) chunks; raise chunk_size or lower max_images")
                }
            }
        }
        return chunks
    }
}
