import Foundation
import PixCore

/// A URL list staged in the shared storage, as one owner submitted it (the `url_lists` row).
public struct URLListRecord: Sendable, Hashable, Codable {
    /// The profile that submitted it.
    public var ownerID: UUID
    /// SHA-256 of the uncompressed list: its id (`list:<sha256>` in job sources) and the name of its objects.
    public var sha256: String
    /// `text`, `csv`, `tsv` or `jsonl`.
    public var format: String
    /// Column names (CSV/TSV header, JSONL keys of the first row); empty for text.
    public var columns: [String]
    /// Data rows.
    public var rows: Int64
    /// Stored size in bytes.
    public var bytes: Int64
    /// When it was first submitted by this owner.
    public var createdAt: Date

    /// Creates a record.
    public init(
        ownerID: UUID, sha256: String, format: String, columns: [String], rows: Int64, bytes: Int64,
        createdAt: Date = Date()
    ) {
        self.ownerID = ownerID
        self.sha256 = sha256
        self.format = format
        self.columns = columns
        self.rows = rows
        self.bytes = bytes
        self.createdAt = createdAt
    }
}

extension SQLCrawlStore {
    static let listColumns = "owner_id, sha256, format, columns, rows, bytes, created_at"

    /// Records that `list.ownerID` submitted a staged list; submitting the same content again changes nothing.
    /// - Returns: the row as stored (the first submission's).
    @discardableResult
    public func registerList(_ list: URLListRecord) async throws -> URLListRecord {
        let columns = String(decoding: try JSONEncoder().encode(list.columns), as: UTF8.self)
        return try await database.transaction { connection in
            let dialect = connection.dialect
            _ = try connection.query(
                """
                INSERT INTO url_lists (owner_id, sha256, format, columns, rows, bytes)
                VALUES ($1, $2, $3, $4\(dialect.jsonCast), $5, $6) ON CONFLICT (owner_id, sha256) DO NOTHING
                """, .uuid(list.ownerID), .text(list.sha256), .text(list.format), .text(columns), .int(list.rows),
                .int(list.bytes))
            let rows = try connection.query(
                "SELECT \(Self.listColumns) FROM url_lists WHERE owner_id = $1 AND sha256 = $2", .uuid(list.ownerID),
                .text(list.sha256))
            return try Self.urlList(from: try rows.first.orThrow("url list"))
        }
    }

    /// The lists `ownerID` submitted, newest first.
    public func lists(ownerID: UUID, limit: Int = 100, offset: Int = 0) async throws -> [URLListRecord] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT \(Self.listColumns) FROM url_lists WHERE owner_id = $1 ORDER BY created_at DESC, sha256
                LIMIT $2 OFFSET $3
                """, .uuid(ownerID), .int(Int64(max(1, limit))), .int(Int64(max(0, offset)))
            ).map(Self.urlList(from:))
        }
    }

    /// One list of `ownerID`, or nil when this owner never submitted it.
    public func list(ownerID: UUID, sha256: String) async throws -> URLListRecord? {
        try await database.read { connection in
            try connection.query(
                "SELECT \(Self.listColumns) FROM url_lists WHERE owner_id = $1 AND sha256 = $2", .uuid(ownerID),
                .text(sha256)
            ).first.map(Self.urlList(from:))
        }
    }

    /// Deletes the rows of lists no job names in its sources (`list:<sha256>`) and returns their ids, whose
    /// stored objects may then be removed. A list is kept while any owner's job uses it, and while any owner's
    /// row of it is younger than `cutoff` (its job may still be on its way).
    public func deleteUnusedLists(submittedBefore cutoff: Date) async throws -> [String] {
        try await database.transaction { connection in
            let unused = try connection.query(
                """
                SELECT DISTINCT sha256 FROM url_lists l WHERE NOT EXISTS (
                    SELECT 1 FROM crawl_jobs j WHERE CAST(j.sources AS TEXT) LIKE '%list:' || l.sha256 || '%')
                AND NOT EXISTS (SELECT 1 FROM url_lists r WHERE r.sha256 = l.sha256 AND r.created_at >= $1)
                """, .date(cutoff)
            ).compactMap { $0.string("sha256")?.trimmingCharacters(in: .whitespaces) }
            for sha256 in unused {
                _ = try connection.query("DELETE FROM url_lists WHERE sha256 = $1", .text(sha256))
            }
            return unused.sorted()
        }
    }

    static func urlList(from row: SQLRow) throws -> URLListRecord {
        let columns = row.string("columns").flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        return URLListRecord(
            ownerID: try row.require(row.uuid("owner_id"), "owner_id"),
            sha256: try row.require(row.string("sha256"), "sha256").trimmingCharacters(in: .whitespaces),
            format: row.string("format") ?? "text", columns: columns ?? [], rows: row.int64("rows") ?? 0,
            bytes: row.int64("bytes") ?? 0, createdAt: row.date("created_at") ?? Date())
    }
}
