import Crypto
import Foundation
import Logging
import PixBlob
import PixCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A ``BlobStore`` in an S3 bucket: objects at `<prefix>/images/ab/cd/<sha256>.<ext>`, storage URLs
/// `s3://bucket/<prefix>/images/ab/cd/<sha256>.<ext>`.
///
/// A write asks `HeadObject` first and uploads nothing when the object exists (`created == false`), so
/// storing a key twice is a no-op as it is for ``LocalBlobStore``. S3 makes an upload visible only when it is
/// complete, so readers never see a partial blob. Errors are ``BlobStoreError``s: `notFound` for a missing
/// blob, `io` (with the S3 error's description) for anything else.
///
/// The API is synchronous and blocks on the network; call it from a thread that may block.
public struct S3BlobStore: BlobStore {
    /// The client the store talks through; its location's prefix is where the store's objects live.
    public let client: S3Client
    /// When true, every `put` hashes the content and refuses one that does not match its key.
    public let verifiesDigest: Bool

    /// Creates a store over `client`, under `client.location.prefix`.
    /// - Parameters:
    ///   - client: the S3 client.
    ///   - verifiesDigest: hash every stored content and refuse mismatched keys (costs one SHA-256 pass).
    public init(client: S3Client, verifiesDigest: Bool = false) {
        self.client = client
        self.verifiesDigest = verifiesDigest
    }

    /// Creates a store and its client.
    public init(
        location: S3Location, credentials: S3Credentials,
        configuration: S3Client.Configuration = S3Client.Configuration(),
        logger: Logger = Logger(label: "pixcrawl.s3"), verifiesDigest: Bool = false
    ) {
        self.init(
            client: S3Client(location: location, credentials: credentials, configuration: configuration, logger: logger),
            verifiesDigest: verifiesDigest)
    }

    /// The object key a blob is stored under: `<prefix>/images/ab/cd/<sha256>.<ext>`.
    public func objectKey(for key: BlobKey) -> String {
        client.location.key(for: key.path)
    }

    public func storageURL(for key: BlobKey) -> String {
        client.location.objectURL(for: objectKey(for: key))
    }

    /// A URL anyone may download the blob from until `now + expiresIn` seconds (1…604800).
    public func presignedURL(for key: BlobKey, expiresIn: Int, now: Date = Date()) throws -> String {
        try mapped(key) { try client.presignedGetURL(key: objectKey(for: key), expiresIn: expiresIn, now: now) }
    }

    public func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob {
        if verifiesDigest {
            var hasher = SHA256()
            hasher.update(bufferPointer: bytes)
            try checkDigest(SigV4.hex(hasher.finalize()), for: key)
        }
        return try mapped(key) {
            if let size = try existingSize(key) { return stored(key, size: size, created: false) }
            try client.putObject(key: objectKey(for: key), bytes: bytes, contentType: key.format.mediaType)
            return stored(key, size: bytes.count, created: true)
        }
    }

    /// With `consuming`, the file is removed once the blob is stored (or found stored already); after a failure it
    /// is left in place so the caller can try again.
    public func put(contentsOf file: URL, for key: BlobKey, consuming: Bool) throws -> StoredBlob {
        if verifiesDigest {
            let content: Data
            do {
                content = try Data(contentsOf: file, options: .mappedIfSafe)
            } catch {
                throw BlobStoreError(code: .io, message: "cannot read \(file.path): \(error)")
            }
            try checkDigest(SigV4.sha256Hex(content), for: key)
        }
        let result = try mapped(key) {
            if let size = try existingSize(key) { return stored(key, size: size, created: false) }
            let result = try client.putObject(
                key: objectKey(for: key), file: file, contentType: key.format.mediaType)
            return stored(key, size: Int(result.byteCount), created: true)
        }
        if consuming { unlink(file.path) }
        return result
    }

    public func get(_ key: BlobKey) throws -> [UInt8] {
        try mapped(key) { try client.getObject(key: objectKey(for: key)) }
    }

    public func exists(_ key: BlobKey) throws -> Bool {
        try mapped(key) { try client.headObject(key: objectKey(for: key)) != nil }
    }

    @discardableResult
    public func delete(_ key: BlobKey) throws -> Bool {
        try mapped(key) { try client.deleteObject(key: objectKey(for: key)) }
    }

    public func forEachKey(_ body: (BlobKey) -> Void) throws {
        try forEachBlob { body($0.key) }
    }

    /// Lists `<prefix>/images/` and reports every object whose key is a blob path; other objects are skipped.
    public func forEachBlob(_ body: (BlobListing) throws -> Void) throws {
        let root = client.location.key(for: "images/")
        let prefixLength = root.count - "images/".count
        do {
            try client.listObjects(prefix: root) { object in
                let relative = String(object.key.dropFirst(prefixLength))
                guard let key = try? BlobKey(path: relative) else { return }
                try body(BlobListing(key: key, size: object.size, modified: object.lastModified))
            }
        } catch let error as S3Error {
            throw BlobStoreError(code: .io, message: error.description)
        }
    }

    // MARK: - Internals

    /// The size of an object already stored under `key`, or `nil`. A dedup hit refreshes the object's
    /// `LastModified` first (a copy onto itself): an old orphan about to be referenced again is young again, so
    /// `fsck --repair` (which only deletes orphans older than its grace period) cannot remove it before the row
    /// that needs it commits.
    private func existingSize(_ key: BlobKey) throws(S3Error) -> Int? {
        let object = objectKey(for: key)
        guard let existing = try client.headObject(key: object),
            try client.refreshObject(key: object, contentType: key.format.mediaType)
        else { return nil }
        return Int(existing.size)
    }

    private func stored(_ key: BlobKey, size: Int, created: Bool) -> StoredBlob {
        StoredBlob(key: key, storageURL: storageURL(for: key), byteCount: size, created: created)
    }

    private func checkDigest(_ actual: String, for key: BlobKey) throws {
        guard actual == key.sha256 else {
            throw BlobStoreError(code: .digestMismatch, message: "content hashes to \(actual), not \(key.sha256)")
        }
    }

    /// Runs an S3 call, turning its ``S3Error`` into the ``BlobStoreError`` the protocol promises.
    private func mapped<Result>(_ key: BlobKey, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as S3Error {
            if error.isNotFound && error.s3Code != "NoSuchBucket" {
                throw BlobStoreError(code: .notFound, message: "no blob \(key.path) in \(storageURL(for: key))")
            }
            throw BlobStoreError(code: .io, message: error.description)
        }
    }

}
