import Foundation
import PixCore
import PixS3

/// Where finished export archives live.
///
/// - ``local``: the archive stays where the export pipeline published it (`storage/exports/job-N/…`); its
///   recorded `file_path` is that path.
/// - ``s3(_:)``: the archive is written to a local staging folder, uploaded (multipart when large) to
///   `<prefix>/exports/job-N/<name>` in the bucket, and the local copy removed; its recorded `file_path` is the
///   object's `s3://bucket/key` URL, and each download record's `download_url` is a presigned GET URL that
///   expires with the record (at most 7 days, SigV4's limit). A WebDataset export's shards and shard indexes are
///   also uploaded as objects of their own under `<name>.shards/`, so each can be presigned on its own.
public enum ArchiveStorage: Sendable {
    /// Archives stay in the local exports directory.
    case local
    /// Archives are uploaded to object storage through this client.
    case s3(S3Client)

    /// The longest lifetime a presigned URL may have (SigV4): 7 days.
    public static let maxPresignedLifetime = 604_800

    /// Publishes a finished local archive; returns the location to record as the export's `file_path`.
    /// - Parameters:
    ///   - file: the archive the pipeline wrote.
    ///   - jobID: the crawl job (the archive's folder).
    func publish(_ file: URL, jobID: Int64) throws -> String {
        switch self {
        case .local:
            return file.path
        case .s3(let client):
            let key = client.location.key(for: "exports/job-\(jobID)/\(file.lastPathComponent)")
            if file.lastPathComponent.hasSuffix(ExportFormat.webdataset.fileSuffix) {
                try publishShards(of: file, key: key, client: client)
            }
            do {
                _ = try client.putObject(
                    key: key, file: file, contentType: ArchiveStorage.mediaType(of: file.lastPathComponent))
            } catch {
                _ = try? removeObject(client.location.objectURL(for: key))  // the shard objects uploaded before it
                throw ExportJobError.io("uploading the archive to \(client.location.objectURL(for: key)): \(error)")
            }
            try? FileManager.default.removeItem(at: file)
            return client.location.objectURL(for: key)
        }
    }

    /// Uploads every served shard and index of the WebDataset archive `file` as `<key>.shards/<member>`.
    private func publishShards(of file: URL, key: String, client: S3Client) throws {
        let staged = POSIXFile.temporarySibling(of: file, suffix: "shard")
        defer { POSIXFile.removeFile(staged.path) }
        for member in try TarMembers(path: file.path).members where TarMembers.isServedShard(member.name) {
            try TarMembers.extract(member, of: file.path, to: staged)
            let shardKey = Self.shardLocation(of: key, member: member.name)
            do {
                _ = try client.putObject(key: shardKey, file: staged, contentType: Self.mediaType(of: member.name))
            } catch {
                throw ExportJobError.io("uploading the shard to \(client.location.objectURL(for: shardKey)): \(error)")
            }
        }
    }

    /// Where the shard or index `member` of the WebDataset archive at `location` (a key or `s3://` URL) is stored.
    static func shardLocation(of location: String, member: String) -> String { "\(location).shards/\(member)" }

    /// A presigned URL, valid until `expiresAt`, of the shard or index `member` of the WebDataset archive at the
    /// object-storage `location`; `nil` when that shard object does not exist or the archive is not in object
    /// storage.
    public func presignedShardURL(location: String, member: String, until expiresAt: Date) async throws -> String? {
        let shard = Self.shardLocation(of: location, member: member)
        guard TarMembers.isServedShard(member), case .s3(let client) = self, let key = objectKey(of: shard) else {
            return nil
        }
        let exists = try await BlockingPool(threads: 1, label: "pixcrawl.export.shard").run {
            try client.headObject(key: key) != nil
        }
        return exists ? try presignedURL(location: shard, until: expiresAt) : nil
    }

    /// The object key of a recorded `s3://bucket/key` location in this storage's bucket, or `nil` for a local
    /// path (or another bucket's URL).
    func objectKey(of location: String) -> String? {
        guard case .s3(let client) = self else { return nil }
        let prefix = "s3://\(client.location.bucket)/"
        guard location.hasPrefix(prefix) else { return nil }
        let key = String(location.dropFirst(prefix.count))
        return key.isEmpty ? nil : key
    }

    /// True when `location` is an object URL rather than a local path.
    public static func isObjectURL(_ location: String) -> Bool { location.hasPrefix("s3://") }

    /// The `download_url` to record for a link to the archive at `location`: a presigned URL expiring with the
    /// link for an archive in object storage, else `fallback`.
    func downloadURL(location: String?, lifetime: Duration, now: Date = Date(), fallback: String?) throws -> String? {
        guard case .s3(let client) = self, let location, let key = objectKey(of: location) else { return fallback }
        let seconds = min(Self.maxPresignedLifetime, max(1, Int(lifetime.components.seconds)))
        return try client.presignedGetURL(key: key, expiresIn: seconds, now: now)
    }

    /// A presigned URL for the archive at `location` valid until `expiresAt` (capped at 7 days), or `nil` when it
    /// is not in object storage.
    public func presignedURL(location: String, until expiresAt: Date, now: Date = Date()) throws -> String? {
        guard case .s3(let client) = self, let key = objectKey(of: location) else { return nil }
        let seconds = min(Self.maxPresignedLifetime, max(1, Int(expiresAt.timeIntervalSince(now).rounded(.up))))
        return try client.presignedGetURL(key: key, expiresIn: seconds, now: now)
    }

    /// The size of the archive at `location`; `nil` when it does not exist.
    func size(of location: String) throws -> Int64? {
        if let key = objectKey(of: location), case .s3(let client) = self {
            return try client.headObject(key: key)?.size
        }
        guard !Self.isObjectURL(location) else {
            throw ExportJobError.io("\(location) is in object storage this process is not configured for")
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: location),
            let size = attributes[.size] as? NSNumber
        else { return nil }
        return size.int64Value
    }

    /// Copies the archive at an object-storage `location` to a local file; `false` for a local path (nothing
    /// done: read it in place).
    func fetch(_ location: String, to file: URL) throws -> Bool {
        guard let key = objectKey(of: location), case .s3(let client) = self else {
            guard !Self.isObjectURL(location) else {
                throw ExportJobError.io("\(location) is in object storage this process is not configured for")
            }
            return false
        }
        _ = try client.getObject(key: key, to: file)
        return true
    }

    /// Deletes the archive at an object-storage `location`, and the shard objects of a WebDataset archive; `nil`
    /// for a local path (the caller deletes it).
    func removeObject(_ location: String) throws -> Bool? {
        guard let key = objectKey(of: location), case .s3(let client) = self else { return nil }
        var shards: [String] = []
        try client.listObjects(prefix: Self.shardLocation(of: key, member: "")) { shards.append($0.key) }
        for shard in shards { _ = try client.deleteObject(key: shard) }
        return try client.deleteObject(key: key)
    }

    /// The media type an archive named `filename` is served with (`Content-Type`).
    public static func mediaType(of filename: String) -> String {
        if filename.hasSuffix(".zip") { return "application/zip" }
        if filename.hasSuffix(".tar.gz") || filename.hasSuffix(".tgz") { return "application/gzip" }
        if filename.hasSuffix(".tar") { return "application/x-tar" }
        if filename.hasSuffix(".csv") { return "text/csv" }
        if filename.hasSuffix(".jsonl") { return "application/jsonl" }
        if filename.hasSuffix(".json") { return "application/json" }
        return "application/octet-stream"
    }
}
