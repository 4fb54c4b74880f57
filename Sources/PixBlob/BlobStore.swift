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

/// Content-addressed storage for validated images.
///
/// Writes are atomic (a reader never sees a partial blob under its final name) and idempotent
/// (storing the same key twice is a no-op that reports `created == false`). Errors are
/// ``BlobStoreError``. Implementations are synchronous and may block on I/O: call them from a
/// thread that may block, not from the cooperative pool's hot path.
public protocol BlobStore: Sendable {
    /// Stores `bytes` under `key`, unless a blob with that key exists already.
    func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob

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

    /// The storage URL a blob stored under `key` has.
    func storageURL(for key: BlobKey) -> String
}

extension BlobStore {
    /// Stores `bytes` under `key`, unless a blob with that key exists already.
    public func put(_ bytes: some ContiguousBytes, for key: BlobKey) throws -> StoredBlob {
        try bytes.withUnsafeBytes { try put($0, for: key) }
    }

    /// Every stored key, sorted by path.
    public func listKeys() throws -> [BlobKey] {
        var keys: [BlobKey] = []
        try forEachKey { keys.append($0) }
        return keys.sorted()
    }
}
