/// Image formats PixCrawler recognises by their magic bytes.
public enum ImageFormat: String, Sendable, Codable, CaseIterable, Hashable {
    case jpeg, png, gif, webp, bmp, tiff, avif, svg, html

    /// File extension used for stored blobs and archive entries.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .gif: "gif"
        case .webp: "webp"
        case .bmp: "bmp"
        case .tiff: "tif"
        case .avif: "avif"
        case .svg: "svg"
        case .html: "html"
        }
    }

    /// The media type of a stored file of this format (`Content-Type`).
    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .bmp: "image/bmp"
        case .tiff: "image/tiff"
        case .avif: "image/avif"
        case .svg: "image/svg+xml"
        case .html: "text/html"
        }
    }

    /// Formats PixCrawler can fully decode and therefore accept.
    public static let decodable: Set<ImageFormat> = [.jpeg, .png, .webp]
}

/// How deeply a candidate is validated.
public enum ValidationDepth: String, Sendable, Codable, CaseIterable, Hashable {
    /// Read the header only (format + dimensions); fastest, catches no truncation.
    case header
    /// Entropy-complete validation: every compressed byte is read, pixels at reduced scale where possible.
    case full
    /// Full-size decode of every pixel.
    case pixels
}

/// The rules a crawl job applies to every candidate image.
public struct ValidationRules: Sendable, Codable, Hashable {
    public var formats: Set<ImageFormat>
    public var minWidth: Int
    public var minHeight: Int
    public var maxWidth: Int
    public var maxHeight: Int
    public var minBytes: Int
    public var maxBytes: Int
    /// Smallest accepted width/height ratio, if any.
    public var minAspectRatio: Double?
    /// Largest accepted width/height ratio, if any.
    public var maxAspectRatio: Double?
    /// Largest width×height decoded; anything larger is rejected from its header (decompression bombs).
    public var maxPixels: Int
    public var depth: ValidationDepth

    /// Default rules: JPEG, PNG and WebP, at least 64×64, at most 20,000 px a side, 50 MP, 25 MiB.
    public init(
        formats: Set<ImageFormat> = [.jpeg, .png, .webp],
        minWidth: Int = 64, minHeight: Int = 64,
        maxWidth: Int = 20_000, maxHeight: Int = 20_000,
        minBytes: Int = 0, maxBytes: Int = 25 * 1024 * 1024,
        minAspectRatio: Double? = nil, maxAspectRatio: Double? = nil,
        maxPixels: Int = 50_000_000,
        depth: ValidationDepth = .full
    ) {
        self.formats = formats
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.minBytes = minBytes
        self.maxBytes = maxBytes
        self.minAspectRatio = minAspectRatio
        self.maxAspectRatio = maxAspectRatio
        self.maxPixels = maxPixels
        self.depth = depth
    }
}
