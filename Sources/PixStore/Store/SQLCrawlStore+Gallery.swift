import Foundation
import PixCore

extension SQLCrawlStore {
    /// A page of a job's valid images, newest first (keyset pagination: pass the smallest id seen), for the
    /// dashboard's gallery.
    public func newestImages(jobID: Int64, beforeID: Int64?, limit: Int) async throws -> [ImageRecord] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT \(Self.imageColumns) FROM images
                WHERE crawl_job_id = $1 AND id < $2 AND is_valid = \(connection.dialect == .postgres ? "TRUE" : "1")
                ORDER BY id DESC LIMIT $3
                """, .int(jobID), .int(beforeID ?? Int64.max), .int(limit)
            ).map(Self.image(from:))
        }
    }

    /// The newest error records of one category of a job: examples of what was rejected, and why.
    public func errors(jobID: Int64, category: ErrorCategory, limit: Int) async throws -> [ErrorLogEntry] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT id, job_id, chunk_id, category, severity, message, url, context, created_at FROM error_logs
                WHERE job_id = $1 AND category = $2 ORDER BY id DESC LIMIT $3
                """, .int(jobID), .text(category.rawValue), .int(limit)
            ).map(Self.errorEntry(from:))
        }
    }
}
