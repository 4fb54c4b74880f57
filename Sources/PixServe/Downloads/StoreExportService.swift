import Foundation
import PixBlob
import PixCore
import PixExport
import PixStore

/// ``ExportService`` over the store's export facet: exports are queued for workers with the export stage's
/// option checks, links are issued with ``ExportDownloads``, expired archives are swept with
/// ``ExportGarbageCollector``.
public struct StoreExportService: ExportService {
    let store: any ExportJobStore
    let runner: ExportJobRunner
    let downloads: ExportDownloads
    let collector: ExportGarbageCollector
    let archiveStorage: ArchiveStorage

    /// - Parameters:
    ///   - store: the crawl store with its export facet.
    ///   - blobs: the image files the exports read.
    ///   - exportsDirectory: where archives are published (`storage/exports`).
    ///   - archiveStorage: where archives are kept (local, or object storage: downloads then redirect to a
    ///     presigned URL that expires with the link).
    public init(
        store: any ExportJobStore, blobs: any BlobStore, exportsDirectory: URL, archiveStorage: ArchiveStorage = .local
    ) {
        self.store = store
        self.archiveStorage = archiveStorage
        let downloadURL: @Sendable (Int64) -> String? = { _ in "/downloads/" }
        self.runner = ExportJobRunner(
            store: store, blobs: blobs,
            configuration: ExportJobRunner.Configuration(
                exportsDirectory: exportsDirectory, workerID: "serve", downloadURL: downloadURL,
                archiveStorage: archiveStorage))
        self.downloads = ExportDownloads(store: store, downloadURL: downloadURL, archiveStorage: archiveStorage)
        self.collector = ExportGarbageCollector(
            store: store, exportsDirectory: exportsDirectory, archiveStorage: archiveStorage)
    }

    static func summary(_ record: ExportJobRecord) -> ExportSummary {
        ExportSummary(
            id: record.id, jobID: record.crawlJobID, userID: record.userID, format: record.format, status: record.status,
            progress: record.progress, totalImages: record.totalImages, exportedImages: record.exportedImages,
            fileSize: record.fileSize.map { Int($0) }, downloadURL: nil, expiresAt: record.expiresAt,
            errorMessage: record.errorMessage, createdAt: record.createdAt, completedAt: record.completedAt)
    }

    public func requestExport(jobID: Int64, userID: UUID, request: ExportRequest) async throws -> ExportSummary {
        guard let format = ExportFormat(rawValue: request.format) else {
            throw APIError.validation(field: "format", reason: "unknown format \(request.format.debugDescription)")
        }
        var options = ExportOptions(
            layout: ExportLayout(rawValue: request.layout ?? "flat") ?? .flat, nearDuplicateDistance: request.dedupNear,
            split: request.split, seed: request.seed ?? 0, minWidth: request.minWidth, minHeight: request.minHeight,
            linkLifetimeSeconds: (request.expiresInHours ?? 168) * 3600, shardSize: request.shardSize ?? 1000)
        options.resize = request.resize
        do {
            return Self.summary(
                try await runner.enqueue(crawlJobID: jobID, format: format, options: options, userID: userID, name: request.name))
        } catch let error as ExportJobError where error.code == .invalidOptions {
            throw APIError.validation(field: nil, reason: error.description)
        }
    }

    public func export(id: Int64) async throws -> ExportSummary? {
        try await store.export(id: id).map(Self.summary)
    }

    public func exports(jobID: Int64) async throws -> [ExportSummary] {
        try await store.exports(crawlJobID: jobID).map(Self.summary)
    }

    public func issueLink(exportID: Int64, lifetime: Duration) async throws -> IssuedDownload {
        do {
            let link = try await downloads.issueLink(
                exportID: exportID, lifetime: try LinkLifetime(parsing: "\(max(1, lifetime.components.seconds))s"))
            return IssuedDownload(
                exportID: exportID, downloadURL: "/downloads/\(link.token.value)", expiresAt: link.record.expiresAt)
        } catch let error as ExportJobError where error.code == .exportUnavailable {
            throw APIError.conflict("export \(exportID) has no downloadable archive (\(error.description))")
        }
    }

    func lookup(record: DownloadRecord, export: ExportJobRecord) -> DownloadLookup {
        guard export.status == .completed, let path = export.filePath, let size = export.fileSize else {
            return .expired
        }
        var archive = DownloadableArchive(
            exportID: export.id, userID: export.userID, path: path, size: Int(size), sha256: export.sha256,
            filename: URL(fileURLWithPath: path).lastPathComponent, expiresAt: record.expiresAt)
        if ArchiveStorage.isObjectURL(path) {
            // In object storage: the download redirects to a presigned URL that expires with the link.
            archive.redirectURL = try? archiveStorage.presignedURL(location: path, until: record.expiresAt)
        }
        return .ready(archive)
    }

    public func download(tokenHash: String) async throws -> DownloadLookup {
        guard let record = try await store.downloadRecord(tokenHash: tokenHash) else { return .unknown }
        guard record.expiresAt > Date(), let export = try await store.export(id: record.exportID) else { return .expired }
        return lookup(record: record, export: export)
    }

    public func recordDownload(tokenHash: String) async throws -> DownloadLookup {
        switch try await store.recordDownload(tokenHash: tokenHash) {
        case .unknown: return .unknown
        case .expired, .unavailable: return .expired
        case .granted(let record, let export): return lookup(record: record, export: export)
        }
    }

    public func shardRedirectURL(_ archive: DownloadableArchive, member: String) async throws -> String? {
        try await archiveStorage.presignedShardURL(location: archive.path, member: member, until: archive.expiresAt)
    }

    public func sweepExpired() async throws -> Int {
        try await collector.collect().archives.count
    }
}
