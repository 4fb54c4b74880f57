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

/// Deletes the archives of exports whose download records have all expired, and marks those exports
/// `expired`. An export with a live record is never touched: the store expires an export and reports its file in
/// one transaction that a concurrent `export link` cannot interleave with.
///
/// It can also sweep the hidden temporary files an interrupted export leaves in the exports directory.
public struct ExportGarbageCollector: Sendable {
    /// The store holding exports and download records.
    public let store: any ExportStore
    /// The exports directory to sweep temporary files from, or `nil` to skip that.
    public let exportsDirectory: URL?
    /// Where the archives are (local paths are deleted here, objects in object storage through its client).
    public let archiveStorage: ArchiveStorage

    /// Creates a collector.
    /// - Parameters:
    ///   - store: The store.
    ///   - exportsDirectory: Where interrupted exports may have left temporary files.
    ///   - archiveStorage: Where the archives are.
    public init(store: any ExportStore, exportsDirectory: URL? = nil, archiveStorage: ArchiveStorage = .local) {
        self.store = store
        self.exportsDirectory = exportsDirectory
        self.archiveStorage = archiveStorage
    }

    /// Expires and deletes, in batches, until no expired export is left.
    /// - Parameter temporaryFileAge: Temporary files older than this are removed (default one day).
    /// - Returns: What was done.
    public func collect(temporaryFileAge: Duration = .seconds(86_400)) async throws -> GarbageCollectionReport {
        var report = GarbageCollectionReport()
        while true {
            let batch = try await store.expireExports(limit: 100)
            for expired in batch {
                if let path = expired.filePath, ArchiveStorage.isObjectURL(path) {
                    let storage = archiveStorage
                    let executor = BlockingPool(threads: 1, label: "pixcrawl.export.gc")
                    report.archives.append(
                        try await executor.run { Self.deleteObject(expired, path: path, storage: storage) })
                    continue
                }
                report.archives.append(Self.delete(expired))
            }
            if batch.count < 100 { break }
        }
        if let exportsDirectory {
            let executor = BlockingPool(threads: 1, label: "pixcrawl.export.gc")
            let seconds = Double(temporaryFileAge.components.seconds)
            report.temporaryFiles = try await executor.run {
                Self.sweepTemporaryFiles(in: exportsDirectory, olderThan: seconds)
            }
        }
        return report
    }

    /// Deletes one expired archive in object storage.
    static func deleteObject(_ expired: ExpiredExport, path: String, storage: ArchiveStorage)
        -> GarbageCollectionReport.Archive
    {
        do {
            guard let existed = try storage.removeObject(path) else {
                return .init(
                    exportID: expired.exportID, path: path, bytes: 0,
                    outcome: .failed("object storage for this archive is not configured"))
            }
            return .init(
                exportID: expired.exportID, path: path, bytes: existed ? expired.fileSize ?? 0 : 0,
                outcome: existed ? .deleted : .alreadyGone)
        } catch {
            return .init(exportID: expired.exportID, path: path, bytes: 0, outcome: .failed("\(error)"))
        }
    }

    /// Deletes one expired archive (regular files only: never a directory or a symbolic link's target).
    static func delete(_ expired: ExpiredExport) -> GarbageCollectionReport.Archive {
        guard let path = expired.filePath else {
            return .init(exportID: expired.exportID, path: nil, bytes: 0, outcome: .noFile)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return .init(
                exportID: expired.exportID, path: path, bytes: 0,
                outcome: errno == ENOENT ? .alreadyGone : .failed(String(cString: strerror(errno))))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return .init(exportID: expired.exportID, path: path, bytes: 0, outcome: .failed("not a regular file"))
        }
        guard unlink(path) == 0 else {
            return .init(
                exportID: expired.exportID, path: path, bytes: 0, outcome: .failed(String(cString: strerror(errno))))
        }
        return .init(exportID: expired.exportID, path: path, bytes: Int64(info.st_size), outcome: .deleted)
    }

    /// Removes `.NAME.RANDOM.partial` files and `.NAME.RANDOM.work` directories older than `age` seconds
    /// under `directory` and its job folders.
    static func sweepTemporaryFiles(in directory: URL, olderThan age: Double) -> [String] {
        let manager = FileManager.default
        let cutoff = Date().addingTimeInterval(-age)
        var removed: [String] = []
        var folders = [directory]
        if let entries = try? manager.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) {
            folders += entries.filter { $0.lastPathComponent.hasPrefix("job-") }
        }
        for folder in folders {
            guard let names = try? manager.contentsOfDirectory(atPath: folder.path) else { continue }
            for name in names where name.hasPrefix(".") && (name.hasSuffix(".partial") || name.hasSuffix(".work")) {
                let url = folder.appendingPathComponent(name)
                guard let modified = (try? manager.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date,
                    modified < cutoff
                else { continue }
                if (try? manager.removeItem(at: url)) != nil { removed.append(url.path) }
            }
        }
        return removed
    }
}

/// What ``ExportGarbageCollector/collect(temporaryFileAge:)`` did.
public struct GarbageCollectionReport: Sendable {
    /// One expired export's archive.
    public struct Archive: Sendable, Hashable {
        /// What happened to the file.
        public enum Outcome: Sendable, Hashable {
            /// The file was deleted.
            case deleted
            /// The file was already gone.
            case alreadyGone
            /// The export had no file recorded.
            case noFile
            /// The file could not be deleted (the reason); the export is expired all the same.
            case failed(String)
        }

        /// The export, now `expired`.
        public var exportID: Int64
        /// Its archive.
        public var path: String?
        /// Bytes freed.
        public var bytes: Int64
        /// What happened.
        public var outcome: Outcome
    }

    /// Expired exports and their archives.
    public var archives: [Archive] = []
    /// Temporary files of interrupted exports that were removed.
    public var temporaryFiles: [String] = []

    /// Bytes freed by deleted archives.
    public var bytesFreed: Int64 { archives.reduce(0) { $0 + $1.bytes } }
}
