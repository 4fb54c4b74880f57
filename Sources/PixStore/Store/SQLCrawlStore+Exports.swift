import Foundation
import PixCore
import PixSQL

extension SQLCrawlStore: ExportStore {
    /// Attempts an export gets before an expired lease fails it instead of handing it to another process.
    static let exportMaxAttempts = 3

    static let exportColumns = """
        id, crawl_job_id, user_id, name, format, status, progress, total_images, exported_images, file_size,
        file_path, sha256, download_url, expires_at, export_options, error_message, attempts, lease_owner,
        lease_expires_at, started_at, completed_at, created_at, updated_at
        """

    static let downloadColumns = "id, export_id, token_hash, expires_at, download_count, created_at, last_download_at"

    static func export(from row: SQLRow) throws -> ExportJobRecord {
        ExportJobRecord(
            id: try row.require(row.int64("id"), "id"),
            crawlJobID: try row.require(row.int64("crawl_job_id"), "crawl_job_id"),
            userID: row.uuid("user_id"),
            name: row.string("name"),
            format: row.string("format") ?? "",
            status: try row.require(ExportStatus(rawValue: row.string("status") ?? ""), "status"),
            progress: row.int("progress") ?? 0,
            totalImages: row.int("total_images") ?? 0,
            exportedImages: row.int("exported_images") ?? 0,
            fileSize: row.int64("file_size"),
            filePath: row.string("file_path"),
            sha256: row.string("sha256"),
            downloadURL: row.string("download_url"),
            expiresAt: row.date("expires_at"),
            optionsJSON: row.string("export_options") ?? "{}",
            errorMessage: row.string("error_message"),
            attempts: row.int("attempts") ?? 0,
            leaseOwner: row.string("lease_owner"),
            leaseExpiresAt: row.date("lease_expires_at"),
            startedAt: row.date("started_at"),
            completedAt: row.date("completed_at"),
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"))
    }

    static func downloadRecord(from row: SQLRow) throws -> DownloadRecord {
        DownloadRecord(
            id: try row.require(row.int64("id"), "id"),
            exportID: try row.require(row.int64("export_id"), "export_id"),
            tokenHash: row.string("token_hash") ?? "",
            expiresAt: try row.require(row.date("expires_at"), "expires_at"),
            downloadCount: row.int("download_count") ?? 0,
            createdAt: try row.require(row.date("created_at"), "created_at"),
            lastDownloadAt: row.date("last_download_at"))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func exportLeaseLost(_ exportID: Int64) -> StoreError {
        StoreError(
            .leaseLost, subject: "export \(exportID)",
            detail: "lease on export \(exportID) was lost (another process took it over, or it finished)")
    }

    static func checkTokenHash(_ hash: String) throws {
        let utf8 = hash.utf8
        guard utf8.count == 64, utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw StoreError.invalidInput(
                field: "token_hash", reason: "must be the SHA-256 of the token as 64 lowercase hex digits")
        }
    }

    // MARK: Export jobs

    /// Queues an export of a crawl job (status `pending`).
    public func createExport(_ new: NewExportJob) async throws -> ExportJobRecord {
        if let name = new.name, name.count > 100 {
            throw StoreError.invalidInput(field: "name", reason: "at most 100 characters")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(new.optionsJSON.utf8))) is [String: Any] else {
            throw StoreError.invalidInput(field: "export_options", reason: "must be a JSON object")
        }
        return try await database.transaction { connection in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                INSERT INTO export_jobs (crawl_job_id, user_id, name, format, export_options)
                VALUES ($1, $2\(dialect.uuidCast), $3, $4, $5\(dialect.jsonCast))
                RETURNING \(Self.exportColumns)
                """, .int(new.crawlJobID), new.userID.map { .uuid($0) } ?? .null, .optional(new.name),
                .text(new.format), .text(new.optionsJSON))
            return try Self.export(from: try rows.first.orThrow("export"))
        }
    }

    /// One export by id.
    public func export(id: Int64) async throws -> ExportJobRecord? {
        try await database.withConnection { connection in
            try connection.query("SELECT \(Self.exportColumns) FROM export_jobs WHERE id = $1", .int(id))
                .first.map(Self.export(from:))
        }
    }

    /// The exports of a crawl job, newest first.
    public func exports(crawlJobID: Int64) async throws -> [ExportJobRecord] {
        try await database.withConnection { connection in
            try connection.query(
                "SELECT \(Self.exportColumns) FROM export_jobs WHERE crawl_job_id = $1 ORDER BY id DESC",
                .int(crawlJobID)
            ).map(Self.export(from:))
        }
    }

    /// Claims the oldest pending export, or a running one whose lease expired; see
    /// ``ExportStore/claimExport(workerID:lease:exportID:)``.
    public func claimExport(workerID: String, lease: Duration, exportID: Int64? = nil) async throws -> ClaimedExport? {
        let token = Self.newLeaseToken()
        let leaseSeconds = Self.seconds(lease)
        return try await database.transaction { connection in
            let dialect = connection.dialect
            try connection.query(
                """
                UPDATE export_jobs SET status = 'failed', lease_owner = NULL, lease_token = NULL,
                    lease_expires_at = NULL, completed_at = \(dialect.now), updated_at = \(dialect.now),
                    error_message = COALESCE(error_message,
                        'the process running the export stopped (lease expired) on its last attempt')
                WHERE status = 'running' AND lease_expires_at < \(dialect.now) AND attempts >= $1
                """, .int(Self.exportMaxAttempts))
            let lock = dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
            let candidates = try connection.query(
                """
                SELECT id FROM export_jobs
                WHERE (status = 'pending' OR (status = 'running' AND lease_expires_at < \(dialect.now)))
                  AND attempts < $1 AND ($2 = 0 OR id = $3)
                ORDER BY created_at, id LIMIT 1 \(lock)
                """, .int(Self.exportMaxAttempts), .int(exportID == nil ? 0 : 1), .int(exportID ?? 0))
            guard let id = candidates.first?.int64("id") else { return nil }
            let rows = try connection.query(
                """
                UPDATE export_jobs SET status = 'running', lease_owner = $2, lease_token = $3,
                    lease_expires_at = \(dialect.nowPlus(seconds: 4)), attempts = attempts + 1, progress = 0,
                    exported_images = 0, error_message = NULL, started_at = \(dialect.now),
                    updated_at = \(dialect.now)
                WHERE id = $1 RETURNING \(Self.exportColumns)
                """, .int(id), .text(workerID), .text(token), .double(leaseSeconds))
            return ClaimedExport(export: try Self.export(from: try rows.first.orThrow("export")), leaseToken: token)
        }
    }

    /// Records progress and renews the lease; `false` when the lease was lost.
    public func updateExportProgress(exportID: Int64, token: String, lease: Duration, progress: ExportProgress)
        async throws -> Bool
    {
        let leaseSeconds = Self.seconds(lease)
        return try await database.transaction { connection in
            let dialect = connection.dialect
            return
                !(try connection.query(
                    """
                    UPDATE export_jobs SET progress = $3, total_images = $4, exported_images = $5,
                        lease_expires_at = \(dialect.nowPlus(seconds: 6)), updated_at = \(dialect.now)
                    WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING id
                    """, .int(exportID), .text(token), .int(progress.percent), .int(progress.totalImages),
                    .int(progress.exportedImages), .double(leaseSeconds)
                ).isEmpty)
        }
    }

    /// Marks an export completed and issues its first download record in the same transaction.
    public func completeExport(
        exportID: Int64, token: String, archive: CompletedArchive, download: NewDownloadRecord?
    ) async throws -> ExportJobRecord {
        if let download { try Self.checkTokenHash(download.tokenHash) }
        guard archive.fileSize >= 0, archive.exportedImages >= 0, archive.totalImages >= 0 else {
            throw StoreError.invalidInput(field: "archive", reason: "size and counts must be ≥ 0")
        }
        return try await database.transaction { connection in
            let dialect = connection.dialect
            let updated = try connection.query(
                """
                UPDATE export_jobs SET status = 'completed', progress = 100, file_path = $3, file_size = $4,
                    sha256 = $5, exported_images = $6, total_images = $7, lease_owner = NULL, lease_token = NULL,
                    lease_expires_at = NULL, error_message = NULL, completed_at = \(dialect.now),
                    updated_at = \(dialect.now)
                WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING id
                """, .int(exportID), .text(token), .text(archive.filePath), .int(archive.fileSize),
                .text(archive.sha256), .int(archive.exportedImages), .int(archive.totalImages))
            guard !updated.isEmpty else { throw Self.exportLeaseLost(exportID) }
            if let download {
                _ = try Self.insertDownloadRecord(connection, exportID: exportID, download)
            }
            let rows = try connection.query(
                "SELECT \(Self.exportColumns) FROM export_jobs WHERE id = $1", .int(exportID))
            return try Self.export(from: try rows.first.orThrow("export"))
        }
    }

    /// Marks an export failed with a message; `false` when the lease was lost.
    public func failExport(exportID: Int64, token: String, message: String) async throws -> Bool {
        try await database.transaction { connection in
            let dialect = connection.dialect
            return
                !(try connection.query(
                    """
                    UPDATE export_jobs SET status = 'failed', error_message = $3, lease_owner = NULL, lease_token = NULL,
                        lease_expires_at = NULL, completed_at = \(dialect.now), updated_at = \(dialect.now)
                    WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING id
                    """, .int(exportID), .text(token), .text(String(message.prefix(4000)))
                ).isEmpty)
        }
    }

    /// Gives a claimed export back to the queue; `false` when the lease was lost.
    public func releaseExport(exportID: Int64, token: String) async throws -> Bool {
        try await database.transaction { connection in
            let dialect = connection.dialect
            return
                !(try connection.query(
                    """
                    UPDATE export_jobs SET status = 'pending', lease_owner = NULL, lease_token = NULL,
                        lease_expires_at = NULL, progress = 0, exported_images = 0,
                        attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = \(dialect.now)
                    WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING id
                    """, .int(exportID), .text(token)
                ).isEmpty)
        }
    }

    // MARK: Download records

    /// Inserts a record and points the export's `download_url` / `expires_at` at it.
    static func insertDownloadRecord(_ connection: any SQLConnection, exportID: Int64, _ record: NewDownloadRecord)
        throws -> DownloadRecord
    {
        let dialect = connection.dialect
        let rows = try connection.query(
            """
            INSERT INTO download_records (export_id, token_hash, expires_at)
            VALUES ($1, $2, \(dialect.nowPlus(seconds: 3)))
            RETURNING \(Self.downloadColumns)
            """, .int(exportID), .text(record.tokenHash), .double(Self.seconds(record.lifetime)))
        let inserted = try Self.downloadRecord(from: try rows.first.orThrow("download record"))
        try connection.query(
            """
            UPDATE export_jobs SET download_url = $2,
                expires_at = (SELECT expires_at FROM download_records WHERE id = $3), updated_at = \(dialect.now)
            WHERE id = $1
            """, .int(exportID), .optional(record.downloadURL), .int(inserted.id))
        return inserted
    }

    /// Issues a download record for a completed export.
    public func createDownloadRecord(exportID: Int64, _ record: NewDownloadRecord) async throws -> DownloadRecord {
        try Self.checkTokenHash(record.tokenHash)
        return try await database.transaction { connection in
            // Locks the export row, so a concurrent sweep either sees this record or has already expired it.
            let locked = try connection.query(
                """
                UPDATE export_jobs SET updated_at = \(connection.dialect.now)
                WHERE id = $1 AND status = 'completed' RETURNING id
                """, .int(exportID))
            guard !locked.isEmpty else {
                let status = try connection.query("SELECT status FROM export_jobs WHERE id = $1", .int(exportID))
                    .first?.string("status")
                throw StoreError.invalidInput(
                    field: "export",
                    reason: status.map { "export \(exportID) is \($0); only a completed export can get a download link" }
                        ?? "export \(exportID) does not exist")
            }
            return try Self.insertDownloadRecord(connection, exportID: exportID, record)
        }
    }

    /// The download records of an export, newest first.
    public func downloadRecords(exportID: Int64) async throws -> [DownloadRecord] {
        try await database.withConnection { connection in
            try connection.query(
                "SELECT \(Self.downloadColumns) FROM download_records WHERE export_id = $1 ORDER BY id DESC",
                .int(exportID)
            ).map(Self.downloadRecord(from:))
        }
    }

    /// The download record with this token hash.
    public func downloadRecord(tokenHash: String) async throws -> DownloadRecord? {
        try await database.withConnection { connection in
            try connection.query(
                "SELECT \(Self.downloadColumns) FROM download_records WHERE token_hash = $1", .text(tokenHash)
            ).first.map(Self.downloadRecord(from:))
        }
    }

    /// Counts one download of a live token atomically, or says why it is refused.
    public func recordDownload(tokenHash: String) async throws -> DownloadAuthorization {
        try await database.transaction { connection in
            let now = connection.dialect.now
            let counted = try connection.query(
                """
                UPDATE download_records SET download_count = download_count + 1, last_download_at = \(now)
                WHERE token_hash = $1 AND expires_at > \(now)
                  AND EXISTS (SELECT 1 FROM export_jobs e WHERE e.id = download_records.export_id
                              AND e.status = 'completed')
                RETURNING \(Self.downloadColumns)
                """, .text(tokenHash))
            if let row = counted.first {
                let record = try Self.downloadRecord(from: row)
                let export = try connection.query(
                    "SELECT \(Self.exportColumns) FROM export_jobs WHERE id = $1", .int(record.exportID))
                return .granted(record, try Self.export(from: try export.first.orThrow("export")))
            }
            let found = try connection.query(
                """
                SELECT \(Self.downloadColumns), CASE WHEN expires_at > \(now) THEN 1 ELSE 0 END AS live
                FROM download_records WHERE token_hash = $1
                """, .text(tokenHash))
            guard let row = found.first else { return .unknown }
            let record = try Self.downloadRecord(from: row)
            guard row.int("live") == 1 else { return .expired(record) }
            let export = try connection.query(
                "SELECT \(Self.exportColumns) FROM export_jobs WHERE id = $1", .int(record.exportID))
            return .unavailable(record, try Self.export(from: try export.first.orThrow("export")))
        }
    }

    /// Expires completed exports whose download records have all expired; see
    /// ``ExportStore/expireExports(limit:)``.
    public func expireExports(limit: Int = 100) async throws -> [ExpiredExport] {
        try await database.transaction { connection in
            let now = connection.dialect.now
            // `expires_at <= now` is re-checked on the locked row by PostgreSQL: a link issued concurrently
            // moves it into the future, so that export is left alone.
            return try connection.query(
                """
                UPDATE export_jobs SET status = 'expired', updated_at = \(now)
                WHERE id IN (
                    SELECT e.id FROM export_jobs e
                    WHERE e.status = 'completed' AND e.expires_at <= \(now)
                      AND EXISTS (SELECT 1 FROM download_records d WHERE d.export_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM download_records d WHERE d.export_id = e.id AND d.expires_at > \(now))
                    ORDER BY e.id LIMIT $1)
                  AND status = 'completed' AND expires_at <= \(now)
                  AND NOT EXISTS (SELECT 1 FROM download_records d
                                  WHERE d.export_id = export_jobs.id AND d.expires_at > \(now))
                RETURNING id, crawl_job_id, file_path, file_size
                """, .int(max(1, limit))
            ).map { row in
                ExpiredExport(
                    exportID: try row.require(row.int64("id"), "id"),
                    crawlJobID: try row.require(row.int64("crawl_job_id"), "crawl_job_id"),
                    filePath: row.string("file_path"), fileSize: row.int64("file_size"))
            }
        }
    }
}
