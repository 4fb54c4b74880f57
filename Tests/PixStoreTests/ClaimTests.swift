import Foundation
import PixCore
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// Claims and completions racing other connections: row locks held elsewhere, the throttled expired-lease
/// sweep, and many claimers at once.
@Suite("Chunk claims")
struct ClaimTests {
    @Test("a claim skips a chunk whose row another connection holds locked, and takes it once released")
    func lockedChunkIsSkipped() async throws {
        let store = try await TestStores.make(.postgres)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 2)
        let chunks = try await store.chunks(jobID: fixture.job.id)
        let first = try #require(chunks.first)
        // Another client: a transaction that holds the first chunk's row lock across the claims below.
        let other = try await SQLDatabase(location: store.database.location, maxConnections: 1)
        defer { other.close() }
        try await other.withConnection { connection in
            try connection.executeScript("BEGIN")
            try connection.query("SELECT id FROM crawl_chunks WHERE id = $1 FOR UPDATE", .int(first.id))
        }
        let claimed = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        #expect(claimed.chunk.id != first.id, "the locked chunk is skipped, not waited for")
        #expect(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id) == nil)
        try await expectInvariant(store, jobID: fixture.job.id)
        try await other.withConnection { connection in try connection.executeScript("ROLLBACK") }
        let released = try #require(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id))
        #expect(released.chunk.id == first.id)
        #expect(released.job.counters.activeChunks == 2)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("claims and completions wait for a job row another connection holds, then count exactly")
    func lockedJobRowIsWaitedFor() async throws {
        let store = try await TestStores.make(.postgres)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 3)
        let running = try #require(try await store.claimChunk(workerID: "w0", lease: .seconds(60), jobID: fixture.job.id))
        let other = try await SQLDatabase(location: store.database.location, maxConnections: 1)
        defer { other.close() }
        let holder = try await other.withConnection { connection in
            try connection.executeScript("BEGIN")
            try connection.query("SELECT id FROM crawl_jobs WHERE id = $1 FOR UPDATE", .int(fixture.job.id))
            return try connection.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
        }
        let observer = try await SQLDatabase(location: store.database.location, maxConnections: 1)
        defer { observer.close() }
        async let claim = store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id)
        async let completion = store.completeChunk(
            chunkID: running.chunk.id, token: running.leaseToken, finalProgress: nil)
        // Both wait on the held row (the job row lock is released only after they are seen waiting).
        var notBlocked: (any Error)?
        do {
            try await eventually("the claim and the completion wait for the held job row") {
                let waiting = try await observer.withConnection { connection in
                    // Waiting on the holder, or queued behind a session that is.
                    try connection.query(
                        """
                        SELECT count(*) AS waiting FROM pg_stat_activity a
                        WHERE CAST($1 AS integer) = ANY(pg_blocking_pids(a.pid))
                           OR EXISTS (SELECT 1 FROM pg_stat_activity b
                                      WHERE CAST($1 AS integer) = ANY(pg_blocking_pids(b.pid))
                                        AND b.pid = ANY(pg_blocking_pids(a.pid)))
                        """, .int(Int64(holder))
                    ).first?.int("waiting") ?? 0
                }
                return waiting >= 2
            }
        } catch {
            notBlocked = error
        }
        try await other.withConnection { connection in try connection.executeScript("COMMIT") }
        if let notBlocked { throw notBlocked }
        let claimed = try #require(try await claim)
        #expect(claimed.chunk.id != running.chunk.id)
        #expect(try await completion)
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.counters.activeChunks == 1)
        #expect(job.counters.completedChunks == 1)
        #expect(job.status == .running)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a failed attempt racing a takeover moves no counter for the chunk the other worker now owns")
    func failedAttemptLosesToTakeover() async throws {
        let store = try await TestStores.make(.postgres)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let stale = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        // Another worker's takeover, in a transaction that holds the chunk's row while w1 ends its attempt.
        let other = try await SQLDatabase(location: store.database.location, maxConnections: 1)
        defer { other.close() }
        let otherPID = try await other.withConnection { connection in
            try connection.executeScript("BEGIN")
            try connection.query("SELECT id FROM crawl_chunks WHERE id = $1 FOR UPDATE", .int(stale.chunk.id))
            return try connection.query("SELECT pg_backend_pid() AS pid").first?.int("pid")
        }
        async let failed = store.failChunkAttempt(
            chunkID: stale.chunk.id, token: stale.leaseToken,
            error: NewErrorLog(jobID: nil, category: .network, message: "NETWORK: source unreachable"),
            retryAfter: .seconds(1))
        // Wait until w1's transaction is queued behind the row lock, then take the chunk over and commit.
        while try await other.withConnection({ connection in
            try connection.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                .int(try #require(otherPID))
            ).first?.int("n")
        }) == 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await other.withConnection { connection in
            try connection.query(
                """
                UPDATE crawl_chunks SET lease_token = 'w2-token', lease_owner = 'w2',
                    lease_expires_at = now() + interval '60 seconds', attempts = attempts + 1
                WHERE id = $1
                """, .int(stale.chunk.id))
            try connection.executeScript("COMMIT")
        }
        #expect(try await failed == nil)
        let chunk = try #require(try await store.chunk(id: stale.chunk.id))
        #expect(chunk.status == .active)
        #expect(try await store.errorSummary(jobID: fixture.job.id)[.network] == nil)
        #expect(try await store.job(id: fixture.job.id)?.counters.activeChunks == 1)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("the expired-lease sweep is throttled, yet runs whenever nothing is claimable", arguments: Backend.allCases)
    func throttledSweep(backend: Backend) async throws {
        let base = try await TestStores.make(backend)
        defer { base.close() }
        let store = SQLCrawlStore(database: base.database, expiredLeaseSweepInterval: .seconds(3600))
        let profile = try await store.createProfile(NewProfile(email: "sweep@example.com"))
        let project = try await store.createProject(NewProject(name: "sweep", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "sweep", keywords: ["a"], maxImages: 50, sources: ["demo"]),
            chunks: [
                NewChunk(keyword: "a", source: "demo", rangeStart: 0, rangeEnd: 10, maxAttempts: 1),
                NewChunk(keyword: "a", source: "demo", rangeStart: 10, rangeEnd: 20),
            ])
        // The first claim sweeps (nothing to sweep yet) and starts the interval.
        let doomed = try #require(try await store.claimChunk(workerID: "dies", lease: .milliseconds(50), jobID: job.id))
        #expect(doomed.chunk.maxAttempts == 1)
        try await Task.sleep(for: .milliseconds(300))
        // Its lease expired on its last attempt; the next claim takes the other chunk and does not sweep yet.
        let other = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id))
        #expect(other.chunk.id != doomed.chunk.id)
        #expect(try await store.chunk(id: doomed.chunk.id)?.status == .active)
        try await expectInvariant(store, jobID: job.id)
        // Nothing is claimable: that claim sweeps now, whatever the interval says.
        #expect(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: job.id) == nil)
        let swept = try #require(try await store.chunk(id: doomed.chunk.id))
        #expect(swept.status == .failed)
        #expect(swept.lastError == "lease expired on the last attempt")
        try await expectInvariant(store, jobID: job.id)
        #expect(try await store.completeChunk(chunkID: other.chunk.id, token: other.leaseToken, finalProgress: nil))
        let finished = try #require(try await store.job(id: job.id))
        #expect(finished.status == .completed)
        #expect(finished.counters.failedChunks == 1)
        try await expectInvariant(store, jobID: job.id)
    }

    @Test("many claimers at once: no chunk is claimed twice and the counters equal the rows", arguments: Backend.allCases)
    func concurrentClaimers(backend: Backend) async throws {
        let store = try await TestStores.make(backend, maxConnections: 9)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 60, maxImages: 1000)
        let claimedIDs = Shared<[Int64]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for claimer in 0..<8 {
                group.addTask {
                    while let claim = try await store.claimChunk(
                        workerID: "w\(claimer)", lease: .seconds(60), jobID: fixture.job.id)
                    {
                        claimedIDs.value.withLock { $0.append(claim.chunk.id) }
                        let completed = try await store.completeChunk(
                            chunkID: claim.chunk.id, token: claim.leaseToken,
                            finalProgress: ChunkProgress(checkpoint: ChunkCheckpoint(candidatesDone: 10)))
                        #expect(completed)
                    }
                }
            }
            try await group.waitForAll()
        }
        let ids = claimedIDs.value.withLock { $0 }
        #expect(ids.count == 60)
        #expect(Set(ids).count == 60, "no chunk was claimed twice")
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.status == .completed)
        #expect(job.progress == 100)
        #expect(job.counters.completedChunks == 60)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a completion that is not a keyword's last still tops up exactly once per keyword", arguments: Backend.allCases)
    func topUpAfterManyCompletions(backend: Backend) async throws {
        let store = try await TestStores.make(backend, maxConnections: 9)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "topup@example.com"))
        let project = try await store.createProject(NewProject(name: "topup", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(
                projectID: project.id, name: "topup", keywords: ["fox", "owl"], maxImages: 1000,
                sources: ["s"], chunkSize: 10, overFetch: 1),
            chunks: ["fox", "owl"].flatMap { keyword in
                (0..<12).map { NewChunk(keyword: keyword, source: "s", rangeStart: $0 * 10, rangeEnd: $0 * 10 + 10) }
            })
        let decisions = Shared<[String]>([])
        let topUp: @Sendable (KeywordSnapshot) -> TopUpDecision = { snapshot in
            decisions.value.withLock { $0.append(snapshot.keyword) }
            let next = snapshot.sources.map(\.nextPosition).max() ?? 0
            return TopUpDecision(
                chunks: [NewChunk(keyword: snapshot.keyword, source: "s", rangeStart: next, rangeEnd: next + 10)])
        }
        let appended = Shared(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for claimer in 0..<8 {
                group.addTask {
                    // The planned chunks (positions 0..<120) may top up; the appended ones may not.
                    while let claim = try await store.claimChunk(
                        workerID: "w\(claimer)", lease: .seconds(60), jobID: job.id)
                    {
                        let completion = try #require(
                            try await store.completeChunk(
                                chunkID: claim.chunk.id, token: claim.leaseToken,
                                finalProgress: ChunkProgress(checkpoint: ChunkCheckpoint(candidatesDone: 10)),
                                sourceExhausted: false,
                                topUp: claim.chunk.rangeStart >= 120 ? nil : topUp))
                        appended.value.withLock { $0 += completion.appendedChunks }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(decisions.value.withLock { $0.sorted() } == ["fox", "owl"], "each keyword examined once, by its last chunk")
        #expect(appended.value.withLock { $0 } == 2)
        let chunks = try await store.chunks(jobID: job.id)
        #expect(chunks.count == 26)
        #expect(chunks.allSatisfy { $0.status == .completed })
        #expect(try await store.job(id: job.id)?.status == .completed)
        try await expectInvariant(store, jobID: job.id)
    }
}
