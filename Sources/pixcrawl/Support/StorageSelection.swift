import Foundation
import PixBlob

/// Where image files live, as `--storage`/`--storage-dir` or `$PIXCRAWL_STORAGE_URL` give it: a directory, a
/// `file://` URL, or `s3://bucket/prefix?endpoint=…` for S3-compatible object storage.
enum StorageSelection {
    /// The storage value in force: the option, else `$PIXCRAWL_STORAGE_URL`, else `$PIXCRAWL_STORAGE_DIR`, else
    /// `storage`.
    static func value(_ given: String?) -> String {
        let environment = ProcessInfo.processInfo.environment
        return given ?? environment["PIXCRAWL_STORAGE_URL"] ?? environment["PIXCRAWL_STORAGE_DIR"] ?? "storage"
    }

    /// Opens the blob store a storage value names.
    static func blobStore(_ given: String?) throws -> any BlobStore {
        let value = value(given)
        if value.hasPrefix("file://") {
            guard let url = URL(string: value), url.isFileURL else {
                throw CLIError("cannot read the storage URL \(value); give a directory, file:// or s3:// URL")
            }
            return LocalBlobStore(root: url.standardizedFileURL)
        }
        if value.contains("://") {
            throw CLIError("unsupported storage URL \(value.prefix(24))…; give a directory, file:// or s3:// URL")
        }
        return LocalBlobStore(root: URL(fileURLWithPath: value, isDirectory: true))
    }
}
