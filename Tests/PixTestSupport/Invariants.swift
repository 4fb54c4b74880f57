import PixCore
import PixStore
import Testing

/// The invariant every test that touches a job asserts: counters equal the rows.
public func expectInvariant(_ store: SQLCrawlStore, jobID: Int64, sourceLocation: SourceLocation = #_sourceLocation)
    async throws
{
    let job = try #require(try await store.job(id: jobID), sourceLocation: sourceLocation)
    let counts = try await store.chunkStatusCounts(jobID: jobID)
    let rows = counts.values.reduce(0, +)
    #expect(job.counters.totalChunks == rows, "total_chunks equals chunk rows", sourceLocation: sourceLocation)
    #expect(job.counters.activeChunks == counts[.active, default: 0], sourceLocation: sourceLocation)
    #expect(job.counters.completedChunks == counts[.completed, default: 0], sourceLocation: sourceLocation)
    #expect(job.counters.failedChunks == counts[.failed, default: 0], sourceLocation: sourceLocation)
    #expect(job.counters.cancelledChunks == counts[.cancelled, default: 0], sourceLocation: sourceLocation)
    #expect(job.counters.pendingChunks == counts[.pending, default: 0], sourceLocation: sourceLocation)
    let images = try await store.imageCounts(jobID: jobID)
    #expect(job.counters.totalImages == images.total, "total_images equals image rows", sourceLocation: sourceLocation)
    #expect(job.counters.validImages == images.valid, "valid_images equals valid rows", sourceLocation: sourceLocation)
    #expect((0...100).contains(job.progress), sourceLocation: sourceLocation)
}
