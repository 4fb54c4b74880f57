import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore {
    /// Completes a chunk and, when it was the last open chunk of its keyword, lets `topUp` append chunks for the
    /// keyword's next result positions — all in one transaction, so the job cannot be finalised between the two
    /// and two workers finishing a keyword's last chunks at once cannot both top it up.
    ///
    /// On PostgreSQL the job row's counter update serialises the completions of one job before the keyword is
    /// examined; SQLite's `BEGIN IMMEDIATE` serialises everything. The chunk is marked completed before the job
    /// is finalised, so a last page that reaches the job's target leaves this chunk completed and cancels only the
    /// job's other open chunks.
    /// - Parameters:
    ///   - chunkID: the chunk.
    ///   - token: the lease token of the caller's claim.
    ///   - finalProgress: the last slice of the chunk, committed in the same transaction.
    ///   - sourceExhausted: true when the source said it has no results past this chunk for the keyword;
    ///     recorded in the keyword's shortfall entry, so no top-up asks that source again.
    ///   - topUp: decides what to append once every chunk of the keyword is finished; runs inside the
    ///     transaction on the store's connection thread, so it must be quick and must not block.
    /// - Returns: what happened, or `nil` when the lease was lost and nothing was written.
    public func completeChunk(
        chunkID: Int64, token: String, finalProgress: ChunkProgress?, sourceExhausted: Bool,
        topUp: (@Sendable (KeywordSnapshot) -> TopUpDecision)?
    ) async throws -> ChunkCompletion? {
        if dialect == .postgres, !sourceExhausted, finalProgress?.isBookkeepingOnly ?? true {
            let checkpoint = finalProgress?.checkpoint
            let fast = try await database.autocommit { connection in
                try Self.completeCommonCase(
                    connection, chunkID: chunkID, token: token, checkpoint: checkpoint, keywordMustStayOpen: topUp != nil)
            }
            switch fast {
            case .leaseLost: return nil
            case .completed: return ChunkCompletion(inserted: 0, duplicates: 0, jobFinished: false, appendedChunks: 0)
            case .needsTransaction: break
            }
        }
        return try await database.transaction { connection in
            let dialect = connection.dialect
            // Completed before the job is finalised: finalising cancels only the other open chunks.
            let checkpoint = finalProgress?.checkpoint
            guard
                let chunkRow = try connection.query(
                    """
                    UPDATE crawl_chunks SET status = 'completed', lease_token = NULL, lease_expires_at = NULL,
                        checkpoint_cursor = CASE WHEN $3 = 1 THEN $4 ELSE checkpoint_cursor END,
                        candidates_done = CASE WHEN $3 = 1 THEN $5 ELSE candidates_done END,
                        updated_at = \(dialect.now), completed_at = \(dialect.now)
                    WHERE id = $1 AND status = 'active' AND lease_token = $2 RETURNING job_id, keyword, source
                    """, .int(chunkID), .text(token), .int(checkpoint == nil ? 0 : 1), .optional(checkpoint?.cursor),
                    .int(checkpoint?.candidatesDone ?? 0)
                ).first, let jobID = chunkRow.int64("job_id")
            else { return nil }
            let keyword = chunkRow.string("keyword") ?? ""
            let source = chunkRow.string("source") ?? ""
            var inserted = 0
            var duplicates = 0
            if let finalProgress {
                let recorded = try Self.recordSlice(
                    connection, jobID: jobID, chunkID: chunkID, progress: finalProgress)
                inserted = recorded.inserted
                duplicates = recorded.duplicates
            }
            try connection.query(
                """
                UPDATE crawl_jobs SET active_chunks = active_chunks - 1, completed_chunks = completed_chunks + 1,
                    updated_at = \(dialect.now)
                WHERE id = $1
                """, .int(jobID))
            // That UPDATE holds the job row until commit (PostgreSQL), taken in the same order as every other
            // chunk transaction (chunk, images, job). Completions of one job queue here, and each statement below
            // sees the completions committed before it, so exactly one of two racing last chunks tops up.
            var shortfalls = try Self.readShortfalls(connection, jobID: jobID)
            var shortfallsChanged = false
            if sourceExhausted {
                var entry =
                    shortfalls[keyword]
                    ?? KeywordShortfall(quota: 0, plannedCandidates: 0, reason: "\(source) ran out of results")
                if !entry.exhaustedSources.contains(source) {
                    entry.exhaustedSources = (entry.exhaustedSources + [source]).sorted()
                    shortfalls[keyword] = entry
                    shortfallsChanged = true
                }
            }
            var appended = 0
            if let topUp,
                let job = try connection.query("SELECT \(Self.jobColumns) FROM crawl_jobs WHERE id = $1", .int(jobID))
                    .first.map(Self.job(from:)), !job.status.isFinished
            {
                let open =
                    try connection.query(
                        """
                        SELECT COUNT(*) AS n FROM crawl_chunks
                        WHERE job_id = $1 AND keyword = $2 AND status IN ('pending', 'active')
                        """, .int(jobID), .text(keyword)
                    ).first?.int("n") ?? 0
                if open == 0 {
                    let snapshot = try Self.keywordSnapshot(
                        connection, job: job, keyword: keyword, shortfall: shortfalls[keyword])
                    let decision = topUp(snapshot)
                    if !decision.chunks.isEmpty {
                        let next = try connection.query(
                            "SELECT COALESCE(MAX(chunk_index), -1) + 1 AS next FROM crawl_chunks WHERE job_id = $1",
                            .int(jobID))
                        try Self.insertChunks(
                            connection, jobID: jobID, chunks: decision.chunks, firstIndex: next.first?.int("next") ?? 0)
                        try connection.query(
                            """
                            UPDATE crawl_jobs SET total_chunks = total_chunks + $2, updated_at = \(dialect.now)
                            WHERE id = $1
                            """, .int(jobID), .int(decision.chunks.count))
                        appended = decision.chunks.count
                    }
                    if let shortfall = decision.shortfall {
                        shortfalls[keyword] = shortfall
                        shortfallsChanged = true
                    }
                }
            }
            if shortfallsChanged { try Self.writeShortfalls(connection, jobID: jobID, shortfalls) }
            try Self.finalizeJobIfDone(connection, jobID: jobID)
            let status = try connection.query("SELECT status FROM crawl_jobs WHERE id = $1", .int(jobID)).first?
                .string("status")
            return ChunkCompletion(
                inserted: inserted, duplicates: duplicates,
                jobFinished: JobStatus(rawValue: status ?? "")?.isFinished ?? true, appendedChunks: appended)
        }
    }

    /// What the one-statement completion did.
    enum CommonCaseCompletion: Sendable {
        /// The chunk was completed and the job's counters moved.
        case completed
        /// The caller does not hold the lease: nothing was written.
        case leaseLost
        /// Nothing was written: the completion may finish the job or the keyword, so it needs the full transaction.
        case needsTransaction
    }

    /// The common completion on PostgreSQL, as one statement committed on its own: a chunk with no images to
    /// record whose job stays open afterwards and — when `keywordMustStayOpen` — whose keyword keeps another
    /// open chunk. Anything else writes nothing and answers ``CommonCaseCompletion/needsTransaction``.
    ///
    /// Locks are taken in the order of every chunk transaction: the caller's chunk, then (with `FOR SHARE
    /// SKIP LOCKED`) one other open chunk of the keyword, then the job row. The shared lock keeps that chunk
    /// open until this statement commits, so its own completion comes later and sees this one; a chunk that
    /// is locked (being completed or claimed right now) does not count, which sends two racing last chunks to
    /// the transaction, where the job row serialises them and exactly one tops the keyword up. The job row's
    /// guard is checked on its newest version once it is locked, and the chunk changes only when the job did.
    static func completeCommonCase(
        _ connection: any SQLConnection, chunkID: Int64, token: String, checkpoint: ChunkCheckpoint?,
        keywordMustStayOpen: Bool
    ) throws -> CommonCaseCompletion {
        let row = try connection.queryPrepared(
            """
            WITH mine AS (
                SELECT id, job_id, keyword FROM crawl_chunks WHERE id = $1 AND status = 'active' AND lease_token = $2
                FOR UPDATE
            ),
            sibling AS (
                SELECT s.id FROM crawl_chunks s JOIN mine ON s.job_id = mine.job_id AND s.keyword = mine.keyword
                WHERE $6 = 1 AND s.status IN ('pending', 'active') AND s.id <> mine.id
                LIMIT 1 FOR SHARE OF s SKIP LOCKED
            ),
            job AS (
                UPDATE crawl_jobs j SET active_chunks = j.active_chunks - 1, completed_chunks = j.completed_chunks + 1,
                    progress = LEAST(99, GREATEST((j.valid_images * 100) / j.max_images,
                        ((j.completed_chunks + 1 + j.failed_chunks + j.cancelled_chunks) * 100) / j.total_chunks)),
                    updated_at = now()
                FROM mine
                WHERE j.id = mine.job_id AND j.status IN ('pending', 'running') AND j.valid_images < j.max_images
                    AND j.completed_chunks + 1 + j.failed_chunks + j.cancelled_chunks < j.total_chunks
                    AND ($6 = 0 OR EXISTS (SELECT 1 FROM sibling))
                RETURNING j.id
            ),
            done AS (
                UPDATE crawl_chunks c SET status = 'completed', lease_token = NULL, lease_expires_at = NULL,
                    checkpoint_cursor = CASE WHEN $3 = 1 THEN $4 ELSE c.checkpoint_cursor END,
                    candidates_done = CASE WHEN $3 = 1 THEN $5 ELSE c.candidates_done END,
                    updated_at = now(), completed_at = now()
                FROM job WHERE c.id = $1 AND c.job_id = job.id AND c.status = 'active' AND c.lease_token = $2
                RETURNING c.id
            )
            SELECT (SELECT COUNT(*) FROM mine) AS owned, (SELECT COUNT(*) FROM done) AS completed
            """, .int(chunkID), .text(token), .int(checkpoint == nil ? 0 : 1), .optional(checkpoint?.cursor),
            .int(checkpoint?.candidatesDone ?? 0), .int(keywordMustStayOpen ? 1 : 0)
        ).first
        if (row?.int("completed") ?? 0) == 1 { return .completed }
        if (row?.int("owned") ?? 0) == 0 { return .leaseLost }
        return .needsTransaction
    }

    static func keywordSnapshot(
        _ connection: any SQLConnection, job: CrawlJob, keyword: String, shortfall: KeywordShortfall?
    ) throws -> KeywordSnapshot {
        let valid =
            try connection.query(
                """
                SELECT COUNT(*) AS n FROM images WHERE crawl_job_id = $1 AND keyword = $2 AND is_valid
                """, .int(job.id), .text(keyword)
            ).first?.int("n") ?? 0
        let exhausted = Set(shortfall?.exhaustedSources ?? [])
        let sources = try connection.query(
            """
            SELECT source, MAX(range_end) AS next_position, COALESCE(SUM(candidates_done), 0) AS done
            FROM crawl_chunks WHERE job_id = $1 AND keyword = $2 GROUP BY source ORDER BY source
            """, .int(job.id), .text(keyword)
        ).map { row in
            let source = row.string("source") ?? ""
            return KeywordSnapshot.SourcePosition(
                source: source, nextPosition: row.int("next_position") ?? 0, candidatesDone: row.int("done") ?? 0,
                exhausted: exhausted.contains(source))
        }
        return KeywordSnapshot(job: job, keyword: keyword, validImages: valid, sources: sources, shortfall: shortfall)
    }

    static func readShortfalls(_ connection: any SQLConnection, jobID: Int64) throws -> [String: KeywordShortfall] {
        let row = try connection.query("SELECT shortfall FROM crawl_jobs WHERE id = $1", .int(jobID)).first
        return (try row?.json([String: KeywordShortfall].self, "shortfall")) ?? [:]
    }

    static func writeShortfalls(
        _ connection: any SQLConnection, jobID: Int64, _ shortfalls: [String: KeywordShortfall]
    ) throws {
        try connection.query(
            """
            UPDATE crawl_jobs SET shortfall = $2\(connection.dialect.jsonCast), updated_at = \(connection.dialect.now)
            WHERE id = $1
            """, .int(jobID), shortfalls.isEmpty ? .null : try SQLValue.json(shortfalls))
    }

    /// Records (or replaces) the shortfall of some keywords of a job; other keywords' entries are kept.
    public func recordShortfalls(jobID: Int64, _ shortfalls: [String: KeywordShortfall]) async throws {
        guard !shortfalls.isEmpty else { return }
        try await database.transaction { connection in
            if connection.dialect == .postgres {
                try connection.query("SELECT id FROM crawl_jobs WHERE id = $1 FOR UPDATE", .int(jobID))
            }
            var merged = try Self.readShortfalls(connection, jobID: jobID)
            merged.merge(shortfalls) { _, new in new }
            try Self.writeShortfalls(connection, jobID: jobID, merged)
        }
    }

    /// The recorded shortfalls of a job, by keyword (empty when every keyword can reach its quota).
    public func shortfalls(jobID: Int64) async throws -> [String: KeywordShortfall] {
        try await database.withConnection { connection in try Self.readShortfalls(connection, jobID: jobID) }
    }

    /// Per-keyword chunk and image counts of a job, straight from the rows, in keyword order.
    public func keywordProgress(jobID: Int64) async throws -> [KeywordProgress] {
        try await database.withConnection { connection in
            var progress: [String: KeywordProgress] = [:]
            for row in try connection.query(
                """
                SELECT keyword, status, COUNT(*) AS n, COALESCE(SUM(candidates_done), 0) AS done FROM crawl_chunks
                WHERE job_id = $1 GROUP BY keyword, status
                """, .int(jobID))
            {
                let keyword = row.string("keyword") ?? ""
                var entry =
                    progress[keyword]
                    ?? KeywordProgress(keyword: keyword, chunks: [:], candidatesDone: 0, images: 0, validImages: 0)
                if let status = ChunkStatus(rawValue: row.string("status") ?? "") {
                    entry.chunks[status, default: 0] += row.int("n") ?? 0
                }
                entry.candidatesDone += row.int("done") ?? 0
                progress[keyword] = entry
            }
            for row in try connection.query(
                """
                SELECT keyword, COUNT(*) AS n, COALESCE(SUM(CASE WHEN is_valid THEN 1 ELSE 0 END), 0) AS valid,
                    COALESCE(SUM(file_size), 0) AS bytes
                FROM images WHERE crawl_job_id = $1 GROUP BY keyword
                """, .int(jobID))
            {
                let keyword = row.string("keyword") ?? ""
                var entry =
                    progress[keyword]
                    ?? KeywordProgress(keyword: keyword, chunks: [:], candidatesDone: 0, images: 0, validImages: 0)
                entry.images = row.int("n") ?? 0
                entry.validImages = row.int("valid") ?? 0
                entry.bytes = row.int("bytes") ?? 0
                progress[keyword] = entry
            }
            return progress.values.sorted { $0.keyword < $1.keyword }
        }
    }
}

extension ChunkProgress {
    /// True when the slice only moves the checkpoint: no image, error record or download to count.
    var isBookkeepingOnly: Bool { images.isEmpty && errors.isEmpty && downloaded == 0 }
}
