import Foundation
import PixCore
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// One suite, two engines: every case runs on SQLite and on PostgreSQL.
@Suite("Store conformance")
struct ConformanceTests {
    @Test("deleting a project cascades to jobs, chunks and images", arguments: Backend.allCases)
    func projectCascade(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        #expect(try await store.insertImages(jobID: fixture.job.id, images: [newImage(1), newImage(2)]) == 2)
        try await store.recordErrors([NewErrorLog(jobID: fixture.job.id, category: .decode, message: "DECODE: bad")])
        #expect(try await store.deleteProject(id: fixture.project.id))
        #expect(try await store.job(id: fixture.job.id) == nil)
        #expect(try await store.chunks(jobID: fixture.job.id).isEmpty)
        #expect(try await store.imageCounts(jobID: fixture.job.id).total == 0)
        #expect(try await store.errorSummary(jobID: fixture.job.id).isEmpty)
    }

    @Test("deleting a profile cascades to projects and keeps activity with a NULL user", arguments: Backend.allCases)
    func profileCascade(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        try await store.logActivity(
            NewActivity(
                userID: fixture.profile.id, action: "project.created",
                resourceType: "project", resourceID: "\(fixture.project.id)", metadata: ["name": "Foxes"]))
        #expect(try await store.activity(userID: fixture.profile.id, limit: 10).count == 1)
        #expect(try await store.deleteProfile(id: fixture.profile.id))
        #expect(try await store.project(id: fixture.project.id) == nil)
        #expect(try await store.job(id: fixture.job.id) == nil)
        let orphaned = try await store.activity(userID: nil, limit: 10)
        #expect(orphaned.map(\.action) == ["project.created"])
        #expect(orphaned.first?.userID == nil)
        #expect(orphaned.first?.metadata == ["name": "Foxes"])
    }

    @Test("CHECK constraints refuse bad progress, negative counts and unknown statuses", arguments: Backend.allCases)
    func checkConstraints(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        let id = fixture.job.id
        let statements: [(String, [SQLValue])] = [
            ("UPDATE crawl_jobs SET progress = 101 WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_jobs SET progress = -1 WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_jobs SET valid_images = -1 WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_jobs SET downloaded_images = -5 WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_jobs SET status = 'exploded' WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_chunks SET status = 'lost' WHERE job_id = $1", [.int(id)]),
            ("UPDATE projects SET status = 'gone' WHERE id = $1", [.int(fixture.project.id)]),
            ("UPDATE crawl_jobs SET max_images = 0 WHERE id = $1", [.int(id)]),
            ("UPDATE crawl_jobs SET completed_chunks = total_chunks + 1 WHERE id = $1", [.int(id)]),
        ]
        for (sql, binds) in statements {
            let error = await #expect(throws: StoreError.self, "\(sql)") {
                try await store.database.withConnection { connection in try connection.query(sql, binds) }
            }
            #expect(error?.isCheckViolation == true, "\(sql) should be a CHECK violation, got \(String(describing: error))")
        }
        try await expectInvariant(store, jobID: id)
    }

    @Test("unique violations surface as a typed error", arguments: Backend.allCases)
    func uniqueViolations(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        _ = try await store.createProfile(NewProfile(email: "same@example.com"))
        let error = await #expect(throws: StoreError.self) {
            try await store.createProfile(NewProfile(email: "Same@Example.com"))
        }
        #expect(error?.isUniqueViolation == true)
    }

    @Test("a foreign key to nowhere is refused", arguments: Backend.allCases)
    func foreignKeys(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let error = await #expect(throws: StoreError.self) {
            try await store.createProject(NewProject(name: "orphan", userID: UUID()))
        }
        #expect(error?.isForeignKeyViolation == true)
    }

    @Test("images are unique per job on sha256 and on URL; duplicates are logged", arguments: Backend.allCases)
    func imageIdempotency(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let claim = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        let images = [
            newImage(1), newImage(2),
            newImage(3, sha: newImage(1).sha256),  // same bytes, other URL
            newImage(4, url: newImage(2).originalURL),  // same URL, other bytes
        ]
        let result = try await store.commitProgress(
            chunkID: claim.chunk.id, token: claim.leaseToken, lease: .seconds(60),
            progress: ChunkProgress(images: images, downloaded: 4, checkpoint: ChunkCheckpoint(cursor: "p2", candidatesDone: 4)))
        #expect(result.inserted == 2)
        #expect(result.duplicates == 2)
        // Redelivery of the same slice never duplicates.
        let again = try await store.commitProgress(
            chunkID: claim.chunk.id, token: claim.leaseToken, lease: .seconds(60),
            progress: ChunkProgress(images: images, downloaded: 0, checkpoint: ChunkCheckpoint(cursor: "p2", candidatesDone: 4)))
        #expect(again.inserted == 0)
        #expect(try await store.errorSummary(jobID: fixture.job.id)[.duplicate] == 6)
        let rows = try await store.images(jobID: fixture.job.id, validOnly: true, afterID: 0, limit: 10)
        #expect(rows.count == 2)
        #expect(rows.first?.creator == "Zoë \"quoted\"")
        #expect(rows.first?.perceptualHash == UInt64.max - 1)
        #expect(try await store.chunk(id: claim.chunk.id)?.checkpoint == ChunkCheckpoint(cursor: "p2", candidatesDone: 4))
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a job's chunk lifecycle keeps the counters equal to the rows", arguments: Backend.allCases)
    func lifecycleCounters(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 3, maxImages: 1000)
        #expect(fixture.job.counters.totalChunks == 3)
        #expect(fixture.job.status == .pending)
        try await expectInvariant(store, jobID: fixture.job.id)
        var index = 0
        while let claim = try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id) {
            try await expectInvariant(store, jobID: fixture.job.id)
            #expect(try await store.job(id: fixture.job.id)?.status == .running)
            let images = (0..<5).map { newImage(index * 10 + $0) }
            index += 1
            #expect(
                try await store.completeChunk(
                    chunkID: claim.chunk.id, token: claim.leaseToken,
                    finalProgress: ChunkProgress(images: images, downloaded: 5, checkpoint: ChunkCheckpoint(candidatesDone: 5))))
            try await expectInvariant(store, jobID: fixture.job.id)
        }
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.status == .completed)
        #expect(job.progress == 100)
        #expect(job.counters.completedChunks == 3)
        #expect(job.counters.validImages == 15)
        #expect(job.counters.downloadedImages == 15)
        #expect(job.startedAt != nil && job.completedAt != nil)
    }

    @Test("reaching max_images completes the job and cancels the remaining chunks", arguments: Backend.allCases)
    func targetReached(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 4, maxImages: 3)
        let first = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        let second = try #require(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id))
        let result = try await store.commitProgress(
            chunkID: first.chunk.id, token: first.leaseToken, lease: .seconds(60),
            progress: ChunkProgress(
                images: (0..<3).map { newImage($0) }, downloaded: 3, checkpoint: ChunkCheckpoint(candidatesDone: 3)))
        #expect(result.jobFinished)
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.status == .completed)
        #expect(job.progress == 100)
        // The other worker's chunk was cancelled: its next checkpoint reports the lost lease.
        await #expect(throws: StoreError.leaseLost(chunk: second.chunk.id)) {
            try await store.commitProgress(
                chunkID: second.chunk.id, token: second.leaseToken, lease: .seconds(60),
                progress: ChunkProgress(images: [newImage(9)], checkpoint: ChunkCheckpoint(candidatesDone: 1)))
        }
        #expect(try await store.claimChunk(workerID: "w3", lease: .seconds(60), jobID: fixture.job.id) == nil)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a job never stores more valid images than max_images", arguments: Backend.allCases)
    func targetIsExact(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 2, maxImages: 3)
        let claim = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        let result = try await store.commitProgress(
            chunkID: claim.chunk.id, token: claim.leaseToken, lease: .seconds(60),
            progress: ChunkProgress(
                images: (0..<5).map { newImage($0) }, downloaded: 5, checkpoint: ChunkCheckpoint(candidatesDone: 5)))
        #expect(result.inserted == 3)
        #expect(result.surplus == 2)
        #expect(result.duplicates == 0)
        #expect(result.jobFinished)
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.counters.validImages == 3)
        #expect(job.status == .completed)
        #expect(try await store.errorSummary(jobID: fixture.job.id)[.duplicate] == nil, "surplus is not a duplicate")
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a zombie whose lease expired and was re-claimed cannot complete", arguments: Backend.allCases)
    func zombieRefused(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let zombie = try #require(try await store.claimChunk(workerID: "zombie", lease: .milliseconds(50), jobID: fixture.job.id))
        _ = try await store.commitProgress(
            chunkID: zombie.chunk.id, token: zombie.leaseToken, lease: .milliseconds(50),
            progress: ChunkProgress(
                images: [newImage(1)], downloaded: 1, checkpoint: ChunkCheckpoint(cursor: "c1", candidatesDone: 1)))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.renewLease(chunkID: zombie.chunk.id, token: zombie.leaseToken, lease: .seconds(60)) == false)
        let rescuer = try #require(try await store.claimChunk(workerID: "rescuer", lease: .seconds(60), jobID: fixture.job.id))
        #expect(rescuer.chunk.id == zombie.chunk.id)
        #expect(rescuer.chunk.attempts == 2)
        #expect(
            rescuer.chunk.checkpoint == ChunkCheckpoint(cursor: "c1", candidatesDone: 1), "takeover resumes from the checkpoint")
        let before = try #require(try await store.job(id: fixture.job.id))
        #expect(
            try await store.completeChunk(
                chunkID: zombie.chunk.id, token: zombie.leaseToken,
                finalProgress: ChunkProgress(images: [newImage(2)], downloaded: 1, checkpoint: ChunkCheckpoint(candidatesDone: 2))
            ) == false)
        #expect(
            try await store.failChunkAttempt(
                chunkID: zombie.chunk.id, token: zombie.leaseToken,
                error: NewErrorLog(jobID: nil, category: .network, message: "late"), retryAfter: .zero) == nil)
        #expect(try await store.releaseChunk(chunkID: zombie.chunk.id, token: zombie.leaseToken) == false)
        let after = try #require(try await store.job(id: fixture.job.id))
        #expect(after.counters == before.counters, "a refused zombie changes no counter")
        #expect(try await store.completeChunk(chunkID: rescuer.chunk.id, token: rescuer.leaseToken, finalProgress: nil))
        // A finished chunk cannot be rescued again.
        #expect(try await store.claimChunk(workerID: "late", lease: .seconds(60), jobID: fixture.job.id) == nil)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a chunk that always fails ends failed after max_attempts without stalling the job", arguments: Backend.allCases)
    func poisonChunk(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let profile = try await store.createProfile(NewProfile(email: "p@example.com"))
        let project = try await store.createProject(NewProject(name: "p", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "j", keywords: ["a"], maxImages: 50, sources: ["demo"]),
            chunks: [
                NewChunk(keyword: "poison", source: "demo", rangeStart: 0, rangeEnd: 10, maxAttempts: 3),
                NewChunk(keyword: "good", source: "demo", rangeStart: 0, rangeEnd: 10),
            ])
        var outcomes: [ChunkFailureOutcome] = []
        var goodDone = false
        for _ in 0..<10 {
            guard let claim = try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id) else { break }
            if claim.chunk.keyword == "poison" {
                let outcome = try #require(
                    try await store.failChunkAttempt(
                        chunkID: claim.chunk.id, token: claim.leaseToken,
                        error: NewErrorLog(jobID: job.id, category: .network, message: "timeout"), retryAfter: .zero))
                outcomes.append(outcome)
            } else {
                goodDone = try await store.completeChunk(
                    chunkID: claim.chunk.id, token: claim.leaseToken,
                    finalProgress: ChunkProgress(
                        images: [newImage(1)], downloaded: 1, checkpoint: ChunkCheckpoint(candidatesDone: 1)))
            }
            try await expectInvariant(store, jobID: job.id)
        }
        #expect(outcomes == [.willRetry(attempt: 1), .willRetry(attempt: 2), .failed])
        #expect(goodDone)
        let final = try #require(try await store.job(id: job.id))
        #expect(final.status == .completed)
        #expect(final.counters.failedChunks == 1)
        #expect(try await store.errorSummary(jobID: job.id)[.network] == 3)
        #expect(try await store.retryFailedChunks(jobID: job.id) == 1)
        #expect(try await store.job(id: job.id)?.status == .running)
        try await expectInvariant(store, jobID: job.id)
    }

    @Test("cancelling a job stops claims and ends active chunks at their next checkpoint", arguments: Backend.allCases)
    func cancel(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 3)
        let claim = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: fixture.job.id))
        #expect(try await store.cancelJob(id: fixture.job.id))
        #expect(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id) == nil)
        await #expect(throws: StoreError.leaseLost(chunk: claim.chunk.id)) {
            try await store.commitProgress(
                chunkID: claim.chunk.id, token: claim.leaseToken, lease: .seconds(60),
                progress: ChunkProgress(checkpoint: ChunkCheckpoint(candidatesDone: 1)))
        }
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.status == .cancelled)
        #expect(job.counters.cancelledChunks == 3)
        try await expectInvariant(store, jobID: fixture.job.id)
    }

    @Test("a billion-image job keeps counters and chunk ranges past 2^31, up to the JSON", arguments: Backend.allCases)
    func billionImageCounters(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1, maxImages: 1_000_000_000)
        #expect(fixture.job.maxImages == 1_000_000_000)
        let big = 3_000_000_000
        try await store.database.transaction { connection in
            try connection.query(
                """
                UPDATE crawl_jobs SET total_images = $2, downloaded_images = $2, valid_images = $3 WHERE id = $1
                """, .int(fixture.job.id), .int(big), .int(big - 1))
            try connection.query(
                "UPDATE crawl_chunks SET range_start = $2, range_end = $3, candidates_done = $2 WHERE job_id = $1",
                .int(fixture.job.id), .int(big), .int(big + 10_000))
        }
        let job = try #require(try await store.job(id: fixture.job.id))
        #expect(job.counters.totalImages == big && job.counters.validImages == big - 1)
        let chunk = try #require(try await store.chunks(jobID: job.id).first)
        #expect(chunk.rangeStart == big && chunk.rangeEnd == big + 10_000 && chunk.checkpoint.candidatesDone == big)
        let json = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        #expect(json.contains("3000000000") && json.contains("2999999999"))
        await #expect(throws: StoreError.self) {
            try await store.createJob(
                NewCrawlJob(
                    projectID: fixture.project.id, name: "too big", keywords: ["k"], maxImages: 1_000_000_001,
                    sources: ["demo"]), chunks: [])
        }
    }

    @Test("a list row's kept columns are stored with its image", arguments: Backend.allCases)
    func keptColumns(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        var image = newImage(1)
        image.keptColumns = ["photo_id": "p-1", "similarity": "0.31"]
        #expect(try await store.insertImages(jobID: fixture.job.id, images: [image, newImage(2)]) == 2)
        let stored = try await store.images(jobID: fixture.job.id, validOnly: false, afterID: 0, limit: 10)
        #expect(stored.map(\.keptColumns) == [["photo_id": "p-1", "similarity": "0.31"], nil])
    }

    @Test(
        "a job's resize spec and its images' derivatives are stored, claimed with the job, and referenced",
        arguments: Backend.allCases)
    func crawlTimeResize(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        #expect(fixture.job.resize == nil)
        let spec = ResizeOptions(size: 256, mode: .centerCrop, onlyIfBigger: true, encoding: .webp, quality: 80)
        let job = try await store.createJob(
            NewCrawlJob(
                projectID: fixture.project.id, name: "resized", keywords: ["k"], maxImages: 10, sources: ["demo"],
                resize: spec),
            chunks: [NewChunk(keyword: "k", source: "demo", rangeStart: 0, rangeEnd: 10)])
        #expect(job.resize == spec)
        #expect(try await store.job(id: job.id)?.resize == spec)
        let claimed = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: job.id))
        #expect(claimed.job.resize == spec)

        let derivedSHA = String(repeating: "d", count: 64)
        var image = newImage(1)
        image.derivative = ImageDerivative(
            sha256: derivedSHA, byteCount: 5_000_000_000, width: 256, height: 256, originalWidth: 480,
            originalHeight: 640)
        #expect(try await store.insertImages(jobID: job.id, images: [image, newImage(2)]) == 2)
        let stored = try await store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 10)
        #expect(stored.map(\.derivative) == [image.derivative, nil])
        let referenced = try await store.referencedDigests([derivedSHA, String(repeating: "e", count: 64)])
        #expect(referenced == [derivedSHA])
    }

    @Test("planning is atomic: a failure mid-insert leaves no job", arguments: Backend.allCases)
    func atomicPlanning(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let (job, chunks) = try await makePlan(store, chunks: 1200)
        struct InjectedFailure: Error {}
        await #expect(throws: InjectedFailure.self) {
            try await store.createJob(
                job, streaming: chunks, batchSize: 500
            ) { _, written in
                if written == 1000 { throw InjectedFailure() }
            }
        }
        #expect(try await store.listJobs(projectID: job.projectID, status: nil, limit: 10, offset: 0).isEmpty)
        let leftover = try await store.database.withConnection { connection in
            try connection.query("SELECT COUNT(*) AS n FROM crawl_chunks").first?.int("n")
        }
        #expect(leftover == 0)
    }

    @Test("a plan written in batches is claimable only once its last batch committed", arguments: Backend.allCases)
    func streamedPlanning(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let (new, chunks) = try await makePlan(store, chunks: 1050)
        let seen = Shared<[(written: Int, status: JobStatus?, claimed: Bool, total: Int?)]>([])
        let job = try await store.createJob(new, streaming: chunks, batchSize: 250) { jobID, written in
            let job = try await store.job(id: jobID)
            let claim =
                written < chunks.count ? try await store.claimChunk(workerID: "early", lease: .seconds(60), jobID: nil) : nil
            seen.value.withLock { $0.append((written, job?.status, claim != nil, job?.counters.totalChunks)) }
        }
        let batches = seen.value.withLock { $0 }
        #expect(batches.map { $0.written } == [250, 500, 750, 1000, 1050])
        #expect(batches.dropLast().allSatisfy { $0.status == .planning && !$0.claimed && $0.total == $0.written })
        #expect(batches.last?.status == .pending)
        #expect(job.status == .pending && job.counters.totalChunks == 1050)
        #expect(try await store.chunks(jobID: job.id).map(\.rangeStart) == chunks.map(\.rangeStart))
        try await expectInvariant(store, jobID: job.id)
    }

    @Test("a plan whose planner died mid-plan is deleted once idle, and nothing of it was claimable", arguments: Backend.allCases)
    func abandonedPlan(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store)
        // What a planner killed after its first batch leaves: a planning job with some of its chunks.
        try await store.database.transaction { connection in
            try connection.query(
                "UPDATE crawl_jobs SET status = 'planning' WHERE id = $1", .int(fixture.job.id))
        }
        #expect(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: nil) == nil)
        #expect(try await store.deleteAbandonedPlans(idleSince: Date().addingTimeInterval(-600)).isEmpty)
        #expect(try await store.deleteAbandonedPlans(idleSince: Date().addingTimeInterval(60)) == [fixture.job.id])
        #expect(try await store.job(id: fixture.job.id) == nil)
        #expect(try await store.chunks(jobID: fixture.job.id).isEmpty)
    }

    @Test("a released chunk is claimable again without losing an attempt", arguments: Backend.allCases)
    func release(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let claim = try #require(try await store.claimChunk(workerID: "w", lease: .seconds(60), jobID: fixture.job.id))
        #expect(try await store.releaseChunk(chunkID: claim.chunk.id, token: claim.leaseToken))
        try await expectInvariant(store, jobID: fixture.job.id)
        let again = try #require(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id))
        #expect(again.chunk.attempts == 1)
        #expect(again.leaseToken != claim.leaseToken)
    }

    @Test("API tokens: only the hash is stored, revoked tokens stop working", arguments: Backend.allCases)
    func tokens(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let (profile, token, hash) = try await makeToken(store, email: "t@example.com", digest: "ab")
        let found = try #require(try await store.authenticate(tokenHash: hash))
        #expect(found.0.id == profile.id)
        #expect(found.1.lastUsedAt != nil)
        #expect(try await store.revokeAPIToken(id: token.id, profileID: profile.id))
        #expect(try await store.authenticate(tokenHash: hash) == nil)
    }

    @Test("authentication reads; last_used_at is refreshed only once it is a minute old", arguments: Backend.allCases)
    func tokenUseIsThrottled(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let (profile, token, hash) = try await makeToken(store, email: "u@example.com", digest: "cd")
        func setLastUsed(_ date: Date) async throws {
            try await store.database.withConnection { connection in
                try connection.query(
                    "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", .int(token.id), .date(date))
            }
        }
        func lastUsed() async throws -> Date? {
            try await store.listAPITokens(profileID: profile.id).first?.lastUsedAt
        }
        // Used ten seconds ago: a request within the minute writes nothing.
        try await setLastUsed(Date().addingTimeInterval(-10))
        let before = try await lastUsed()
        #expect(try await store.authenticate(tokenHash: hash)?.0.id == profile.id)
        #expect(try await lastUsed() == before)
        // An hour ago: the next request records its use.
        try await setLastUsed(Date().addingTimeInterval(-3600))
        let used = try #require(try await store.authenticate(tokenHash: hash)?.1.lastUsedAt)
        #expect(used > Date().addingTimeInterval(-60))
        #expect(try await lastUsed() == used)
        // An unknown token finds nothing and writes nothing.
        #expect(try await store.authenticate(tokenHash: String(repeating: "ef", count: 32)) == nil)
    }

    @Test("workers register and heartbeat", arguments: Backend.allCases)
    func workers(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        try await store.registerWorker(id: "host-1-42", hostname: "host-1", pid: 42, version: "0.1.0")
        try await store.workerHeartbeat(id: "host-1-42", status: .stopping, currentChunkID: nil)
        let workers = try await store.listWorkers()
        #expect(workers.map(\.id) == ["host-1-42"])
        #expect(workers.first?.status == .stopping)
    }
}
