import Foundation

/// What S3 reports about a stored object (from `HeadObject` or a `ListObjectsV2` page).
public struct ObjectInfo: Sendable, Hashable {
    /// The full object key.
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// When the object was last written.
    public var lastModified: Date
    /// The entity tag without quotes: the MD5 of a single-part upload, `<md5-of-md5s>-<parts>` for multipart.
    public var etag: String

    /// Creates an object description.
    public init(key: String, size: Int64, lastModified: Date, etag: String) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }
}
