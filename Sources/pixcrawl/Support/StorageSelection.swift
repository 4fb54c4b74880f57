import Foundation
import Logging
import PixBlob
import PixCore
import PixExport
import PixS3

/// Where image files and export archives live, as `--storage`/`--storage-dir` or `$PIXCRAWL_STORAGE_URL` give it:
/// a directory, a `file://` URL, or `s3://bucket/prefix?endpoint=…&region=…` for S3-compatible object storage
/// (credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`).
struct StorageSelection {
    /// The parsed location.
    let location: BlobStorageLocation

    /// The storage value in force: the option, else `$PIXCRAWL_STORAGE_URL`, else `$PIXCRAWL_STORAGE_DIR`, else
    /// `storage`.
    static func value(_ given: String?) -> String {
        let environment = ProcessInfo.processInfo.environment
        return given ?? environment["PIXCRAWL_STORAGE_URL"] ?? environment["PIXCRAWL_STORAGE_DIR"] ?? "storage"
    }

    /// Parses the storage value in force.
    init(_ given: String?) throws {
        do {
            location = try BlobStorageLocation.parse(Self.value(given), environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Opens the blob store a storage value names.
    static func blobStore(_ given: String?) throws -> any BlobStore {
        try StorageSelection(given).blobStore()
    }

    /// The blob store of this location.
    func blobStore(logger: Logger = Logger(label: "pixcrawl.s3")) throws -> any BlobStore {
        do {
            return try location.makeBlobStore(environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Where staged URL lists live at this location (`lists/` beside the images).
    func listStore() throws -> any ListObjectStore {
        do {
            return try location.makeListStore(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The local storage root, or `nil` for object storage.
    var localRoot: URL? {
        if case .local(let root) = location { return root }
        return nil
    }

    /// Where finished archives go: kept in the exports directory, or uploaded next to the images.
    func archiveStorage() throws -> ArchiveStorage {
        switch location {
        case .local:
            return .local
        case .s3(let s3):
            do {
                let credentials = try S3Credentials.fromEnvironment(ProcessInfo.processInfo.environment)
                return .s3(S3Client(location: s3, credentials: credentials))
            } catch {
                throw CLIError("\(error)")
            }
        }
    }

    /// The directory archives are written to: `ROOT/exports` for local storage; for object storage a staging
    /// folder (`$PIXCRAWL_EXPORT_STAGING_DIR`, else the system's temporary directory) they are uploaded from.
    func exportsDirectory(override: String? = nil) -> URL {
        if let override { return URL(fileURLWithPath: override, isDirectory: true).standardizedFileURL }
        switch location {
        case .local(let root):
            return root.appendingPathComponent("exports", isDirectory: true)
        case .s3:
            let environment = ProcessInfo.processInfo.environment
            if let staging = environment["PIXCRAWL_EXPORT_STAGING_DIR"], !staging.isEmpty {
                return URL(fileURLWithPath: staging, isDirectory: true).standardizedFileURL
            }
            return FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixcrawl-export-staging", isDirectory: true)
        }
    }
}

extension StorageSelection {
    /// An export runner reading this storage's images and publishing archives to it.
    func exportRunner(
        store: any ExportJobStore, workerID: String, exportsOverride: String? = nil, logger: Logger
    ) throws -> ExportJobRunner {
        ExportJobRunner(
            store: store, blobs: try blobStore(),
            configuration: .init(
                exportsDirectory: exportsDirectory(override: exportsOverride), workerID: workerID,
                archiveStorage: try archiveStorage()),
            logger: logger)
    }

    /// Download links and downloads of this storage's archives.
    func exportDownloads(store: any ExportJobStore) throws -> ExportDownloads {
        ExportDownloads(store: store, archiveStorage: try archiveStorage())
    }

    /// The sweeper of this storage's expired archives.
    func garbageCollector(store: any ExportJobStore, exportsOverride: String? = nil) throws -> ExportGarbageCollector {
        ExportGarbageCollector(
            store: store, exportsDirectory: exportsDirectory(override: exportsOverride),
            archiveStorage: try archiveStorage())
    }
}

/// How a published archive is shown: its path, or its `s3://` URL.
func describeArchive(_ url: URL) -> String { url.isFileURL ? url.path : url.absoluteString }
