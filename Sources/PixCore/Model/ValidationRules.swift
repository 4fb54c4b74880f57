import Foundation

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

// MARK: Checking rules

/// A rule outside what PixCrawler accepts, naming the rule as the API spells it (`min_width`, `formats[1]`, …).
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule at fault: `formats`, `formats[INDEX]`, `min_width`, `max_bytes`, `min_aspect_ratio`, `depth`, ….
    public let field: String
    /// What is wrong and what is accepted.
    public let reason: String

    /// Creates an error.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `field: reason`.
    public var description: String { "\(field): \(reason)" }
}

extension ImageFormat {
    /// The format a user names: `jpeg`, `jpg`, `png`, … (case-insensitive, surrounding spaces ignored).
    public init?(name: String) {
        let lowered = name.trimmingCharacters(in: .whitespaces).lowercased()
        self.init(rawValue: lowered == "jpg" ? "jpeg" : lowered)
    }
}

extension ValidationDepth {
    /// The depth a user names (`header`, `full`, `pixels`; case-insensitive).
    /// - Throws: ``RuleError`` naming `depth`.
    public init(name: String) throws(RuleError) {
        guard let depth = ValidationDepth(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw RuleError(
                field: "depth",
                reason: "unknown depth \(name.debugDescription); use \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = depth
    }
}

extension ValidationRules {
    /// Accepted widths and heights, in pixels.
    public static let sideRange = 1...100_000
    /// Accepted file-size bounds, in bytes.
    public static let byteRange = 0...Int(Int32.max)
    /// Aspect ratios must lie strictly between 0 and this.
    public static let aspectRatioLimit = 1000.0

    /// The accepted formats named by `names` (`jpeg`, `jpg`, `png`); only formats PixCrawler can decode.
    /// - Throws: ``RuleError`` naming `formats` (none given) or `formats[INDEX]` (unknown or undecodable).
    public static func formats(named names: [String]) throws(RuleError) -> Set<ImageFormat> {
        guard !names.isEmpty else { throw RuleError(field: "formats", reason: "must not be empty") }
        var formats = Set<ImageFormat>()
        for (index, name) in names.enumerated() {
            guard let format = ImageFormat(name: name), ImageFormat.decodable.contains(format) else {
                throw RuleError(field: "formats[\(index)]", reason: "unknown format \(name.debugDescription); \(decodableHint)")
            }
            formats.insert(format)
        }
        return formats
    }

    private static var decodableHint: String {
        "use \(ImageFormat.decodable.map(\.rawValue).sorted().joined(separator: " or "))"
    }

    /// Checks every rule against PixCrawler's bounds and against each other.
    /// - Throws: ``RuleError`` naming the first rule at fault.
    public func validate() throws(RuleError) {
        guard !formats.isEmpty else { throw RuleError(field: "formats", reason: "must not be empty") }
        let undecodable = formats.subtracting(ImageFormat.decodable)
        guard undecodable.isEmpty else {
            throw RuleError(
                field: "formats",
                reason: "\(undecodable.map(\.rawValue).sorted().joined(separator: ", ")) cannot be validated; "
                    + Self.decodableHint)
        }
        func check(_ value: Int, _ field: String, _ range: ClosedRange<Int>) throws(RuleError) {
            guard range.contains(value) else {
                throw RuleError(field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
        }
        try check(minWidth, "min_width", Self.sideRange)
        try check(minHeight, "min_height", Self.sideRange)
        try check(maxWidth, "max_width", Self.sideRange)
        try check(maxHeight, "max_height", Self.sideRange)
        try check(minBytes, "min_bytes", Self.byteRange)
        try check(maxBytes, "max_bytes", 1...Self.byteRange.upperBound)
        guard minWidth <= maxWidth else { throw RuleError(field: "min_width", reason: "must not exceed max_width") }
        guard minHeight <= maxHeight else { throw RuleError(field: "min_height", reason: "must not exceed max_height") }
        guard minBytes <= maxBytes else { throw RuleError(field: "min_bytes", reason: "must not exceed max_bytes") }
        for (value, field) in [(minAspectRatio, "min_aspect_ratio"), (maxAspectRatio, "max_aspect_ratio")] {
            if let value, !(value > 0 && value < Self.aspectRatioLimit) {
                throw RuleError(field: field, reason: "must be a positive ratio below \(Int(Self.aspectRatioLimit))")
            }
        }
        if let low = minAspectRatio, let high = maxAspectRatio, low > high {
            throw RuleError(field: "min_aspect_ratio", reason: "must not exceed max_aspect_ratio")
        }
        guard maxPixels >= 1 else { throw RuleError(field: "max_pixels", reason: "must be at least 1") }
    }
}
