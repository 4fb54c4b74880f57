import Foundation
import PixCore
import PixSQL

/// An image row's reference to its stored file, for storage consistency checks (`pixcrawl fsck`).
public struct ImageBlobReference: Sendable, Hashable {
    /// The image row.
    public var imageID: Int64
    /// Its crawl job.
    public var jobID: Int64
    /// The content's SHA-256: with ``format``, the blob's address.
    public var sha256: String
    /// The sniffed format (`jpeg`, `png`, …), when recorded.
    public var format: ImageFormat?
    /// Where the row says the file is.
    public var storageURL: String?
    /// Whether the row counts as a valid image.
    public var isValid: Bool
    /// Why it does not, when it does not.
    public var rejectionReason: String?
    /// The SHA-256 of the derivative made at crawl time, when there is one.
    public var derivativeSHA256: String?
    /// The derivative's format (its job's resize encoding), when there is one.
    public var derivativeFormat: ImageFormat?
}

extension SQLCrawlStore {
    /// The reason recorded on an image row whose file is gone.
    public static let missingBlobReason = "BLOB_MISSING"

    /// A page of every job's image rows in id order (keyset pagination: pass the last id seen).
    public func imageBlobReferences(afterID: Int64, limit: Int) async throws -> [ImageBlobReference] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT i.id, i.crawl_job_id, i.sha256, i.format, i.storage_url, i.is_valid, i.rejection_reason,
                    i.derivative_sha256, j.resize
                FROM images i JOIN crawl_jobs j ON j.id = i.crawl_job_id
                WHERE i.id > $1 ORDER BY i.id LIMIT $2
                """, .int(afterID), .int(max(1, limit))
            ).map { row in
                ImageBlobReference(
                    imageID: try row.require(row.int64("id"), "id"),
                    jobID: try row.require(row.int64("crawl_job_id"), "crawl_job_id"),
                    sha256: row.string("sha256")?.trimmingCharacters(in: .whitespaces) ?? "",
                    format: row.string("format").flatMap(ImageFormat.init(rawValue:)),
                    storageURL: row.string("storage_url"),
                    isValid: row.bool("is_valid") ?? true,
                    rejectionReason: row.string("rejection_reason"), derivativeSHA256: row.string("derivative_sha256"),
                    derivativeFormat: try row.json(ResizeOptions.self, "resize")?.encoding.format)
            }
        }
    }

    /// Forgets an image's derivative (its blob is gone): an export then resizes the original instead.
    /// - Returns: whether the row had one.
    public func clearDerivative(imageID: Int64) async throws -> Bool {
        try await database.transaction { connection in
            !(try connection.query(
                """
                UPDATE images SET derivative_sha256 = NULL, derivative_size = NULL, derivative_width = NULL,
                    derivative_height = NULL, derivative_original_width = NULL, derivative_original_height = NULL
                WHERE id = $1 AND derivative_sha256 IS NOT NULL RETURNING id
                """, .int(imageID)
            ).isEmpty)
        }
    }

    /// Which of `digests` some image row, of any job, refers to: as its original or as its derivative (made at
    /// crawl time by a job that resizes).
    /// - Parameter digests: SHA-256 values (64 lowercase hex digits); asked in batches of at most 500.
    public func referencedDigests(_ digests: some Collection<String>) async throws -> Set<String> {
        var found: Set<String> = []
        let unique = Array(Set(digests))
        var start = 0
        while start < unique.count {
            let batch = Array(unique[start..<min(start + 500, unique.count)])
            start += batch.count
            let placeholders = (1...batch.count).map { "$\($0)" }.joined(separator: ", ")
            let rows = try await database.read { connection in
                try connection.query(
                    """
                    SELECT sha256 FROM images WHERE sha256 IN (\(placeholders))
                    UNION SELECT derivative_sha256 FROM images WHERE derivative_sha256 IN (\(placeholders))
                    """,
                    batch.map { SQLValue.text($0) })
            }
            for row in rows {
                if let digest = row.string("sha256") { found.insert(digest.trimmingCharacters(in: .whitespaces)) }
            }
        }
        return found
    }
}
