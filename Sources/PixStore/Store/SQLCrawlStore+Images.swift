import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore {
    static let imageColumns = """
        id, crawl_job_id, chunk_id, original_url, filename, storage_url, width, height, file_size, format, sha256,
        perceptual_hash, keyword, source, license, license_version, creator, landing_url, title, is_valid,
        rejection_reason, created_at, kept_columns, derivative_sha256, derivative_size, derivative_width,
        derivative_height, derivative_original_width, derivative_original_height
        """

    static func image(from row: SQLRow) throws -> ImageRecord {
        ImageRecord(
            id: try row.require(row.int64("id"), "id"),
            jobID: try row.require(row.int64("crawl_job_id"), "crawl_job_id"),
            chunkID: row.int64("chunk_id"),
            image: NewImage(
                originalURL: row.string("original_url") ?? "",
                filename: row.string("filename") ?? "",
                storageURL: row.string("storage_url"),
                width: row.int("width") ?? 0,
                height: row.int("height") ?? 0,
                fileSize: row.int("file_size") ?? 0,
                format: ImageFormat(rawValue: row.string("format") ?? "") ?? .jpeg,
                sha256: row.string("sha256") ?? "",
                perceptualHash: row.int64("perceptual_hash").map { UInt64(bitPattern: $0) },
                keyword: row.string("keyword") ?? "",
                source: row.string("source") ?? "",
                license: row.string("license"),
                licenseVersion: row.string("license_version"),
                creator: row.string("creator"),
                landingURL: row.string("landing_url"),
                title: row.string("title"),
                keptColumns: try row.json([String: String].self, "kept_columns"),
                derivative: derivative(from: row)),
            isValid: row.bool("is_valid") ?? true,
            rejectionReason: row.string("rejection_reason"),
            createdAt: try row.require(row.date("created_at"), "created_at"))
    }

    /// The derivative columns of an image row, `nil` when it has none.
    static func derivative(from row: SQLRow) -> ImageDerivative? {
        guard let sha256 = row.string("derivative_sha256") else { return nil }
        return ImageDerivative(
            sha256: sha256, byteCount: row.int("derivative_size") ?? 0, width: row.int("derivative_width") ?? 0,
            height: row.int("derivative_height") ?? 0, originalWidth: row.int("derivative_original_width") ?? 0,
            originalHeight: row.int("derivative_original_height") ?? 0)
    }

    /// Records images outside a chunk (imports, tests); counters follow in the same transaction.
    public func insertImages(jobID: Int64, images: [NewImage]) async throws -> Int {
        try await database.transaction { connection in
            let inserted = try Self.insertImages(connection, jobID: jobID, chunkID: nil, images: images)
            try connection.query(
                """
                UPDATE crawl_jobs SET total_images = total_images + $2, valid_images = valid_images + $2,
                    updated_at = \(connection.dialect.now) WHERE id = $1
                """, .int(jobID), .int(inserted.count))
            try Self.refreshProgress(connection, jobID: jobID)
            return inserted.count
        }
    }

    /// A page of a job's images in id order (keyset pagination: pass the last id seen), so exports stream.
    public func images(jobID: Int64, validOnly: Bool, afterID: Int64, limit: Int) async throws -> [ImageRecord] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT \(Self.imageColumns) FROM images
                WHERE crawl_job_id = $1 AND id > $2 AND ($3 = 0 OR is_valid = \(connection.dialect == .postgres ? "TRUE" : "1"))
                ORDER BY id LIMIT $4
                """, .int(jobID), .int(afterID), .int(validOnly ? 1 : 0), .int(limit)
            ).map(Self.image(from:))
        }
    }

    /// One image by id.
    public func image(id: Int64) async throws -> ImageRecord? {
        try await database.read { connection in
            try connection.query("SELECT \(Self.imageColumns) FROM images WHERE id = $1", .int(id))
                .first.map(Self.image(from:))
        }
    }

    /// Image rows of a job, straight from the table: `(total, valid)`.
    public func imageCounts(jobID: Int64) async throws -> (total: Int, valid: Int) {
        try await database.read { connection in
            let row = try connection.query(
                """
                SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN is_valid THEN 1 ELSE 0 END), 0) AS valid
                FROM images WHERE crawl_job_id = $1
                """, .int(jobID)
            ).first
            return (row?.int("total") ?? 0, row?.int("valid") ?? 0)
        }
    }

    /// Marks an image valid or invalid (re-validation); `valid_images` on the job follows in the same transaction.
    public func setImageValidity(imageID: Int64, isValid: Bool, reason: String?) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try connection.query(
                "SELECT crawl_job_id, is_valid FROM images WHERE id = $1", .int(imageID))
            guard let row = rows.first, let jobID = row.int64("crawl_job_id") else { return false }
            let was = row.bool("is_valid") ?? true
            try connection.query(
                "UPDATE images SET is_valid = $2, rejection_reason = $3 WHERE id = $1", .int(imageID), .bool(isValid),
                .optional(isValid ? nil : reason))
            if was != isValid {
                try connection.query(
                    """
                    UPDATE crawl_jobs SET valid_images = valid_images + $2, updated_at = \(connection.dialect.now)
                    WHERE id = $1
                    """, .int(jobID), .int(isValid ? 1 : -1))
                try Self.refreshProgress(connection, jobID: jobID)
            }
            return true
        }
    }

    // MARK: Error and activity logs

    /// Writes error records in one batched transaction.
    public func recordErrors(_ errors: [NewErrorLog]) async throws {
        guard !errors.isEmpty else { return }
        try await database.transaction { connection in try Self.insertErrors(connection, errors) }
    }

    /// Error records of a job by category.
    public func errorSummary(jobID: Int64) async throws -> [ErrorCategory: Int] {
        try await database.read { connection in
            var summary: [ErrorCategory: Int] = [:]
            for row in try connection.query(
                "SELECT category, COUNT(*) AS n FROM error_logs WHERE job_id = $1 GROUP BY category", .int(jobID))
            {
                if let category = ErrorCategory(rawValue: row.string("category") ?? "") {
                    summary[category] = row.int("n") ?? 0
                }
            }
            return summary
        }
    }

    /// The newest error records of a job.
    public func errors(jobID: Int64, limit: Int) async throws -> [ErrorLogEntry] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT id, job_id, chunk_id, category, severity, message, url, context, created_at FROM error_logs
                WHERE job_id = $1 ORDER BY id DESC LIMIT $2
                """, .int(jobID), .int(limit)
            ).map(Self.errorEntry(from:))
        }
    }

    /// An `error_logs` row (every column `errors(jobID:limit:)` selects).
    static func errorEntry(from row: SQLRow) throws -> ErrorLogEntry {
        ErrorLogEntry(
            id: try row.require(row.int64("id"), "id"), jobID: row.int64("job_id"), chunkID: row.int64("chunk_id"),
            category: ErrorCategory(rawValue: row.string("category") ?? "") ?? .network,
            severity: ErrorSeverity(rawValue: row.string("severity") ?? "") ?? .error,
            message: row.string("message") ?? "", url: row.string("url"),
            context: (try? row.json([String: String].self, "context")) ?? [:],
            createdAt: try row.require(row.date("created_at"), "created_at"))
    }

    /// Records a user action.
    public func logActivity(_ activity: NewActivity) async throws {
        let metadata = try SQLValue.json(activity.metadata)
        try await database.transaction { connection in
            try connection.query(
                """
                INSERT INTO activity_logs (user_id, action, resource_type, resource_id, metadata)
                VALUES ($1, $2, $3, $4, $5\(connection.dialect.jsonCast))
                """, activity.userID.map { .uuid($0) } ?? .null, .text(activity.action),
                .optional(activity.resourceType), .optional(activity.resourceID), metadata)
        }
    }

    /// A profile's own activity, newest first (`nil`: actions whose profile was deleted).
    public func activity(userID: UUID?, limit: Int) async throws -> [ActivityLogEntry] {
        try await database.read { connection in
            let rows: [SQLRow]
            if let userID {
                rows = try connection.query(
                    """
                    SELECT id, user_id, action, resource_type, resource_id, metadata, timestamp FROM activity_logs
                    WHERE user_id = $1 ORDER BY id DESC LIMIT $2
                    """, .uuid(userID), .int(limit))
            } else {
                rows = try connection.query(
                    """
                    SELECT id, user_id, action, resource_type, resource_id, metadata, timestamp FROM activity_logs
                    WHERE user_id IS NULL ORDER BY id DESC LIMIT $1
                    """, .int(limit))
            }
            return try rows.map { row in
                ActivityLogEntry(
                    id: try row.require(row.int64("id"), "id"), userID: row.uuid("user_id"),
                    action: row.string("action") ?? "", resourceType: row.string("resource_type"),
                    resourceID: row.string("resource_id"),
                    metadata: (try? row.json([String: String].self, "metadata")) ?? [:],
                    timestamp: try row.require(row.date("timestamp"), "timestamp"))
            }
        }
    }

    // MARK: Workers

    /// Registers (or re-registers) a worker process.
    public func registerWorker(id: String, hostname: String, pid: Int, version: String) async throws {
        try await database.transaction { connection in
            let now = connection.dialect.now
            try connection.query(
                """
                INSERT INTO workers (id, hostname, pid, version, status) VALUES ($1, $2, $3, $4, 'running')
                ON CONFLICT (id) DO UPDATE SET hostname = $2, pid = $3, version = $4, status = 'running',
                    started_at = \(now), heartbeat_at = \(now)
                """, .text(id), .text(hostname), .int(pid), .text(version))
        }
    }

    /// Records a heartbeat, the worker's status and the chunk it is on.
    public func workerHeartbeat(id: String, status: WorkerStatus, currentChunkID: Int64?) async throws {
        try await database.transaction { connection in
            try connection.query(
                """
                UPDATE workers SET heartbeat_at = \(connection.dialect.now), status = $2, current_chunk_id = $3
                WHERE id = $1
                """, .text(id), .text(status.rawValue), currentChunkID.map { .int($0) } ?? .null)
        }
    }

    /// Every registered worker, most recent heartbeat first.
    public func listWorkers() async throws -> [WorkerRecord] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT id, hostname, pid, version, status, current_chunk_id, started_at, heartbeat_at FROM workers
                ORDER BY heartbeat_at DESC
                """
            ).map { row in
                WorkerRecord(
                    id: row.string("id") ?? "", hostname: row.string("hostname") ?? "", pid: row.int("pid") ?? 0,
                    version: row.string("version") ?? "",
                    status: WorkerStatus(rawValue: row.string("status") ?? "") ?? .stopped,
                    currentChunkID: row.int64("current_chunk_id"),
                    startedAt: try row.require(row.date("started_at"), "started_at"),
                    heartbeatAt: try row.require(row.date("heartbeat_at"), "heartbeat_at"))
            }
        }
    }
}
