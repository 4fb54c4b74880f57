import Foundation

/// What a successful ``BlobStore`` write reports.
public struct StoredBlob: Sendable, Hashable {
    /// The blob's content address.
    public var key: BlobKey
    /// Where the blob lives, for the image row's `storage_url` (`file:///…` for ``LocalBlobStore``).
    public var storageURL: String
    /// Size of the stored content in bytes.
    public var byteCount: Int
    /// False when a blob with this key already existed and nothing was written.
    public var created: Bool

    /// Creates a write report.
    public init(key: BlobKey, storageURL: String, byteCount: Int, created: Bool) {
        self.key = key
        self.storageURL = storageURL
        self.byteCount = byteCount
        self.created = created
    }
}

/// One stored blob as a listing reports it: its key, size and last modification time.
///
/// A consistency checker compares listings with the image rows and leaves blobs younger than a grace period
/// alone, since those may belong to a write whose row is not committed yet.
public struct BlobListing: Sendable, Hashable {
    /// The blob's content address.
    public var key: BlobKey
    /// Size of the stored content in bytes.
    public var size: Int64
    /// When the blob was last written (file modification time, or the object's `LastModified`).
    public var modified: Date

    /// Creates a listing entry.
    public init(key: BlobKey, size: Int64, modified: Date) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// Content-addressed storage for validated images.
///
/// Writes are atomic (a reader never sees a partial blob under its final name) and idempotent
/// (storing the same key twice is a no-op that reports `created == false`). The exception is
/// ``putDeferred(_:for:)``, durable only after ``flushDeferred()``: a crash before it may lose such a blob or leave
/// it damaged under its final name. Errors are
/// ``BlobStoreError``. Implementations are synchronous and may block on I/O: call them from a
/// thread that may block, not from the cooperative pool's hot path.
public protocol BlobStore: Sendable {
    /// Stores `bytes` under `key`, unless a blob with that key exists already.
    func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob

    /// Stores `bytes` under `key` like ``put(_:for:)``, but the blob need only be on disk once ``flushDeferred()``
    /// has returned: a caller that stores many blobs before it commits the rows that refer to them flushes once
    /// for all. Until then a crash may lose the blob or leave it damaged under its final name, so nothing may refer
    /// to it before the flush. Stores whose writes are durable anyway keep the default, which is ``put(_:for:)``.
    func putDeferred(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob

    /// Makes every blob stored so far with ``putDeferred(_:for:)`` durable (the default has nothing to do).
    func flushDeferred() throws

    /// Stores the content of a local file under `key`, unless a blob with that key exists already.
    /// - Parameters:
    ///   - file: a local file (for example a download spooled to disk).
    ///   - key: the content address.
    ///   - consuming: when true the store may take the file over (rename it into place) and the
    ///     file is gone afterwards, whether or not it was needed.
    func put(contentsOf file: URL, for key: BlobKey, consuming: Bool) throws -> StoredBlob

    /// The content stored under `key`; ``BlobStoreError/Code/notFound`` when there is none.
    func get(_ key: BlobKey) throws -> [UInt8]

    /// Whether a blob is stored under `key`.
    func exists(_ key: BlobKey) throws -> Bool

    /// Removes the blob stored under `key`.
    /// - Returns: false when there was none.
    @discardableResult
    func delete(_ key: BlobKey) throws -> Bool

    /// Calls `body` with every stored key, in no particular order (for consistency checks).
    func forEachKey(_ body: (BlobKey) -> Void) throws

    /// Calls `body` with every stored blob's key, size and modification time, in no particular order.
    ///
    /// Entries that are not blobs (temporary files, foreign objects) are skipped. An error thrown by `body`
    /// ends the listing and is rethrown.
    func forEachBlob(_ body: (BlobListing) throws -> Void) throws

    /// The storage URL a blob stored under `key` has.
    func storageURL(for key: BlobKey) -> String
}

extension BlobStore {
    /// Stores `bytes` under `key`, unless a blob with that key exists already.
    public func put(_ bytes: some ContiguousBytes, for key: BlobKey) throws -> StoredBlob {
        try bytes.withUnsafeBytes { try put($0, for: key) }
    }

    /// A durable ``put(_:for:)``: the store writes nothing it would have to flush later.
    public func putDeferred(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob {
        try put(bytes, for: key)
    }

    /// Nothing to flush: ``putDeferred(_:for:)`` wrote durably.
    public func flushDeferred() throws {}

    /// Stores `bytes` to be flushed later (see the requirement).
    public func putDeferred(_ bytes: some ContiguousBytes, for key: BlobKey) throws -> StoredBlob {
        try bytes.withUnsafeBytes { try putDeferred($0, for: key) }
    }

    /// Fails: a store that does not override it cannot list sizes and modification times.
    public func forEachBlob(_ body: (BlobListing) throws -> Void) throws {
        throw BlobStoreError(code: .io, message: "\(type(of: self)) does not list blob sizes and modification times")
    }

    /// Every stored key, sorted by path.
    public func listKeys() throws -> [BlobKey] {
        var keys: [BlobKey] = []
        try forEachKey { keys.append($0) }
        return keys.sorted()
    }
}
