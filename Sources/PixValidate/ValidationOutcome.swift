import PixCore

/// Where in `ImageValidator.validate(_:sha256:)` a candidate was rejected.
public enum ValidationStage: String, Sendable, Hashable, CaseIterable {
    /// From the bytes alone: size, magic bytes, allowed formats. Nothing was parsed.
    case content
    /// From the header's dimensions; no pixel was decoded (decompression bombs stop here).
    case header
    /// While decoding: truncated or corrupt data.
    case decode
}

/// A candidate that passed every rule.
public struct ValidatedImage: Sendable, Hashable {
    /// Format recognised from the magic bytes.
    public var format: ImageFormat
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Size of the file in bytes.
    public var byteCount: Int
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    public var sha256: String
    /// 64-bit difference hash of the pixels (see ``DifferenceHash``); `nil` with header-only validation.
    /// With a resize at depth `full`, from the whole original's gray grid as the resize decode averaged it.
    public var perceptualHash: UInt64?

    /// The resized copy, when validation was asked for one (a job that resizes at crawl time).
    public var derivative: ResizedImage?

    /// Creates an accepted result.
    public init(
        format: ImageFormat, width: Int, height: Int, byteCount: Int, sha256: String, perceptualHash: UInt64?,
        derivative: ResizedImage? = nil
    ) {
        self.derivative = derivative
        self.format = format
        self.width = width
        self.height = height
        self.byteCount = byteCount
        self.sha256 = sha256
        self.perceptualHash = perceptualHash
    }
}

/// Why a candidate was rejected: a category for counters and error logs and a reason for people.
public struct ValidationRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// ``ErrorCategory/format``, ``ErrorCategory/dimensions``, ``ErrorCategory/decode`` or
    /// ``ErrorCategory/tooLarge``.
    public var category: ErrorCategory
    /// The category followed by what was wrong, e.g. `FORMAT: svg not allowed` or
    /// `DIMENSIONS: 40×40 is below the minimum 64×64`.
    public var reason: String
    /// How far validation got before rejecting.
    public var stage: ValidationStage
    /// The sniffed format, when one was recognised.
    public var format: ImageFormat?
    /// Declared width, when the header was read.
    public var width: Int?
    /// Declared height, when the header was read.
    public var height: Int?

    /// Creates a rejection; `detail` is prefixed with the category's name to form ``reason``.
    public init(
        category: ErrorCategory, detail: String, stage: ValidationStage, format: ImageFormat? = nil, width: Int? = nil,
        height: Int? = nil
    ) {
        self.category = category
        self.reason = "\(category.rawValue): \(detail)"
        self.stage = stage
        self.format = format
        self.width = width
        self.height = height
    }

    public var description: String { reason }
}

/// The verdict on one candidate.
public enum ValidationOutcome: Sendable, Hashable {
    /// Every rule passed.
    case accepted(ValidatedImage)
    /// A rule failed; the candidate must not be stored.
    case rejected(ValidationRejection)

    /// The accepted image, or `nil` when rejected.
    public var image: ValidatedImage? {
        if case .accepted(let image) = self { image } else { nil }
    }

    /// The rejection, or `nil` when accepted.
    public var rejection: ValidationRejection? {
        if case .rejected(let rejection) = self { rejection } else { nil }
    }
}
