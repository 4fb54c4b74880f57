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
