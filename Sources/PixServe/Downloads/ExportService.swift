import Foundation
import PixCore
import PixExport

/// An export job as the API shows it.
public struct ExportSummary: Codable, Sendable, Hashable {
    public var id: Int64
    public var jobID: Int64
    /// The profile that asked for it (download activity is recorded for them).
    public var userID: UUID?
    public var format: String
    public var status: ExportStatus
    public var progress: Int
    public var totalImages: Int
    public var exportedImages: Int
    public var fileSize: Int?
    /// `/downloads/{token}` when this answer issued a link (``ExportService/issueLink(exportID:lifetime:)``);
    /// tokens are never stored, so a later read has no link, only ``expiresAt`` of the newest one.
    public var downloadURL: String?
    /// When the newest download link expires.
    public var expiresAt: Date?
    public var errorMessage: String?
    public var createdAt: Date
    public var completedAt: Date?

    public init(
        id: Int64, jobID: Int64, userID: UUID?, format: String, status: ExportStatus, progress: Int = 0,
        totalImages: Int = 0, exportedImages: Int = 0, fileSize: Int? = nil, downloadURL: String? = nil,
        expiresAt: Date? = nil, errorMessage: String? = nil, createdAt: Date, completedAt: Date? = nil
    ) {
        self.id = id
        self.jobID = jobID
        self.userID = userID
        self.format = format
        self.status = status
        self.progress = progress
        self.totalImages = totalImages
        self.exportedImages = exportedImages
        self.fileSize = fileSize
        self.downloadURL = downloadURL
        self.expiresAt = expiresAt
        self.errorMessage = errorMessage
        self.createdAt = createdAt
        self.completedAt = completedAt
    }
}

/// What a client asks of an export (`POST /v1/jobs/{id}/exports`).
public struct ExportRequest: Codable, Sendable, Hashable {
    /// Archive formats an export can take.
    public static let formats: [String] = ["zip", "tar", "tar.gz", "webdataset", "csv", "jsonl"]
    /// Folder layouts inside an archive.
    public static let layouts: [String] = ["flat", "imagefolder"]

    public var format: String
    public var layout: String?
    /// How long the first download link stays live, in hours (default 168, at most 720).
    public var expiresInHours: Int?
    /// Export only images at least this wide / high.
    public var minWidth: Int?
    public var minHeight: Int?
    /// Drop near duplicates within this dHash Hamming distance (0–64).
    public var dedupNear: Int?
    /// Split weights, e.g. `train=0.8,val=0.2` (as `pixcrawl export --split`).
    public var split: String?
    /// Seed of the split assignment (default 0).
    public var seed: UInt64?
    /// Samples per WebDataset shard (default 1,000).
    public var shardSize: Int?
    /// Resize and re-encode every image: `{"size": N, "mode": "center_crop", "only_if_bigger": false,
    /// "encode": "jpeg", "quality": 95}` (modes and encodings in ``ResizeMode`` and ``ResizeEncoding``).
    public var resize: ResizeOptions?
    /// A display name for the export (as `pixcrawl export --name`), at most 200 characters.
    public var name: String?

    enum CodingKeys: String, CodingKey {
        case format, layout
        case expiresInHours = "expires_in_hours"
        case minWidth = "min_width"
        case minHeight = "min_height"
        case dedupNear = "dedup_near"
        case split, seed
        case shardSize = "shard_size"
        case resize, name
    }

    public init(
        format: String, layout: String? = nil, expiresInHours: Int? = nil, minWidth: Int? = nil, minHeight: Int? = nil,
        dedupNear: Int? = nil, split: String? = nil, seed: UInt64? = nil, shardSize: Int? = nil
    ) {
        self.format = format
        self.layout = layout
        self.expiresInHours = expiresInHours
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.dedupNear = dedupNear
        self.split = split
        self.seed = seed
        self.shardSize = shardSize
    }

    /// The request with defaults filled in, or the first problem, naming its field.
    /// - Throws: ``APIError`` 422.
    public func validated() throws -> ExportRequest {
        let format = self.format.lowercased()
        guard Self.formats.contains(format) else {
            throw APIError.validation(
                field: "format",
                reason: "unknown format \(self.format.debugDescription); use one of \(Self.formats.joined(separator: ", "))")
        }
        let layout = (self.layout ?? "flat").lowercased()
        guard Self.layouts.contains(layout) else {
            throw APIError.validation(field: "layout", reason: "must be flat or imagefolder")
        }
        let hours = expiresInHours ?? 168
        try APIBounds.check(hours, APIBounds.linkHours, field: "expires_in_hours")
        for (value, field) in [(minWidth, "min_width"), (minHeight, "min_height")] {
            if let value { try APIBounds.check(value, APIBounds.exportMinSide, field: field) }
        }
        if let dedupNear { try APIBounds.check(dedupNear, APIBounds.dedupNear, field: "dedup_near") }
        if let resize {
            try APIBounds.check(resize)
            guard format != "csv" && format != "jsonl" else {
                throw APIError.validation(field: "resize", reason: "applies to zip, tar, tar.gz and webdataset")
            }
        }
        if let shardSize { try APIBounds.check(shardSize, APIBounds.shardSize, field: "shard_size") }
        if let seed, seed > UInt64(APIBounds.seed.upperBound) {
            throw APIError.validation(field: "seed", reason: "must be between 0 and \(APIBounds.seed.upperBound)")
        }
        let split = self.split?.trimmingCharacters(in: .whitespaces)
        if let split, !split.isEmpty {
            do {
                _ = try ExportOptions(split: split).splitRatios()
            } catch let error as ExportJobError {
                throw APIError.validation(field: "split", reason: error.description)
            }
        }
        var request = ExportRequest(
            format: format, layout: layout, expiresInHours: hours, minWidth: minWidth, minHeight: minHeight,
            dedupNear: dedupNear, split: split?.isEmpty == false ? split : nil, seed: seed, shardSize: shardSize)
        request.resize = resize
        if let name { try APIBounds.check(name, APIBounds.exportName, field: "name") }
        let name = self.name?.trimmingCharacters(in: .whitespacesAndNewlines)
        request.name = name?.isEmpty == false ? name : nil
        return request
    }
}

/// A published archive behind a live download link.
public struct DownloadableArchive: Sendable, Hashable {
    public var exportID: Int64
    /// The owner of the export, for the activity log.
    public var userID: UUID?
    /// Local path of the archive file.
    public var path: String
    /// Its size in bytes.
    public var size: Int
    /// Its SHA-256 (hex), the download's strong ETag; `nil` falls back to size and modification time.
    public var sha256: String?
    /// File name offered to the browser.
    public var filename: String
    public var expiresAt: Date
    /// For an archive in object storage: a presigned URL expiring with the link, which the download redirects to.
    public var redirectURL: String?

    public init(
        exportID: Int64, userID: UUID?, path: String, size: Int, sha256: String?, filename: String, expiresAt: Date,
        redirectURL: String? = nil
    ) {
        self.redirectURL = redirectURL
        self.exportID = exportID
        self.userID = userID
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.filename = filename
        self.expiresAt = expiresAt
    }
}

/// What a download token leads to.
public enum DownloadLookup: Sendable, Hashable {
    /// No such token (or its record was swept long ago).
    case unknown
    /// The token existed but its link expired: 410 Gone.
    case expired
    /// The archive is live.
    case ready(DownloadableArchive)
}

/// A download link just issued: the token appears here once and is never stored.
public struct IssuedDownload: Codable, Sendable, Hashable {
    public var exportID: Int64
    /// `/downloads/{token}`.
    public var downloadURL: String
    public var expiresAt: Date

    public init(exportID: Int64, downloadURL: String, expiresAt: Date) {
        self.exportID = exportID
        self.downloadURL = downloadURL
        self.expiresAt = expiresAt
    }
}

/// Export jobs and their download records, as the server needs them.
///
/// ``StoreExportService`` implements it over the store's export facet; the server stays independent of how
/// exports are queued and written. Download tokens reach implementations only as their SHA-256.
public protocol ExportService: Sendable {
    /// Queues an export of a job's images (a worker claims and writes it).
    func requestExport(jobID: Int64, userID: UUID, request: ExportRequest) async throws -> ExportSummary
    /// One export, or `nil`.
    func export(id: Int64) async throws -> ExportSummary?
    /// The exports of a job, newest first.
    func exports(jobID: Int64) async throws -> [ExportSummary]
    /// Issues a fresh download link for a completed export.
    /// - Throws: ``APIError`` 409 when the export has no published archive.
    func issueLink(exportID: Int64, lifetime: Duration) async throws -> IssuedDownload
    /// What a download token (given as its SHA-256) leads to, without counting a download.
    func download(tokenHash: String) async throws -> DownloadLookup
    /// Counts one served download if the token is still live; says what the token leads to now.
    func recordDownload(tokenHash: String) async throws -> DownloadLookup
    /// Marks exports whose links all expired and removes their archives; returns how many were swept.
    func sweepExpired() async throws -> Int
    /// For a WebDataset archive in object storage: a presigned URL, expiring with the link, of its shard or index
    /// `member`; `nil` when there is no such shard object.
    func shardRedirectURL(_ archive: DownloadableArchive, member: String) async throws -> String?
}

extension ExportService {
    public func shardRedirectURL(_ archive: DownloadableArchive, member: String) async throws -> String? { nil }
}
