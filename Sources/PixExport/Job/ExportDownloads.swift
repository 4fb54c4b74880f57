import Crypto
import Foundation
import PixCore
import PixStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Download links of finished exports: issuing fresh tokens, and copying an archive out for a live token with
/// its size and SHA-256 verified.
public struct ExportDownloads: Sendable {
    /// The store holding exports and download records.
    public let store: any ExportStore
    /// The `download_url` recorded for new links; it never contains the token.
    public let downloadURL: @Sendable (Int64) -> String?
    /// Where the archives are (a presigned URL becomes the `download_url` of an archive in object storage).
    public let archiveStorage: ArchiveStorage

    /// Creates the link service.
    /// - Parameters:
    ///   - store: The store.
    ///   - downloadURL: The recorded download URL of an export id (default `/v1/exports/ID/download`).
    ///   - archiveStorage: Where the archives are.
    public init(
        store: any ExportStore, downloadURL: @escaping @Sendable (Int64) -> String? = { "/v1/exports/\($0)/download" },
        archiveStorage: ArchiveStorage = .local
    ) {
        self.store = store
        self.downloadURL = downloadURL
        self.archiveStorage = archiveStorage
    }

    /// Issues a fresh token for a completed export whose archive still exists with its recorded size.
    /// - Parameters:
    ///   - exportID: The export.
    ///   - lifetime: How long the token works.
    /// - Returns: The token (shown once) and its stored record.
    public func issueLink(exportID: Int64, lifetime: LinkLifetime = .default) async throws -> IssuedLink {
        guard let export = try await store.export(id: exportID) else {
            throw ExportJobError.notFound("export \(exportID)")
        }
        guard export.status == .completed, let path = export.filePath else {
            throw ExportJobError.exportUnavailable(exportID: exportID, status: export.status.rawValue)
        }
        let storage = archiveStorage
        let executor = BlockingPool(threads: 1, label: "pixcrawl.export.link")
        try await executor.run { try Self.checkArchive(of: export, path: path, storage: storage) }
        let token = DownloadToken.generate()
        let url = try storage.downloadURL(location: path, lifetime: lifetime.duration, fallback: downloadURL(exportID))
        let record = try await store.createDownloadRecord(
            exportID: exportID,
            NewDownloadRecord(tokenHash: token.hash, lifetime: lifetime.duration, downloadURL: url))
        return IssuedLink(token: token, record: record)
    }

    /// Copies the archive of a live token to `destination`, counting the download.
    ///
    /// The copy is written under a hidden temporary name next to `destination`, synced, read back and checked
    /// against the recorded size and SHA-256; only a matching copy is renamed to `destination`. A mismatch removes
    /// the copy and throws ``ExportJobError/Code/integrityMismatch``.
    /// - Parameters:
    ///   - token: The token as the user holds it.
    ///   - destination: The file to write, or an existing directory to write the archive's own name into.
    /// - Returns: What was written and the record after counting.
    /// - Throws: ``ExportJobError/Code/tokenExpired`` after expiry, ``ExportJobError/Code/unknownToken`` for a token
    ///   no record has, ``ExportJobError/Code/exportUnavailable`` when the export has no archive.
    public func download(token: String, to destination: URL) async throws -> DownloadedArchive {
        let hash = DownloadToken.hash(of: DownloadToken(token).value)
        switch try await store.recordDownload(tokenHash: hash) {
        case .unknown:
            throw ExportJobError.unknownToken()
        case .expired(let record):
            throw ExportJobError.tokenExpired(
                exportID: record.exportID, at: record.expiresAt.formatted(.iso8601))
        case .unavailable(_, let export):
            throw ExportJobError.exportUnavailable(exportID: export.id, status: export.status.rawValue)
        case .granted(let record, let export):
            guard let path = export.filePath, let size = export.fileSize, let sha256 = export.sha256 else {
                throw ExportJobError.exportUnavailable(exportID: export.id, status: "missing its archive record")
            }
            if path.hasSuffix(ExportFormat.webdataset.fileSuffix) {
                return try await unpackWebDataset(
                    export: export, path: path, size: size, sha256: sha256, record: record,
                    into: destination.standardizedFileURL)
            }
            var target = destination.standardizedFileURL
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue {
                target = target.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent)
            }
            let output = target
            let storage = archiveStorage
            let executor = BlockingPool(threads: 1, label: "pixcrawl.export.download")
            try await executor.run {
                let staged = POSIXFile.temporarySibling(of: output).appendingPathExtension("fetch")
                defer { POSIXFile.removeFile(staged.path) }
                let source = try storage.localCopy(of: path, exportID: export.id, staging: staged)
                try ArchiveCopy.copyVerified(exportID: export.id, from: source, to: output, size: size, sha256: sha256)
            }
            return DownloadedArchive(
                exportID: export.id, file: output, size: size, sha256: sha256, record: record)
        }
    }

    /// A WebDataset export: its shards, indexes and manifests into `directory`, each shard checked against its index.
    private func unpackWebDataset(
        export: ExportJobRecord, path: String, size: Int64, sha256: String, record: DownloadRecord, into directory: URL
    ) async throws -> DownloadedArchive {
        let storage = archiveStorage
        let executor = BlockingPool(threads: 1, label: "pixcrawl.export.download")
        let files = try await executor.run {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let staged = directory.appendingPathComponent(".export-\(export.id).fetch")
            defer { POSIXFile.removeFile(staged.path) }
            let source = try storage.localCopy(of: path, exportID: export.id, staging: staged)
            return try WebDatasetUnpacker.unpack(exportID: export.id, archive: source, into: directory)
        }
        return DownloadedArchive(
            exportID: export.id, file: directory, size: size, sha256: sha256, record: record, files: files)
    }

    static func checkArchive(of export: ExportJobRecord, path: String, storage: ArchiveStorage) throws {
        if ArchiveStorage.isObjectURL(path) {
            let size: Int64?
            do {
                size = try storage.size(of: path)
            } catch let error as ExportJobError {
                throw error
            } catch {
                throw ExportJobError.archiveMissing(exportID: export.id, path: path, reason: "cannot be read: \(error)")
            }
            guard let size else {
                throw ExportJobError.archiveMissing(exportID: export.id, path: path, reason: "does not exist")
            }
            if let recorded = export.fileSize, size != recorded {
                throw ExportJobError.archiveMissing(
                    exportID: export.id, path: path, reason: "has \(size) bytes, not the recorded \(recorded)")
            }
            return
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ExportJobError.archiveMissing(
                exportID: export.id, path: path, reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        if let size = export.fileSize, Int64(info.st_size) != size {
            throw ExportJobError.archiveMissing(
                exportID: export.id, path: path, reason: "has \(info.st_size) bytes, not the recorded \(size)")
        }
    }
}

extension ArchiveStorage {
    /// The archive at `location` as a local file: itself for a local path, else fetched to `staging`.
    func localCopy(of location: String, exportID: Int64, staging: URL) throws -> URL {
        do {
            return try fetch(location, to: staging) ? staging : URL(fileURLWithPath: location)
        } catch let error as ExportJobError {
            throw error
        } catch {
            throw ExportJobError.archiveMissing(exportID: exportID, path: location, reason: "cannot be fetched (\(error))")
        }
    }
}

/// A freshly issued download link.
public struct IssuedLink: Sendable {
    /// The token: show it once, it is not stored.
    public var token: DownloadToken
    /// The stored record (hash, expiry).
    public var record: DownloadRecord
}

/// An archive copied out by ``ExportDownloads/download(token:to:)``.
public struct DownloadedArchive: Sendable {
    /// The export.
    public var exportID: Int64
    /// The verified copy.
    public var file: URL
    /// Its size in bytes.
    public var size: Int64
    /// Its SHA-256, as recorded and verified.
    public var sha256: String
    /// The download record after counting this download.
    public var record: DownloadRecord
    /// For a WebDataset export: the shards, indexes and manifests written into ``file`` (a directory), each
    /// shard verified against its index; empty for a single-file archive.
    public var files: [String] = []
}

/// Copies a file under a temporary name, then verifies the copy before renaming it into place.
enum ArchiveCopy {
    static func copyVerified(exportID: Int64, from source: URL, to destination: URL, size: Int64, sha256: String) throws {
        let input: Int32
        do {
            input = try POSIXFile.openFile(source.path, flags: O_RDONLY, operation: "open the archive")
        } catch {
            throw ExportJobError.archiveMissing(exportID: exportID, path: source.path, reason: "cannot be opened (\(error))")
        }
        defer { POSIXFile.closeFile(input) }
        let temporary = POSIXFile.temporarySibling(of: destination)
        let output = try POSIXFile.openFile(
            temporary.path, flags: O_WRONLY | O_CREAT | O_EXCL, operation: "create the download file")
        var outputOpen = true
        var published = false
        defer {
            if outputOpen { POSIXFile.closeFile(output) }
            if !published { POSIXFile.removeFile(temporary.path) }
        }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { block.deallocate() }
        POSIXFile.adviseSequential(input)
        var offset: UInt64 = 0
        while true {
            let got = try POSIXFile.readFully(input, into: block, at: offset, path: source.path)
            if got == 0 { break }
            try POSIXFile.writeAll(output, UnsafeRawBufferPointer(rebasing: block[0..<got]), path: temporary.path)
            offset += UInt64(got)
        }
        try POSIXFile.syncFile(output, path: temporary.path)
        POSIXFile.closeFile(output)
        outputOpen = false

        // Verify what was written, not what was read.
        let check = try POSIXFile.openFile(temporary.path, flags: O_RDONLY, operation: "read back the download file")
        defer { POSIXFile.closeFile(check) }
        var hasher = SHA256()
        var written: UInt64 = 0
        while true {
            let got = try POSIXFile.readFully(check, into: block, at: written, path: temporary.path)
            if got == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: block[0..<got]))
            written += UInt64(got)
        }
        guard written == UInt64(max(0, size)) else {
            throw ExportJobError.integrityMismatch(
                exportID: exportID, detail: "\(written) bytes written, \(size) recorded")
        }
        let digest = Hex.string(hasher.finalize())
        guard digest == sha256.lowercased() else {
            throw ExportJobError.integrityMismatch(
                exportID: exportID, detail: "SHA-256 \(digest) written, \(sha256) recorded")
        }
        try POSIXFile.renameFile(temporary.path, to: destination.path)
        published = true
        POSIXFile.syncDirectory(destination.deletingLastPathComponent().path)
    }
}
