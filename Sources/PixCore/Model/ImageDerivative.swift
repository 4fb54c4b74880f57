/// The resized copy of an image that a crawl job with a resize spec (``CrawlJob/resize``) made as it accepted the
/// image, stored content-addressed beside the original (its format is the spec's encoding).
public struct ImageDerivative: Sendable, Codable, Hashable {
    /// SHA-256 of the derivative's bytes, lowercase hex: with the spec's encoding, its blob's address.
    public var sha256: String
    /// The derivative's size in bytes.
    public var byteCount: Int
    /// The derivative's width.
    public var width: Int
    /// The derivative's height.
    public var height: Int
    /// The original's width as displayed (after EXIF orientation), as the export manifest reports it.
    public var originalWidth: Int
    /// The original's height as displayed.
    public var originalHeight: Int

    /// Creates a derivative's description.
    public init(sha256: String, byteCount: Int, width: Int, height: Int, originalWidth: Int, originalHeight: Int) {
        self.sha256 = sha256
        self.byteCount = byteCount
        self.width = width
        self.height = height
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
    }
}
