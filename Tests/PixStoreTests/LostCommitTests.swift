import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

/// A COMMIT that reached PostgreSQL but whose reply was lost looks like a broken connection to the store,
/// which retries the transaction: the retry must find the first attempt's work and apply nothing again.
@Suite("PostgreSQL lost COMMIT replies")
struct LostCommitTests {
    @Test("a page whose COMMIT reply was lost is applied once")
    func pageAppliedOnce() async throws {
        let proxy = try LostCommitProxy()
        defer { proxy.close() }
        let store = try await TestStores.make(at: try proxy.location(), maxConnections: 1)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let claim = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        proxy.loseNextCommitReply()
        let result = try await store.commitProgress(
            chunkID: claim.chunk.id, token: claim.leaseToken, lease: .seconds(60),
            progress: ChunkProgress(
                images: [newImage(1), newImage(2)], downloaded: 2,
                checkpoint: ChunkCheckpoint(cursor: "p2", candidatesDone: 2)))
        #expect(proxy.lostReplies == 1)
        #expect((result.inserted, result.duplicates) == (2, 0))
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.counters.downloadedImages == 2)
        #expect(try await store.errorSummary(jobID: fixture.job.id)[.duplicate] == nil)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a submit whose COMMIT reply was lost creates one job and returns it")
    func submitCreatesOneJob() async throws {
        let proxy = try LostCommitProxy()
        defer { proxy.close() }
        let store = try await TestStores.make(at: try proxy.location(), maxConnections: 1)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "lost@example.com"))
        let project = try await store.createProject(NewProject(name: "Owls", userID: profile.id))
        proxy.loseNextCommitReply()
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "owls", keywords: ["owl"], maxImages: 10, sources: ["demo"]),
            chunks: [NewChunk(keyword: "owl", source: "demo", rangeStart: 0, rangeEnd: 10)])
        #expect(proxy.lostReplies == 1)
        let jobs = try await store.listJobs(projectID: project.id, status: nil, limit: 10, offset: 0)
        #expect(jobs.map(\.id) == [job.id])
        #expect(try await store.chunks(jobID: job.id).count == 1)
        try await expectInvariant(store, jobID: job.id)
    }
}
