import PixCore
import PixStore

/// A validated, planned submission: the job row, its chunks and the keywords that cannot reach their quota.
public struct JobPlan: Sendable, Hashable {
    /// The job to insert.
    public var job: NewCrawlJob
    /// Its chunks, interleaved over keywords so every keyword progresses from the start; made one at a time.
    public var chunks: PlannedChunks
    /// Each keyword's share of `max_images`, in keyword order.
    public var quotas: [String: Int]
    /// Keywords whose sources cannot serve enough results for their quota, with why.
    public var shortfalls: [String: KeywordShortfall]

    /// Creates a plan.
    public init(
        job: NewCrawlJob, chunks: PlannedChunks, quotas: [String: Int], shortfalls: [String: KeywordShortfall]
    ) {
        self.job = job
        self.chunks = chunks
        self.quotas = quotas
        self.shortfalls = shortfalls
    }
}
