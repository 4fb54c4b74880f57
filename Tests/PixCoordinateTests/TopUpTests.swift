import Foundation
import PixCoordinate
import PixCore
import PixStore
import PixTestSupport
import Synchronization
import Testing

@Suite("Top-up planning")
struct TopUpTests {
    @Test("two workers finishing a keyword's last chunks at once top it up exactly once", arguments: Backend.allCases)
    func racingLastChunks(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "race@example.com"))
        let project = try await store.createProject(NewProject(name: "race", userID: profile.id))
        for round in 0..<5 {
            let job = try await store.createJob(
                NewCrawlJob(
                    projectID: project.id, name: "race \(round)", keywords: ["fox"], maxImages: 100,
                    sources: ["s"], chunkSize: 10, overFetch: 1),
                chunks: [
                    NewChunk(keyword: "fox", source: "s", rangeStart: 0, rangeEnd: 10),
                    NewChunk(keyword: "fox", source: "s", rangeStart: 10, rangeEnd: 20),
                ])
            let first = try #require(try await store.claimChunk(workerID: "a", lease: .seconds(60), jobID: job.id))
            let second = try #require(try await store.claimChunk(workerID: "b", lease: .seconds(60), jobID: job.id))
            let decisions = Mutex(0)
            let topUp: @Sendable (KeywordSnapshot) -> TopUpDecision = { snapshot in
                decisions.withLock { $0 += 1 }
                let next = snapshot.sources.map(\.nextPosition).max() ?? 0
                return TopUpDecision(chunks: [NewChunk(keyword: "fox", source: "s", rangeStart: next, rangeEnd: next + 10)])
            }
            async let one = store.completeChunk(
                chunkID: first.chunk.id, token: first.leaseToken,
                finalProgress: ChunkProgress(checkpoint: ChunkCheckpoint(candidatesDone: 10)), sourceExhausted: false,
                topUp: topUp)
            async let two = store.completeChunk(
                chunkID: second.chunk.id, token: second.leaseToken,
                finalProgress: ChunkProgress(checkpoint: ChunkCheckpoint(candidatesDone: 10)), sourceExhausted: false,
                topUp: topUp)
            let results = try await [one, two]
            #expect(results.compactMap { $0?.appendedChunks }.reduce(0, +) == 1, "exactly one top-up")
            #expect(decisions.withLock { $0 } == 1, "the keyword was examined once, by the last completion")
            let chunks = try await store.chunks(jobID: job.id)
            #expect(chunks.map(\.rangeStart) == [0, 10, 20])
            #expect(chunks.last?.status == .pending)
            let after = try #require(try await store.job(id: job.id))
            #expect(after.status == .running, "the job is not finalised while a top-up chunk is pending")
            try await expectInvariant(store, jobID: job.id)
        }
    }

    @Test("the planner tops up in proportion to the acceptance rate and stops at sources' ends")
    func decisions() throws {
        let planner = JobPlanner(
            sources: SourceResolver { spec in
                TestSource(name: spec, maxDepth: spec == "shallow" ? 25 : nil, pageSize: 10) { _, _ in nil }
            })
        func snapshot(valid: Int, sources: [KeywordSnapshot.SourcePosition]) -> KeywordSnapshot {
            let now = Date()
            let job = CrawlJob(
                id: 1, projectID: 1, name: "j", keywords: ["fox", "owl"], maxImages: 41, sources: sources.map(\.source),
                rules: ValidationRules(), chunkSize: 10, overFetch: 1.5, priority: 2, status: .running, progress: 0,
                counters: JobCounters(), startedAt: now, completedAt: nil, createdAt: now, updatedAt: now)
            return KeywordSnapshot(job: job, keyword: "fox", validImages: valid, sources: sources, shortfall: nil)
        }
        // Quota 21 (41 over 2 keywords); 7 valid of 31 processed: 14 short at a rate of 7/31.
        let topUp = planner.topUp(
            snapshot(valid: 7, sources: [.init(source: "deep", nextPosition: 31, candidatesDone: 31, exhausted: false)]))
        let wanted = Int((14 * 1.5 / (7.0 / 31.0)).rounded(.up))
        #expect(topUp.chunks.first?.rangeStart == 31)
        #expect(topUp.chunks.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart } == min(wanted, 100))
        #expect(topUp.chunks.allSatisfy { $0.keyword == "fox" && $0.priority == 2 && $0.rangeEnd - $0.rangeStart <= 10 })
        #expect(topUp.shortfall == nil)

        // Quota met: nothing to do.
        #expect(
            planner.topUp(
                snapshot(
                    valid: 21,
                    sources: [
                        .init(
                            source: "deep", nextPosition: 31, candidatesDone: 31,
                            exhausted: false)
                    ])) == .none)

        // Only the shallow source has room, up to its depth of 25.
        let capped = planner.topUp(
            snapshot(
                valid: 10,
                sources: [
                    .init(source: "shallow", nextPosition: 20, candidatesDone: 20, exhausted: false),
                    .init(source: "deep", nextPosition: 20, candidatesDone: 20, exhausted: true),
                ]))
        #expect(capped.chunks.map(\.source) == ["shallow"])
        #expect(capped.chunks.map(\.rangeStart) == [20] && capped.chunks.map(\.rangeEnd) == [25])

        // Every source ran dry: a shortfall instead of chunks.
        let dry = planner.topUp(
            snapshot(valid: 10, sources: [.init(source: "deep", nextPosition: 30, candidatesDone: 30, exhausted: true)]))
        #expect(dry.chunks.isEmpty)
        #expect(dry.shortfall?.quota == 21)
        #expect(dry.shortfall?.validImages == 10)
        #expect(dry.shortfall?.reason.contains("ran out of results") == true)
    }
}
