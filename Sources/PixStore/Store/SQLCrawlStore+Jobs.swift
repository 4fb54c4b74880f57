import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore {
    static let jobColumns = """
        id, project_id, name, keywords, max_images, sources, validation_rules, chunk_size, over_fetch, priority,
        status, progress, total_images, downloaded_images, valid_images, total_chunks, active_chunks,
        completed_chunks, failed_chunks, cancelled_chunks, started_at, completed_at, created_at, updated_at, resize
        """

    static func job(from row: SQLRow) throws -> CrawlJob {
        CrawlJob(
            id: try row.require(row.int64("id"), "id"),
            projectID: try row.require(row.int64("project_id"), "project_id"),
            name: row.string("name") ?? "",
            keywords: try row.json([String].self, "keywords") ?? [],
            maxImages: row.int("max_images") ?? 0,
            sources: try row.json([String].self, "sources") ?? [],
            rules: (try? row.json(ValidationRules.self, "validation_rules")) ?? ValidationRules(),
            chunkSize: row.int("chunk_size") ?? 50,
            overFetch: row.double("over_fetch") ?? 1.5,
            priority: row.int("priority") ?? 0,
            status: JobStatus(rawValue: row.string("status") ?? "") ?? .pending,
            progress: row.int("progress") ?? 0,
            counters: JobCounters(
                totalImages: row.int("total_images") ?? 0,
                downloadedImages: row.int("downloaded_images") ?? 0,
                validImages: row.int("valid_images") ?? 0,
                totalChunks: row.int("total_chunks") ?? 0,
                activeChunks: row.int("active_chunks") ?? 0,
                completedChunks: row.int("completed_chunks") ?? 0,
                failedChunks: row.int("failed_chunks") ?? 0,
                cancelledChunks: row.int("cancelled_chunks") ?? 0),
            startedAt: row.date("started_at"),
            completedAt: row.date("completed_at"),
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"),
            resize: try row.json(ResizeOptions.self, "resize"))
    }

    static let chunkColumns = """
        id, job_id, chunk_index, keyword, source, range_start, range_end, status, priority, attempts, max_attempts,
        lease_owner, lease_token, lease_expires_at, available_at, checkpoint_cursor, candidates_done, last_error,
        created_at, updated_at, completed_at
        """

    static func chunk(from row: SQLRow) throws -> CrawlChunk {
        CrawlChunk(
            id: try row.require(row.int64("id"), "id"),
            jobID: try row.require(row.int64("job_id"), "job_id"),
            chunkIndex: row.int("chunk_index") ?? 0,
            keyword: row.string("keyword") ?? "",
            source: row.string("source") ?? "",
            rangeStart: row.int("range_start") ?? 0,
            rangeEnd: row.int("range_end") ?? 0,
            status: ChunkStatus(rawValue: row.string("status") ?? "") ?? .pending,
            attempts: row.int("attempts") ?? 0,
            maxAttempts: row.int("max_attempts") ?? 3,
            priority: row.int("priority") ?? 0,
            leaseOwner: row.string("lease_owner"),
            leaseToken: row.string("lease_token"),
            leaseExpiresAt: row.date("lease_expires_at"),
            availableAt: try row.require(row.date("available_at"), "available_at"),
            checkpoint: ChunkCheckpoint(cursor: row.string("checkpoint_cursor"), candidatesDone: row.int("candidates_done") ?? 0),
            lastError: row.string("last_error"),
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"),
            completedAt: row.date("completed_at"))
    }

    /// Inserts a job and all its chunks in one transaction; `total_chunks` is set in that same transaction.
    public func createJob(_ new: NewCrawlJob, chunks: [NewChunk]) async throws -> CrawlJob {
        let row = try Self.jobValues(new)
        return try await database.transaction { connection in
            let jobID = try Self.insertJob(connection, row, status: .pending, totalChunks: chunks.count)
            try Self.insertChunks(connection, jobID: jobID, chunks: chunks, firstIndex: 0)
            return try Self.readJob(connection, jobID)
        }
    }

    /// Creates a job from chunks made one at a time, all or nothing, with memory bounded by `batchSize`.
    ///
    /// A plan that fits in one batch is one transaction. A larger one first creates the job as `planning` (its
    /// chunks are not claimable: claims take only `pending` and `running` jobs), then writes `batchSize` chunk
    /// rows per transaction, each raising `total_chunks` and `updated_at` with its rows; the transaction of the
    /// last batch makes the job `pending`. When writing fails, the job and its chunks are deleted. A planner that
    /// dies between batches leaves a `planning` job no worker claims; ``deleteAbandonedPlans(idleSince:)``
    /// (run by `pixcrawl gc`) deletes it.
    /// - Parameters:
    ///   - new: the job.
    ///   - chunks: its chunks, in `chunk_index` order.
    ///   - batchSize: chunk rows per transaction.
    ///   - afterBatch: called after each batch committed with the job id and the chunks written so far.
    /// - Returns: the job, `pending` with every chunk.
    public func createJob(
        _ new: NewCrawlJob, streaming chunks: some Sequence<NewChunk>, batchSize: Int,
        afterBatch: (@Sendable (_ jobID: Int64, _ written: Int) async throws -> Void)? = nil
    ) async throws -> CrawlJob {
        var iterator = chunks.makeIterator()
        var batch = Self.nextBatch(&iterator, size: batchSize)
        var following = Self.nextBatch(&iterator, size: batchSize)
        guard !following.isEmpty else { return try await createJob(new, chunks: batch) }
        let row = try Self.jobValues(new)
        let jobID = try await database.transaction { connection in
            try Self.insertJob(connection, row, status: .planning, totalChunks: 0)
        }
        do {
            var written = 0
            while !batch.isEmpty {
                let rows = batch
                let firstIndex = written
                let last = following.isEmpty
                try await database.transaction { connection in
                    let now = connection.dialect.now
                    let open = try connection.query(
                        """
                        UPDATE crawl_jobs SET total_chunks = total_chunks + $2,
                            status = CASE WHEN $3 = 1 THEN 'pending' ELSE status END, updated_at = \(now)
                        WHERE id = $1 AND status = 'planning' RETURNING id
                        """, .int(jobID), .int(rows.count), .int(last ? 1 : 0))
                    guard !open.isEmpty else {
                        throw StoreError.invalidInput(
                            field: "job \(jobID)", reason: "it stopped planning (cancelled or deleted) mid-plan")
                    }
                    try Self.insertChunks(connection, jobID: jobID, chunks: rows, firstIndex: firstIndex)
                }
                written += rows.count
                try await afterBatch?(jobID, written)
                batch = following
                following = last ? [] : Self.nextBatch(&iterator, size: batchSize)
            }
            return try await database.read { connection in try Self.readJob(connection, jobID) }
        } catch {
            _ = try? await database.transaction { connection in
                try connection.query("DELETE FROM crawl_jobs WHERE id = $1 AND status = 'planning'", .int(jobID))
            }
            throw error
        }
    }

    /// Deletes the jobs (and their chunks) whose plan stopped being written before it committed: `planning`
    /// jobs untouched since `cutoff` (a planner writes a batch in well under a minute).
    /// - Returns: the ids of the deleted jobs.
    public func deleteAbandonedPlans(idleSince cutoff: Date) async throws -> [Int64] {
        try await database.transaction { connection in
            try connection.query(
                "DELETE FROM crawl_jobs WHERE status = 'planning' AND updated_at < $1 RETURNING id", .date(cutoff)
            ).compactMap { $0.int64("id") }.sorted()
        }
    }

    private static func nextBatch(_ iterator: inout some IteratorProtocol<NewChunk>, size: Int) -> [NewChunk] {
        var batch: [NewChunk] = []
        batch.reserveCapacity(size)
        while batch.count < size, let chunk = iterator.next() { batch.append(chunk) }
        return batch
    }

    private static func jobValues(_ new: NewCrawlJob) throws -> [SQLValue] {
        [
            .int(new.projectID), .text(new.name), try SQLValue.json(new.keywords), .int(new.maxImages),
            try SQLValue.json(new.sources), try SQLValue.json(new.rules), .int(new.chunkSize),
            .double(new.overFetch), .int(new.priority), try new.resize.map { try SQLValue.json($0) } ?? .null,
        ]
    }

    private static func insertJob(
        _ connection: any SQLConnection, _ values: [SQLValue], status: JobStatus, totalChunks: Int
    ) throws -> Int64 {
        let dialect = connection.dialect
        let rows = try connection.query(
            """
            INSERT INTO crawl_jobs (project_id, name, keywords, max_images, sources, validation_rules, chunk_size,
                over_fetch, priority, resize, status, total_chunks)
            VALUES ($1, $2, $3\(dialect.jsonCast), $4, $5\(dialect.jsonCast), $6\(dialect.jsonCast), $7, $8, $9,
                $10\(dialect.jsonCast), $11, $12)
            RETURNING id
            """, values + [.text(status.rawValue), .int(totalChunks)])
        return try rows.first.orThrow("job").int64("id").orThrow("job id")
    }

    private static func readJob(_ connection: any SQLConnection, _ jobID: Int64) throws -> CrawlJob {
        let job = try connection.query("SELECT \(Self.jobColumns) FROM crawl_jobs WHERE id = $1", .int(jobID))
        return try Self.job(from: try job.first.orThrow("job"))
    }

    static func insertChunks(
        _ connection: any SQLConnection, jobID: Int64, chunks: [NewChunk], firstIndex: Int
    ) throws {
        let columns = 8
        for batch in stride(from: 0, to: chunks.count, by: 500) {
            let slice = chunks[batch..<min(batch + 500, chunks.count)]
            var placeholders: [String] = []
            var binds: [SQLValue] = []
            binds.reserveCapacity(slice.count * columns)
            for (offset, chunk) in slice.enumerated() {
                let base = binds.count
                placeholders.append("(" + (1...columns).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                binds += [
                    .int(jobID), .int(firstIndex + batch + offset), .text(chunk.keyword), .text(chunk.source),
                    .int(chunk.rangeStart), .int(chunk.rangeEnd), .int(chunk.maxAttempts), .int(chunk.priority),
                ]
            }
            try connection.query(
                """
                INSERT INTO crawl_chunks (job_id, chunk_index, keyword, source, range_start, range_end, max_attempts,
                    priority) VALUES \(placeholders.joined(separator: ", "))
                """, binds)
        }
    }

    /// Adds chunks to an unfinished job (top-up planning); counters follow in the same transaction.
    public func appendChunks(jobID: Int64, chunks: [NewChunk]) async throws -> Int {
        guard !chunks.isEmpty else { return 0 }
        return try await database.transaction { connection in
            let job = try connection.query(
                "SELECT status FROM crawl_jobs WHERE id = $1 \(connection.dialect == .postgres ? "FOR UPDATE" : "")",
                .int(jobID))
            guard let status = job.first?.string("status") else { throw StoreError.notFound("job \(jobID)") }
            guard !(JobStatus(rawValue: status)?.isFinished ?? true) else { return 0 }
            let next = try connection.query(
                "SELECT COALESCE(MAX(chunk_index), -1) + 1 AS next FROM crawl_chunks WHERE job_id = $1", .int(jobID))
            try Self.insertChunks(connection, jobID: jobID, chunks: chunks, firstIndex: next.first?.int("next") ?? 0)
            try connection.query(
                "UPDATE crawl_jobs SET total_chunks = total_chunks + $2, updated_at = \(connection.dialect.now) WHERE id = $1",
                .int(jobID), .int(chunks.count))
            return chunks.count
        }
    }

    public func job(id: Int64) async throws -> CrawlJob? {
        try await database.read { connection in
            try connection.query("SELECT \(Self.jobColumns) FROM crawl_jobs WHERE id = $1", .int(id))
                .first.map(Self.job(from:))
        }
    }

    public func listJobs(projectID: Int64?, status: JobStatus?, limit: Int, offset: Int) async throws -> [CrawlJob] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT \(Self.jobColumns) FROM crawl_jobs
                WHERE ($1 = 0 OR project_id = $2) AND ($3 = '' OR status = $3)
                ORDER BY id DESC LIMIT $4 OFFSET $5
                """,
                .int(projectID == nil ? 0 : 1), .int(projectID ?? 0), .text(status?.rawValue ?? ""), .int(limit),
                .int(offset)
            ).map(Self.job(from:))
        }
    }

    public func chunks(jobID: Int64) async throws -> [CrawlChunk] {
        try await database.read { connection in
            try connection.query(
                "SELECT \(Self.chunkColumns) FROM crawl_chunks WHERE job_id = $1 ORDER BY chunk_index", .int(jobID)
            ).map(Self.chunk(from:))
        }
    }

    public func chunk(id: Int64) async throws -> CrawlChunk? {
        try await database.read { connection in
            try connection.query("SELECT \(Self.chunkColumns) FROM crawl_chunks WHERE id = $1", .int(id))
                .first.map(Self.chunk(from:))
        }
    }

    /// Counts chunk rows by status, straight from the rows (what the counters must equal).
    public func chunkStatusCounts(jobID: Int64) async throws -> [ChunkStatus: Int] {
        try await database.read { connection in
            var counts: [ChunkStatus: Int] = [:]
            for row in try connection.query(
                "SELECT status, COUNT(*) AS n FROM crawl_chunks WHERE job_id = $1 GROUP BY status", .int(jobID))
            {
                if let status = ChunkStatus(rawValue: row.string("status") ?? "") { counts[status] = row.int("n") ?? 0 }
            }
            return counts
        }
    }

    /// Cancels a job: pending and active chunks become cancelled (workers notice at their next checkpoint).
    public func cancelJob(id: Int64) async throws -> Bool {
        try await database.transaction { connection in
            let now = connection.dialect.now
            let rows = try connection.query(
                "SELECT status FROM crawl_jobs WHERE id = $1 \(connection.dialect == .postgres ? "FOR UPDATE" : "")",
                .int(id))
            guard let status = rows.first?.string("status") else { throw StoreError.notFound("job \(id)") }
            if JobStatus(rawValue: status)?.isFinished ?? true { return false }
            try Self.cancelOpenChunks(connection, jobID: id, reason: "job cancelled")
            try connection.query(
                """
                UPDATE crawl_jobs SET status = 'cancelled', completed_at = \(now), updated_at = \(now) WHERE id = $1
                """, .int(id))
            return true
        }
    }

    /// Failed chunks back to pending with fresh attempts; counters adjusted in the same transaction.
    public func retryFailedChunks(jobID: Int64) async throws -> Int {
        try await database.transaction { connection in
            let now = connection.dialect.now
            let retried = try connection.query(
                """
                UPDATE crawl_chunks SET status = 'pending', attempts = 0, available_at = \(now), last_error = NULL,
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = \(now),
                    completed_at = NULL
                WHERE job_id = $1 AND status = 'failed' RETURNING id
                """, .int(jobID)
            ).count
            guard retried > 0 else { return 0 }
            try connection.query(
                """
                UPDATE crawl_jobs SET failed_chunks = failed_chunks - $2,
                    status = CASE WHEN status IN ('completed', 'failed') THEN 'running' ELSE status END,
                    completed_at = CASE WHEN status IN ('completed', 'failed') THEN NULL ELSE completed_at END,
                    updated_at = \(now)
                WHERE id = $1
                """, .int(jobID), .int(retried))
            try Self.refreshProgress(connection, jobID: jobID)
            return retried
        }
    }

    static func cancelOpenChunks(_ connection: any SQLConnection, jobID: Int64, reason: String) throws {
        let now = connection.dialect.now
        let cancelled = try connection.query(
            """
            UPDATE crawl_chunks SET status = 'cancelled', lease_token = NULL, lease_owner = NULL,
                lease_expires_at = NULL, last_error = $2, updated_at = \(now), completed_at = \(now)
            WHERE job_id = $1 AND status IN ('pending', 'active') RETURNING id
            """, .int(jobID), .text(reason))
        guard !cancelled.isEmpty else { return }
        try connection.query(
            """
            UPDATE crawl_jobs SET cancelled_chunks = cancelled_chunks + $2, active_chunks = 0, updated_at = \(now)
            WHERE id = $1
            """, .int(jobID), .int(cancelled.count))
    }

    /// Recomputes `progress` from the counters: the larger of image progress and chunk progress, capped at 99
    /// until the job finishes (then 100).
    static func refreshProgress(_ connection: any SQLConnection, jobID: Int64) throws {
        try connection.query(
            """
            UPDATE crawl_jobs SET progress = CASE
                WHEN status = 'completed' THEN 100
                ELSE MIN(99, MAX(
                    (valid_images * 100) / max_images,
                    CASE WHEN total_chunks = 0 THEN 0
                         ELSE ((completed_chunks + failed_chunks + cancelled_chunks) * 100) / total_chunks END))
                END
            WHERE id = $1
            """.replacingOccurrences(of: "MIN(", with: connection.dialect == .postgres ? "LEAST(" : "MIN(")
                .replacingOccurrences(of: "MAX(", with: connection.dialect == .postgres ? "GREATEST(" : "MAX("),
            .int(jobID))
    }

    /// After a chunk reached a terminal state: finish the job when its target is met (cancelling what is
    /// left) or when no chunk is open any more.
    static func finalizeJobIfDone(_ connection: any SQLConnection, jobID: Int64) throws {
        let now = connection.dialect.now
        guard
            let row = try connection.query(
                """
                SELECT status, max_images, valid_images, total_chunks, active_chunks, completed_chunks, failed_chunks,
                    cancelled_chunks FROM crawl_jobs WHERE id = $1
                """, .int(jobID)
            ).first
        else { return }
        let status = JobStatus(rawValue: row.string("status") ?? "") ?? .pending
        if status.isFinished {
            try refreshProgress(connection, jobID: jobID)
            return
        }
        let valid = row.int("valid_images") ?? 0
        let maxImages = row.int("max_images") ?? 1
        if valid >= maxImages {
            try cancelOpenChunks(connection, jobID: jobID, reason: "job reached its target")
            try connection.query(
                """
                UPDATE crawl_jobs SET status = 'completed', progress = 100, completed_at = \(now), updated_at = \(now),
                    started_at = COALESCE(started_at, \(now)) WHERE id = $1
                """, .int(jobID))
            return
        }
        let total = row.int("total_chunks") ?? 0
        let completed = row.int("completed_chunks") ?? 0
        let failed = row.int("failed_chunks") ?? 0
        let cancelled = row.int("cancelled_chunks") ?? 0
        if total > 0, completed + failed + cancelled == total {
            let final = completed == 0 && failed > 0 ? "failed" : "completed"
            try connection.query(
                """
                UPDATE crawl_jobs SET status = $2, progress = CASE WHEN $3 = 1 THEN 100 ELSE progress END,
                    completed_at = \(now), updated_at = \(now) WHERE id = $1
                """, .int(jobID), .text(final), .int(final == "completed" ? 1 : 0))
            if final == "failed" { try refreshProgress(connection, jobID: jobID) }
            return
        }
        try refreshProgress(connection, jobID: jobID)
    }
}
