import PixCore

/// What an image's header declares, read without decoding any pixel.
public struct ImageHeader: Sendable, Hashable {
    /// The container format.
    public var format: ImageFormat
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Samples per pixel as stored (PNG: 1 for gray or palette, 2, 3, 4; JPEG: 1, 3 or 4).
    public var components: Int
    /// Bits per sample as stored.
    public var bitDepth: Int
    /// A progressive JPEG or an Adam7-interlaced PNG.
    public var isProgressive: Bool

    /// Creates a header description.
    public init(format: ImageFormat, width: Int, height: Int, components: Int, bitDepth: Int, isProgressive: Bool) {
        self.format = format
        self.width = width
        self.height = height
        self.components = components
        self.bitDepth = bitDepth
        self.isProgressive = isProgressive
    }

    /// `width × height`.
    public var pixelCount: Int { width * height }
}
