import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore {
    /// Claims the highest-priority, oldest claimable chunk of any running or pending job: a pending chunk
    /// whose backoff has passed, or an active one whose lease expired (taken over, checkpoint kept).
    ///
    /// On PostgreSQL the claim is one statement committed on its own: the candidate is locked with
    /// `FOR UPDATE SKIP LOCKED` (a chunk another claimer holds is skipped, never waited for), then the chunk,
    /// the job's counters and the worker row change together; the job row is locked last, for one statement
    /// only. Across jobs the order is the best candidate of each job (chunk priority, then job priority, then
    /// age); when that candidate is locked by another claimer the job's next one is taken. SQLite holds the
    /// write lock (`BEGIN IMMEDIATE`).
    ///
    /// Expired chunks already out of attempts are failed on the way, so they never stall a job: at most once per
    /// ``expiredLeaseSweep`` interval in this process, and always when nothing is claimable.
    /// - Returns: the chunk with a fresh lease token, or `nil` when nothing is claimable.
    public func claimChunk(workerID: String, lease: Duration, jobID: Int64? = nil) async throws -> ClaimedChunk? {
        let token = Self.newLeaseToken()
        let leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        let swept = expiredLeaseSweep.claimRun()
        let claimed: ClaimedChunk?
        switch dialect {
        case .postgres:
            if swept { try await sweepExpiredLeases() }
            claimed = try await database.autocommit { connection in
                try Self.claimPostgres(
                    connection, workerID: workerID, token: token, leaseSeconds: leaseSeconds, jobID: jobID)
            }
        case .sqlite:
            let sweep = swept
            claimed = try await database.transaction { connection in
                if sweep { try Self.failExhaustedExpiredChunks(connection) }
                return try Self.claimSQLite(
                    connection, workerID: workerID, token: token, leaseSeconds: leaseSeconds, jobID: jobID)
            }
        }
        if claimed == nil && !swept {
            // Nothing to do: make sure no exhausted chunk is what keeps the job open.
            expiredLeaseSweep.recordRun()
            try await sweepExpiredLeases()
        }
        return claimed
    }

    /// Fails the chunks whose lease expired on their last attempt now, in a transaction of its own.
    func sweepExpiredLeases() async throws {
        try await database.transaction { connection in try Self.failExhaustedExpiredChunks(connection) }
    }

    /// The PostgreSQL claim: one statement. Jobs are ordered by their best claimable chunk (index probes on
    /// `ix_crawl_chunks_claim`); the first job that still has an unlocked candidate gives the chunk.
    static func claimPostgres(
        _ connection: any SQLConnection, workerID: String, token: String, leaseSeconds: Double, jobID: Int64?
    ) throws -> ClaimedChunk? {
        let claimable = """
            c.status IN ('pending', 'active') AND (c.status = 'pending' OR c.lease_expires_at < now())
                AND c.available_at <= now() AND c.attempts < c.max_attempts
            """
        func columns(_ list: String, table: String, prefix: String) -> String {
            list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .map { "\(table).\($0) AS \(prefix)\($0)" }.joined(separator: ", ")
        }
        // With a job given, its first unlocked candidate; otherwise jobs ranked by their best candidate.
        let candidate =
            jobID != nil
            ? """
            candidate AS (
                SELECT c.id, c.status AS previous_status FROM crawl_chunks c
                WHERE c.job_id = $4 AND \(claimable)
                    AND EXISTS (SELECT 1 FROM crawl_jobs j WHERE j.id = $4 AND j.status IN ('pending', 'running'))
                ORDER BY c.priority DESC, c.id LIMIT 1 FOR UPDATE OF c SKIP LOCKED
            ),
            """
            : """
            ranked AS (
                SELECT j.id, j.priority, best.priority AS chunk_priority, best.id AS chunk_id
                FROM crawl_jobs j
                CROSS JOIN LATERAL (
                    SELECT c.priority, c.id FROM crawl_chunks c WHERE c.job_id = j.id AND \(claimable)
                    ORDER BY c.priority DESC, c.id LIMIT 1
                ) best
                WHERE j.status IN ('pending', 'running') AND $4::bigint IS NULL
            ),
            candidate AS (
                SELECT picked.id, picked.status AS previous_status
                FROM (SELECT id FROM ranked ORDER BY chunk_priority DESC, priority DESC, chunk_id) r
                CROSS JOIN LATERAL (
                    SELECT c.id, c.status FROM crawl_chunks c WHERE c.job_id = r.id AND \(claimable)
                    ORDER BY c.priority DESC, c.id LIMIT 1 FOR UPDATE SKIP LOCKED
                ) picked
                LIMIT 1
            ),
            """
        // The job row is locked last (after the worker row), so claimers of one job queue on it briefly.
        let rows = try connection.queryPrepared(
            """
            WITH \(candidate)
            chunk AS (
                UPDATE crawl_chunks c SET status = 'active', lease_owner = $1, lease_token = $2,
                    lease_expires_at = \(SQLDialect.postgres.nowPlus(seconds: 3)), attempts = c.attempts + 1,
                    updated_at = now()
                FROM candidate WHERE c.id = candidate.id
                RETURNING c.*, candidate.previous_status
            ),
            worker AS (
                UPDATE workers w SET current_chunk_id = chunk.id, heartbeat_at = now() FROM chunk WHERE w.id = $1
                RETURNING w.id
            ),
            job AS (
                UPDATE crawl_jobs j SET
                    active_chunks = j.active_chunks + CASE WHEN chunk.previous_status = 'pending' THEN 1 ELSE 0 END,
                    status = CASE WHEN j.status = 'pending' THEN 'running' ELSE j.status END,
                    started_at = COALESCE(j.started_at, now()), updated_at = now()
                FROM chunk LEFT JOIN worker ON true WHERE j.id = chunk.job_id
                RETURNING j.*
            )
            SELECT \(columns(chunkColumns, table: "chunk", prefix: "")), \(columns(jobColumns, table: "job", prefix: "j_"))
            FROM chunk JOIN job ON job.id = chunk.job_id
            """, .text(workerID), .text(token), .double(leaseSeconds), jobID.map { .int($0) } ?? .null)
        guard let row = rows.first else { return nil }
        return ClaimedChunk(chunk: try chunk(from: row), leaseToken: token, job: try job(from: row.unprefixed("j_")))
    }

    /// The SQLite claim, inside the caller's `BEGIN IMMEDIATE` transaction (which serialises every writer).
    static func claimSQLite(
        _ connection: any SQLConnection, workerID: String, token: String, leaseSeconds: Double, jobID: Int64?
    ) throws -> ClaimedChunk? {
        let dialect = connection.dialect
        let candidates = try connection.query(
            """
            SELECT c.id, c.status FROM crawl_chunks c JOIN crawl_jobs j ON j.id = c.job_id
            WHERE (c.status = 'pending' OR (c.status = 'active' AND c.lease_expires_at < \(dialect.now)))
              AND c.available_at <= \(dialect.now) AND c.attempts < c.max_attempts
              AND j.status IN ('pending', 'running') AND ($1 = 0 OR c.job_id = $2)
            ORDER BY c.priority DESC, j.priority DESC, c.id
            LIMIT 1
            """, .int(jobID == nil ? 0 : 1), .int(jobID ?? 0))
        guard let candidate = candidates.first, let chunkID = candidate.int64("id") else { return nil }
        let wasPending = candidate.string("status") == "pending"
        let updated = try connection.query(
            """
            UPDATE crawl_chunks SET status = 'active', lease_owner = $2, lease_token = $3,
                lease_expires_at = \(dialect.nowPlus(seconds: 4)), attempts = attempts + 1,
                updated_at = \(dialect.now)
            WHERE id = $1 RETURNING \(Self.chunkColumns)
            """, .int(chunkID), .text(workerID), .text(token), .double(leaseSeconds))
        let chunk = try Self.chunk(from: try updated.first.orThrow("chunk"))
        try connection.query(
            """
            UPDATE crawl_jobs SET active_chunks = active_chunks + $2,
                status = CASE WHEN status = 'pending' THEN 'running' ELSE status END,
                started_at = COALESCE(started_at, \(dialect.now)), updated_at = \(dialect.now)
            WHERE id = $1
            """, .int(chunk.jobID), .int(wasPending ? 1 : 0))
        try connection.query(
            "UPDATE workers SET current_chunk_id = $2, heartbeat_at = \(dialect.now) WHERE id = $1",
            .text(workerID), .int(chunk.id))
        let job = try connection.query("SELECT \(Self.jobColumns) FROM crawl_jobs WHERE id = $1", .int(chunk.jobID))
        return ClaimedChunk(chunk: chunk, leaseToken: token, job: try Self.job(from: try job.first.orThrow("job")))
    }

    static func newLeaseToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
    }

    /// Active chunks whose lease expired with no attempts left become failed (their worker died on the last try).
    static func failExhaustedExpiredChunks(_ connection: any SQLConnection) throws {
        let now = connection.dialect.now
        let failed = try connection.query(
            """
            UPDATE crawl_chunks SET status = 'failed', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                last_error = COALESCE(last_error, 'lease expired on the last attempt'), updated_at = \(now),
                completed_at = \(now)
            WHERE status = 'active' AND lease_expires_at < \(now) AND attempts >= max_attempts
            RETURNING job_id
            """)
        for row in failed {
            guard let jobID = row.int64("job_id") else { continue }
            try connection.query(
                """
                UPDATE crawl_jobs SET active_chunks = active_chunks - 1, failed_chunks = failed_chunks + 1,
                    updated_at = \(now) WHERE id = $1
                """, .int(jobID))
            try finalizeJobIfDone(connection, jobID: jobID)
        }
    }

    /// Extends the lease; `false` when it was lost (another worker owns the chunk, or it finished).
    public func renewLease(chunkID: Int64, token: String, lease: Duration) async throws -> Bool {
        let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        return try await database.transaction { connection in
            let dialect = connection.dialect
            return
                !(try connection.query(
                    """
                    UPDATE crawl_chunks SET lease_expires_at = \(dialect.nowPlus(seconds: 3)), updated_at = \(dialect.now)
                    WHERE id = $1 AND status = 'active' AND lease_token = $2 AND lease_expires_at >= \(dialect.now)
                    RETURNING id
                    """, .int(chunkID), .text(token), .double(seconds)
                ).isEmpty)
        }
    }

    /// Records a processed slice of a chunk in one transaction: images (duplicates within the job are
    /// skipped and logged as DUPLICATE), error records, counters and the checkpoint. Also renews the lease.
    /// - Throws: ``StoreError/leaseLost(chunk:)`` when the caller no longer holds the lease; nothing is written.
    public func commitProgress(chunkID: Int64, token: String, lease: Duration, progress: ChunkProgress) async throws
        -> ChunkCommitResult
    {
        let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        return try await database.transaction { connection in
            try Self.commitSlice(connection, chunkID: chunkID, token: token, leaseSeconds: seconds, progress: progress)
        }
    }

    static func commitSlice(
        _ connection: any SQLConnection, chunkID: Int64, token: String, leaseSeconds: Double, progress: ChunkProgress
    ) throws -> ChunkCommitResult {
        let dialect = connection.dialect
        let guarded = try connection.query(
            """
            UPDATE crawl_chunks SET checkpoint_cursor = $3, candidates_done = $4,
                lease_expires_at = \(dialect.nowPlus(seconds: 5)), updated_at = \(dialect.now)
            WHERE id = $1 AND status = 'active' AND lease_token = $2 RETURNING job_id
            """, .int(chunkID), .text(token), .optional(progress.checkpoint.cursor),
            .int(progress.checkpoint.candidatesDone), .double(leaseSeconds))
        guard let jobID = guarded.first?.int64("job_id") else { throw StoreError.leaseLost(chunk: chunkID) }
        let recorded = try recordSlice(connection, jobID: jobID, chunkID: chunkID, progress: progress)
        try finalizeJobIfDone(connection, jobID: jobID)
        let status = try connection.query("SELECT status FROM crawl_jobs WHERE id = $1", .int(jobID)).first?
            .string("status")
        let finished = JobStatus(rawValue: status ?? "")?.isFinished ?? true
        return ChunkCommitResult(
            inserted: recorded.inserted, duplicates: recorded.duplicates, surplus: recorded.surplus,
            jobFinished: finished)
    }

    /// What one slice of a chunk wrote.
    struct RecordedSlice {
        var inserted = 0
        var duplicates = 0
        var surplus = 0
    }

    /// Writes a slice's images and error records and moves the job's image counters, inside the caller's
    /// chunk transaction. Never stores more than the job asked for: images past `max_images` are surplus,
    /// not rejects (their blobs stay content-addressed and shared). Duplicates within the job get DUPLICATE
    /// records. The job row is locked first (PostgreSQL), so concurrent slices of one job queue here.
    static func recordSlice(
        _ connection: any SQLConnection, jobID: Int64, chunkID: Int64, progress: ChunkProgress
    ) throws -> RecordedSlice {
        let lock = connection.dialect == .postgres ? "FOR UPDATE" : ""
        let room =
            try connection.query(
                "SELECT max_images - valid_images AS room FROM crawl_jobs WHERE id = $1 \(lock)", .int(jobID)
            ).first?.int("room") ?? 0
        let offered = Array(progress.images.prefix(max(0, room)))
        let inserted = try insertImages(connection, jobID: jobID, chunkID: chunkID, images: offered)
        var errors = progress.errors
        for image in offered where !inserted.contains(ImageIdentity(image)) {
            errors.append(
                NewErrorLog(
                    jobID: jobID, chunkID: chunkID, category: .duplicate, severity: .info,
                    message: "DUPLICATE: same image already in this job", url: image.originalURL,
                    context: ["sha256": image.sha256]))
        }
        try insertErrors(
            connection,
            errors.map { error in
                var error = error
                error.jobID = error.jobID ?? jobID
                error.chunkID = error.chunkID ?? chunkID
                return error
            })
        try connection.query(
            """
            UPDATE crawl_jobs SET total_images = total_images + $2, valid_images = valid_images + $2,
                downloaded_images = downloaded_images + $3, updated_at = \(connection.dialect.now)
            WHERE id = $1
            """, .int(jobID), .int(inserted.count), .int(progress.downloaded))
        return RecordedSlice(
            inserted: inserted.count, duplicates: offered.count - inserted.count,
            surplus: progress.images.count - offered.count)
    }

    /// What tells two image rows of a job apart for the caller: bytes and URL together.
    struct ImageIdentity: Hashable {
        let sha256: String
        let url: String
        init(_ image: NewImage) {
            sha256 = image.sha256
            url = image.originalURL
        }
        init(sha256: String, url: String) {
            self.sha256 = sha256
            self.url = url
        }
    }

    /// Inserts images with one multi-row statement per batch; returns the identities actually inserted.
    static func insertImages(_ connection: any SQLConnection, jobID: Int64, chunkID: Int64?, images: [NewImage])
        throws -> Set<ImageIdentity>
    {
        var inserted = Set<ImageIdentity>()
        // Two images of one slice with the same sha256 or URL: keep the first, the other is a duplicate.
        var seenSHA = Set<String>()
        var seenURL = Set<String>()
        let unique = images.filter { seenSHA.insert($0.sha256).inserted && seenURL.insert($0.originalURL).inserted }
        let columns = 26
        let keptColumnsIndex = 20
        for start in stride(from: 0, to: unique.count, by: 200) {
            let batch = unique[start..<min(start + 200, unique.count)]
            var placeholders: [String] = []
            var binds: [SQLValue] = []
            binds.reserveCapacity(batch.count * columns)
            for image in batch {
                let base = binds.count
                placeholders.append(
                    "("
                        + (1...columns).map { "$\(base + $0)" + ($0 == keptColumnsIndex ? connection.dialect.jsonCast : "") }
                        .joined(separator: ", ") + ")")
                binds += [
                    .int(jobID), chunkID.map { .int($0) } ?? .null, .text(image.originalURL), .text(image.filename),
                    .optional(image.storageURL), .int(image.width), .int(image.height), .int(image.fileSize),
                    .text(image.format.rawValue), .text(image.sha256),
                    image.perceptualHash.map { .int(Int64(bitPattern: $0)) } ?? .null, .text(image.keyword),
                    .text(image.source), .optional(image.license), .optional(image.licenseVersion),
                    .optional(image.creator), .optional(image.landingURL), .optional(image.title), .text(image.sha256),
                    try image.keptColumns.map { try SQLValue.json($0) } ?? .null,
                    .optional(image.derivative?.sha256),
                ]
                let sizes = image.derivative.map { [$0.byteCount, $0.width, $0.height, $0.originalWidth, $0.originalHeight] }
                binds += (0..<5).map { index in sizes.map { .int(Int64($0[index])) } ?? .null }
            }
            let rows = try connection.query(
                """
                INSERT INTO images (crawl_job_id, chunk_id, original_url, filename, storage_url, width, height,
                    file_size, format, sha256, perceptual_hash, keyword, source, license, license_version, creator,
                    landing_url, title, hash, kept_columns, derivative_sha256, derivative_size, derivative_width,
                    derivative_height, derivative_original_width, derivative_original_height)
                VALUES \(placeholders.joined(separator: ", "))
                ON CONFLICT DO NOTHING RETURNING sha256, original_url
                """, binds)
            for row in rows {
                if let sha = row.string("sha256"), let url = row.string("original_url") {
                    inserted.insert(ImageIdentity(sha256: sha, url: url))
                }
            }
        }
        return inserted
    }

    static func insertErrors(_ connection: any SQLConnection, _ errors: [NewErrorLog]) throws {
        let columns = 7
        let dialect = connection.dialect
        for start in stride(from: 0, to: errors.count, by: 300) {
            let batch = errors[start..<min(start + 300, errors.count)]
            var placeholders: [String] = []
            var binds: [SQLValue] = []
            for error in batch {
                let base = binds.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5), $\(base + 6), "
                        + "$\(base + 7)\(dialect.jsonCast))")
                binds += [
                    error.jobID.map { .int($0) } ?? .null, error.chunkID.map { .int($0) } ?? .null,
                    .text(error.category.rawValue), .text(error.severity.rawValue), .text(error.message),
                    .optional(error.url), try SQLValue.json(error.context),
                ]
            }
            _ = columns
            try connection.query(
                """
                INSERT INTO error_logs (job_id, chunk_id, category, severity, message, url, context)
                VALUES \(placeholders.joined(separator: ", "))
                """, binds)
        }
    }

    /// Completes a chunk, optionally committing its last slice in the same transaction (no top-up planning).
    /// - Returns: `false` when the lease was lost: nothing is written and the caller drops its result.
    public func completeChunk(chunkID: Int64, token: String, finalProgress: ChunkProgress?) async throws -> Bool {
        try await completeChunk(
            chunkID: chunkID, token: token, finalProgress: finalProgress, sourceExhausted: false, topUp: nil) != nil
    }

    /// Ends a failed attempt: back to pending after `retryAfter` while attempts remain, else failed for good.
    /// - Returns: the outcome, or `nil` when the lease was lost (nothing written).
    public func failChunkAttempt(
        chunkID: Int64, token: String, error: NewErrorLog, retryAfter: Duration
    ) async throws -> ChunkFailureOutcome? {
        let delay = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
        return try await database.transaction { connection in
            let dialect = connection.dialect
            // The lease is checked by the statement that ends the attempt (PostgreSQL re-checks it after waiting
            // for a concurrent takeover), and the counters move only when that statement found the chunk.
            let ended = try connection.query(
                """
                UPDATE crawl_chunks SET
                    status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
                    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
                    last_error = $3, available_at = \(dialect.nowPlus(seconds: 4)), updated_at = \(dialect.now),
                    completed_at = CASE WHEN attempts >= max_attempts THEN \(dialect.now) ELSE NULL END
                WHERE id = $1 AND status = 'active' AND lease_token = $2
                RETURNING job_id, attempts, max_attempts
                """, .int(chunkID), .text(token), .text(error.message), .double(delay))
            guard let row = ended.first, let jobID = row.int64("job_id") else { return nil }
            let attempts = row.int("attempts") ?? 0
            let exhausted = attempts >= (row.int("max_attempts") ?? 3)
            var record = error
            record.jobID = jobID
            record.chunkID = chunkID
            try Self.insertErrors(connection, [record])
            try connection.query(
                """
                UPDATE crawl_jobs SET active_chunks = active_chunks - 1, failed_chunks = failed_chunks + $2,
                    updated_at = \(dialect.now) WHERE id = $1
                """, .int(jobID), .int(exhausted ? 1 : 0))
            if exhausted { try Self.finalizeJobIfDone(connection, jobID: jobID) }
            return exhausted ? .failed : .willRetry(attempt: attempts)
        }
    }

    /// Gives a chunk back without penalty (graceful shutdown): pending again, the attempt not counted,
    /// the checkpoint kept. `false` when the lease was already lost.
    public func releaseChunk(chunkID: Int64, token: String) async throws -> Bool {
        try await database.transaction { connection in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                UPDATE crawl_chunks SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = \(dialect.now)
                WHERE id = $1 AND status = 'active' AND lease_token = $2 RETURNING job_id
                """, .int(chunkID), .text(token))
            guard let jobID = rows.first?.int64("job_id") else { return false }
            try connection.query(
                "UPDATE crawl_jobs SET active_chunks = active_chunks - 1, updated_at = \(dialect.now) WHERE id = $1",
                .int(jobID))
            return true
        }
    }
}
