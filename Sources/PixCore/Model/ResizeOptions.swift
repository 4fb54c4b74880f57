/// How a resized export sizes its images (img2dataset's `--resize_mode`).
public enum ResizeMode: String, Sendable, Codable, CaseIterable, Hashable {
    /// Keep the size; images are re-encoded only.
    case no
    /// The shorter side becomes N, keeping the aspect ratio.
    case keepRatio = "keep_ratio"
    /// The longer side becomes N, keeping the aspect ratio.
    case keepRatioLargest = "keep_ratio_largest"
    /// The centred square, N × N.
    case centerCrop = "center_crop"
    /// The longer side becomes N, padded with white to N × N.
    case border
}

/// The encoding of resized images.
public enum ResizeEncoding: String, Sendable, Codable, CaseIterable, Hashable {
    case jpeg, png, webp

    /// The format of images in this encoding.
    public var format: ImageFormat {
        switch self {
        case .jpeg: .jpeg
        case .png: .png
        case .webp: .webp
        }
    }

    /// The file extension of an image in this encoding.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .webp: "webp"
        }
    }
}

/// What a resized export, or a crawl job that resizes as it crawls, makes of every image: `--resize N --resize-mode M [--resize-only-if-bigger]
/// --encode E --quality Q`.
public struct ResizeOptions: Sendable, Hashable, Codable {
    /// The target size N in pixels (1…16384).
    public var size: Int
    /// How N applies.
    public var mode: ResizeMode
    /// Never enlarge: smaller images keep their size (center_crop still crops, border still pads).
    public var onlyIfBigger: Bool
    /// The output encoding.
    public var encoding: ResizeEncoding
    /// JPEG and WebP quality, 1…100.
    public var quality: Int

    /// The largest N accepted.
    public static let maximumSize = 16_384

    /// Creates resize options.
    /// - Parameters:
    ///   - size: The target size N.
    ///   - mode: How N applies (default `keep_ratio`, as img2dataset).
    ///   - onlyIfBigger: Never enlarge.
    ///   - encoding: Output encoding (default JPEG).
    ///   - quality: JPEG/WebP quality (default 95).
    public init(
        size: Int, mode: ResizeMode = .keepRatio, onlyIfBigger: Bool = false, encoding: ResizeEncoding = .jpeg,
        quality: Int = 95
    ) {
        self.size = size
        self.mode = mode
        self.onlyIfBigger = onlyIfBigger
        self.encoding = encoding
        self.quality = quality
    }

    private enum CodingKeys: String, CodingKey {
        case size
        case mode
        case onlyIfBigger = "only_if_bigger"
        case encoding = "encode"
        case quality
    }

    /// Decodes options; missing keys take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            size: try container.decode(Int.self, forKey: .size),
            mode: try container.decodeIfPresent(ResizeMode.self, forKey: .mode) ?? .keepRatio,
            onlyIfBigger: try container.decodeIfPresent(Bool.self, forKey: .onlyIfBigger) ?? false,
            encoding: try container.decodeIfPresent(ResizeEncoding.self, forKey: .encoding) ?? .jpeg,
            quality: try container.decodeIfPresent(Int.self, forKey: .quality) ?? 95)
    }

    /// What is wrong with N or the quality, `nil` when both are in range. The one check of the resize options of
    /// exports and of crawl jobs (CLI, API and dashboard).
    public var problem: String? {
        guard (1...Self.maximumSize).contains(size) else {
            return "--resize must be from 1 to \(Self.maximumSize) pixels, got \(size)"
        }
        guard (1...100).contains(quality) else {
            return "--quality must be from 1 to 100, got \(quality)"
        }
        return nil
    }
}
