import Foundation
import PixCore
import PixSQL

/// What the export stage needs from storage: export jobs claimed under a lease, and the expiring download
/// records that hand their archives out. ``SQLCrawlStore`` implements it over SQLite and PostgreSQL.
///
/// An export moves `pending → running → completed | failed`, and `completed → expired` once every download
/// record of it has expired and its archive may be deleted (``expireExports(limit:)``). Only the SHA-256 of a
/// download token is ever stored. Times (`expires_at`, leases) are computed by the database clock, so every
/// process and machine agrees on what has expired.
public protocol ExportStore: Sendable {
    /// Queues an export of a crawl job (status `pending`).
    /// - Parameter new: The job, format, options and requesting user.
    /// - Returns: The stored export.
    func createExport(_ new: NewExportJob) async throws -> ExportJobRecord

    /// One export by id.
    /// - Parameter id: The export's id.
    func export(id: Int64) async throws -> ExportJobRecord?

    /// The exports of a crawl job, newest first.
    /// - Parameter crawlJobID: The crawl job's id.
    func exports(crawlJobID: Int64) async throws -> [ExportJobRecord]

    /// Claims the oldest claimable export: a pending one, or a running one whose lease expired (taken over).
    /// Running exports whose lease expired on their last attempt are failed on the way.
    /// PostgreSQL uses `FOR UPDATE SKIP LOCKED`; SQLite holds the write lock (`BEGIN IMMEDIATE`).
    /// - Parameters:
    ///   - workerID: Who claims it (a worker id, or the CLI process).
    ///   - lease: How long the claim holds without a progress update.
    ///   - exportID: Claim only this export; `nil` claims any.
    /// - Returns: The export, now `running`, with a fresh lease token; `nil` when nothing is claimable.
    func claimExport(workerID: String, lease: Duration, exportID: Int64?) async throws -> ClaimedExport?

    /// Records progress and renews the lease.
    /// - Parameters:
    ///   - exportID: The export.
    ///   - token: The lease token from ``claimExport(workerID:lease:exportID:)``.
    ///   - lease: The renewed lease duration.
    ///   - progress: Counts and percentage.
    /// - Returns: `false` when the caller no longer holds the lease (nothing was written).
    func updateExportProgress(exportID: Int64, token: String, lease: Duration, progress: ExportProgress) async throws
        -> Bool

    /// Marks an export completed with its published archive and, in the same transaction, issues its first
    /// download record.
    /// - Parameters:
    ///   - exportID: The export.
    ///   - token: The lease token.
    ///   - archive: Where the archive is, its size, SHA-256 and image counts.
    ///   - download: The first download record, or `nil` for none.
    /// - Returns: The completed export (its `download_url` and `expires_at` reflect `download`).
    /// - Throws: A lease-lost ``StoreError`` when the caller no longer holds the lease; nothing is written.
    func completeExport(exportID: Int64, token: String, archive: CompletedArchive, download: NewDownloadRecord?)
        async throws -> ExportJobRecord

    /// Marks an export failed with a message.
    /// - Parameters:
    ///   - exportID: The export.
    ///   - token: The lease token.
    ///   - message: What went wrong, for the person reading `export list`.
    /// - Returns: `false` when the caller no longer holds the lease.
    func failExport(exportID: Int64, token: String, message: String) async throws -> Bool

    /// Gives a claimed export back (status `pending`, lease cleared) so another process can run it, for
    /// example when a worker shuts down mid-export.
    /// - Parameters:
    ///   - exportID: The export.
    ///   - token: The lease token.
    /// - Returns: `false` when the caller no longer holds the lease.
    func releaseExport(exportID: Int64, token: String) async throws -> Bool

    /// Issues a download record for a completed export; the export's `download_url` and `expires_at` follow.
    /// - Parameters:
    ///   - exportID: The export; it must be `completed`.
    ///   - record: The token's hash, lifetime and URL.
    /// - Throws: An invalid-input ``StoreError`` when the export is missing or not completed.
    func createDownloadRecord(exportID: Int64, _ record: NewDownloadRecord) async throws -> DownloadRecord

    /// The download records of an export, newest first.
    /// - Parameter exportID: The export.
    func downloadRecords(exportID: Int64) async throws -> [DownloadRecord]

    /// The download record with this token hash, live or not.
    /// - Parameter tokenHash: SHA-256 of the token, 64 lowercase hex digits.
    func downloadRecord(tokenHash: String) async throws -> DownloadRecord?

    /// Counts one download if the token is live and its export completed (`download_count + 1`,
    /// `last_download_at = now`), atomically; says why otherwise.
    /// - Parameter tokenHash: SHA-256 of the presented token.
    func recordDownload(tokenHash: String) async throws -> DownloadAuthorization

    /// Marks `expired` every completed export that has download records and none of them live, and returns
    /// them so their archives can be deleted. An export with a live record is never returned.
    /// - Parameter limit: Most exports to expire in one call.
    func expireExports(limit: Int) async throws -> [ExpiredExport]
}

/// An export to queue.
public struct NewExportJob: Sendable, Hashable {
    /// The crawl job whose valid images are exported.
    public var crawlJobID: Int64
    /// Who asked for it, when known.
    public var userID: UUID?
    /// A display name.
    public var name: String?
    /// `zip`, `tar`, `tar.gz`, `webdataset`, `csv` or `jsonl`.
    public var format: String
    /// The export options as a JSON object, stored as given.
    public var optionsJSON: String

    /// Creates an export request.
    /// - Parameters:
    ///   - crawlJobID: The crawl job.
    ///   - userID: The requesting profile.
    ///   - name: A display name (at most 100 characters).
    ///   - format: The archive format.
    ///   - optionsJSON: The options as a JSON object.
    public init(crawlJobID: Int64, userID: UUID? = nil, name: String? = nil, format: String, optionsJSON: String = "{}") {
        self.crawlJobID = crawlJobID
        self.userID = userID
        self.name = name
        self.format = format
        self.optionsJSON = optionsJSON
    }
}

/// A stored export job.
public struct ExportJobRecord: Sendable, Codable, Hashable, Identifiable {
    /// The export's id.
    public var id: Int64
    /// The crawl job whose images it exports.
    public var crawlJobID: Int64
    /// Who asked for it, when known.
    public var userID: UUID?
    /// A display name.
    public var name: String?
    /// `zip`, `tar`, `tar.gz`, `webdataset`, `csv` or `jsonl`.
    public var format: String
    /// `pending`, `running`, `completed`, `failed` or `expired`.
    public var status: ExportStatus
    /// 0–100.
    public var progress: Int
    /// Images selected for the export (after filters and de-duplication).
    public var totalImages: Int
    /// Images written so far (all of them once completed).
    public var exportedImages: Int
    /// The archive's size in bytes, once completed.
    public var fileSize: Int64?
    /// Where the archive was published, once completed.
    public var filePath: String?
    /// The archive's SHA-256 (lowercase hex), once completed.
    public var sha256: String?
    /// Where the newest download record serves the archive (the token is not part of it).
    public var downloadURL: String?
    /// When the newest download record expires.
    public var expiresAt: Date?
    /// The export options as the JSON object they were given as.
    public var optionsJSON: String
    /// Why it failed, once `failed`.
    public var errorMessage: String?
    /// Claims so far (a takeover after an expired lease counts as one).
    public var attempts: Int
    /// The process running it, while `running`.
    public var leaseOwner: String?
    /// When the running process's claim lapses unless renewed.
    public var leaseExpiresAt: Date?
    /// When the current (or last) attempt started.
    public var startedAt: Date?
    /// When it completed or failed.
    public var completedAt: Date?
    /// When it was queued.
    public var createdAt: Date
    /// When the row last changed.
    public var updatedAt: Date

    /// Creates a record (the store builds them from rows).
    public init(
        id: Int64, crawlJobID: Int64, userID: UUID?, name: String?, format: String, status: ExportStatus,
        progress: Int, totalImages: Int, exportedImages: Int, fileSize: Int64?, filePath: String?, sha256: String?,
        downloadURL: String?, expiresAt: Date?, optionsJSON: String, errorMessage: String?, attempts: Int,
        leaseOwner: String?, leaseExpiresAt: Date?, startedAt: Date?, completedAt: Date?, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.crawlJobID = crawlJobID
        self.userID = userID
        self.name = name
        self.format = format
        self.status = status
        self.progress = progress
        self.totalImages = totalImages
        self.exportedImages = exportedImages
        self.fileSize = fileSize
        self.filePath = filePath
        self.sha256 = sha256
        self.downloadURL = downloadURL
        self.expiresAt = expiresAt
        self.optionsJSON = optionsJSON
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An export claimed by one process, with the token that proves it.
public struct ClaimedExport: Sendable, Hashable {
    /// The export, now `running`.
    public var export: ExportJobRecord
    /// Pass it to every progress, complete, fail or release call.
    public var leaseToken: String

    /// Pairs an export with its lease token.
    public init(export: ExportJobRecord, leaseToken: String) {
        self.export = export
        self.leaseToken = leaseToken
    }
}

/// Progress of a running export.
public struct ExportProgress: Sendable, Hashable {
    /// Images selected for the export.
    public var totalImages: Int
    /// Images written so far.
    public var exportedImages: Int
    /// 0–100 (clamped).
    public var percent: Int

    /// Creates a progress report.
    /// - Parameters:
    ///   - totalImages: Images selected.
    ///   - exportedImages: Images written.
    ///   - percent: 0–100; values outside are clamped.
    public init(totalImages: Int, exportedImages: Int, percent: Int) {
        self.totalImages = max(0, totalImages)
        self.exportedImages = max(0, exportedImages)
        self.percent = min(100, max(0, percent))
    }
}

/// A published archive, as ``ExportStore/completeExport(exportID:token:archive:download:)`` records it.
public struct CompletedArchive: Sendable, Hashable {
    /// Where the archive was published.
    public var filePath: String
    /// Its size in bytes.
    public var fileSize: Int64
    /// Its SHA-256, 64 lowercase hex digits.
    public var sha256: String
    /// Images in it.
    public var exportedImages: Int
    /// Images selected for it.
    public var totalImages: Int

    /// Describes a published archive.
    public init(filePath: String, fileSize: Int64, sha256: String, exportedImages: Int, totalImages: Int) {
        self.filePath = filePath
        self.fileSize = fileSize
        self.sha256 = sha256
        self.exportedImages = exportedImages
        self.totalImages = totalImages
    }
}

/// A download record to issue. The token itself never reaches the store.
public struct NewDownloadRecord: Sendable, Hashable {
    /// SHA-256 of the token, 64 lowercase hex digits.
    public var tokenHash: String
    /// How long the token works, from now by the database clock. Zero or negative issues an expired record.
    public var lifetime: Duration
    /// Where the archive is served from, stored as `export_jobs.download_url`; it must not contain the token.
    public var downloadURL: String?

    /// Describes a record to issue.
    /// - Parameters:
    ///   - tokenHash: SHA-256 of the token.
    ///   - lifetime: How long it works, from now.
    ///   - downloadURL: The URL to record on the export (without the token).
    public init(tokenHash: String, lifetime: Duration, downloadURL: String? = nil) {
        self.tokenHash = tokenHash
        self.lifetime = lifetime
        self.downloadURL = downloadURL
    }
}

/// A stored download record.
public struct DownloadRecord: Sendable, Codable, Hashable, Identifiable {
    /// The record's id.
    public var id: Int64
    /// The export it unlocks.
    public var exportID: Int64
    /// SHA-256 of the token.
    public var tokenHash: String
    /// The token works until this instant, never after.
    public var expiresAt: Date
    /// Downloads counted so far.
    public var downloadCount: Int
    /// When it was issued.
    public var createdAt: Date
    /// When it was last used.
    public var lastDownloadAt: Date?

    /// Creates a record (the store builds them from rows).
    public init(
        id: Int64, exportID: Int64, tokenHash: String, expiresAt: Date, downloadCount: Int, createdAt: Date,
        lastDownloadAt: Date?
    ) {
        self.id = id
        self.exportID = exportID
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
        self.downloadCount = downloadCount
        self.createdAt = createdAt
        self.lastDownloadAt = lastDownloadAt
    }
}

/// The answer to a presented download token.
public enum DownloadAuthorization: Sendable, Hashable {
    /// The token is live: the download was counted (the record shows the new count).
    case granted(DownloadRecord, ExportJobRecord)
    /// The token existed but expired (HTTP 410).
    case expired(DownloadRecord)
    /// The token is live but its export is not downloadable (not completed, or swept).
    case unavailable(DownloadRecord, ExportJobRecord)
    /// No record has this token (HTTP 404).
    case unknown
}

/// An export that ``ExportStore/expireExports(limit:)`` marked expired: its archive may be deleted.
public struct ExpiredExport: Sendable, Hashable {
    /// The export, now `expired`.
    public var exportID: Int64
    /// Its crawl job.
    public var crawlJobID: Int64
    /// The archive to delete, when one was published.
    public var filePath: String?
    /// The archive's recorded size.
    public var fileSize: Int64?

    /// Describes an expired export.
    public init(exportID: Int64, crawlJobID: Int64, filePath: String?, fileSize: Int64?) {
        self.exportID = exportID
        self.crawlJobID = crawlJobID
        self.filePath = filePath
        self.fileSize = fileSize
    }
}
