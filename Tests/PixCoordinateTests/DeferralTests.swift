import Foundation
import PixCoordinate
import PixCore
import PixSources
import PixStore
import PixTestSupport
import Testing

/// A provider that asks to be left alone, or a page whose hosts are all paused: the chunk is handed back for later
/// instead of holding a worker or using up an attempt.
@Suite("Deferral")
struct DeferralTests {
    @Test("a source's Retry-After defers the chunk without counting the attempt", arguments: Backend.allCases)
    func sourceRetryAfter(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let spec = harness.sources.add("throttled", maxDepth: 10) { _, _ in
                throw SourceError(
                    .rateLimited, source: "throttled", status: 429, message: "hourly limit used up",
                    retryAfter: .seconds(3600))
            }
            let job = try await harness.submit(keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 10)
            let claim = try #require(try await harness.store.claimChunk(workerID: "w", lease: .seconds(30), jobID: job.id))
            let outcome = await harness.runtime.processor.process(claim)
            #expect(outcome == .deferred(.seconds(3600)))
            let chunk = try #require(try await harness.store.chunk(id: claim.chunk.id))
            #expect(chunk.status == .pending)
            #expect(chunk.attempts == 0)
            #expect(chunk.availableAt > Date().addingTimeInterval(3500))
            #expect(try await harness.store.errorSummary(jobID: job.id)[.rateLimit] == 1)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a page whose candidates are all on a paused host defers the chunk", arguments: Backend.allCases)
    func pausedHost(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let spec = harness.sources.add("paused", maxDepth: 5) { _, position in
                position < 5 ? "http://paused.test/img/\(position).jpg" : nil
            }
            let lease = try await harness.store.acquireHostSlot(
                host: "paused.test", holder: "other", limits: HostLimits(connections: 8), lease: .seconds(60))
            guard case .granted(let id) = lease else { throw TestSupportError("no slot: \(lease)") }
            try await harness.store.releaseHostSlot(
                leaseID: id, host: "paused.test", bytes: 0, outcome: .throttled(status: 503, retryAfter: .seconds(120)))
            let job = try await harness.submit(keywords: ["fox"], maxImages: 5, sources: [spec], chunkSize: 5)
            let claim = try #require(try await harness.store.claimChunk(workerID: "w", lease: .seconds(30), jobID: job.id))
            let outcome = await harness.runtime.processor.process(claim)
            guard case .deferred(let wait) = outcome else {
                Issue.record("expected a deferral, got \(outcome)")
                return
            }
            #expect(wait > .seconds(100) && wait <= .seconds(120))
            let chunk = try #require(try await harness.store.chunk(id: claim.chunk.id))
            #expect(chunk.status == .pending && chunk.attempts == 0 && chunk.checkpoint.candidatesDone == 0)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }
}
