import Foundation
import PixCore
import PixServe
import Synchronization

/// Export jobs and download records kept in memory, with archives written to a folder: the server's side of
/// exports and downloads tested without the export stage.
final class InMemoryExportService: ExportService, Sendable {
    struct Record: Sendable {
        var summary: ExportSummary
        var tokenHash: String?
        var path: String?
        var downloads = 0
    }

    let directory: URL
    private let state = Mutex<(nextID: Int64, records: [Int64: Record])>((1, [:]))

    init(directory: URL) {
        self.directory = directory
    }

    func requestExport(jobID: Int64, userID: UUID, request: ExportRequest) async throws -> ExportSummary {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let summary = ExportSummary(
                id: id, jobID: jobID, userID: userID, format: request.format, status: .pending, createdAt: Date())
            state.records[id] = Record(summary: summary)
            return summary
        }
    }

    /// Completes an export the way a worker would: writes `bytes` as its archive and issues a download token.
    /// - Returns: the token (the secret part of the download link).
    func complete(exportID: Int64, bytes: [UInt8], expiresAt: Date) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("export-\(exportID).zip").path
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let token = APITokenGenerator.generate(scheme: "dl_").token
        state.withLock { state in
            state.records[exportID]?.tokenHash = APITokenGenerator.hash(token)
            state.records[exportID]?.path = path
            state.records[exportID]?.summary.status = .completed
            state.records[exportID]?.summary.progress = 100
            state.records[exportID]?.summary.fileSize = bytes.count
            state.records[exportID]?.summary.downloadURL = "/downloads/\(token)"
            state.records[exportID]?.summary.expiresAt = expiresAt
            state.records[exportID]?.summary.completedAt = Date()
        }
        return token
    }

    func downloadCount(exportID: Int64) -> Int {
        state.withLock { $0.records[exportID]?.downloads ?? 0 }
    }

    func export(id: Int64) async throws -> ExportSummary? {
        state.withLock { $0.records[id]?.summary }
    }

    func exports(jobID: Int64) async throws -> [ExportSummary] {
        state.withLock { $0.records.values.map(\.summary).filter { $0.jobID == jobID }.sorted { $0.id > $1.id } }
    }

    func download(tokenHash: String, now: Date) async throws -> DownloadLookup {
        state.withLock { state in
            guard
                let record = state.records.values.first(where: {
                    $0.tokenHash.map { APITokenGenerator.constantTimeEquals($0, tokenHash) } ?? false
                }), let path = record.path, let expiresAt = record.summary.expiresAt
            else { return .unknown }
            if expiresAt <= now { return .expired }
            return .ready(
                DownloadableArchive(
                    exportID: record.summary.id, userID: record.summary.userID, path: path,
                    size: record.summary.fileSize ?? 0, sha256: nil, filename: "export-\(record.summary.id).zip",
                    expiresAt: expiresAt))
        }
    }

    func recordDownload(tokenHash: String) async throws {
        state.withLock { state in
            for (id, record) in state.records where record.tokenHash == tokenHash { state.records[id]?.downloads += 1 }
        }
    }

    func sweepExpired(now: Date) async throws -> Int { 0 }
}
