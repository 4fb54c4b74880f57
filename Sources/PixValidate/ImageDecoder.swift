import CPixImage
import Foundation
import PixCore

/// How much of an image ``ImageDecoder`` reconstructs.
public enum ImageDecodeMode: Sendable, Hashable {
    /// Every compressed byte is read and checked, pixels at reduced scale where the format allows:
    /// JPEG is decoded at 1/8 scale in gray (every Huffman-coded coefficient is still read, so
    /// truncation and corrupt data are caught); PNG has no such shortcut and is inflated and
    /// unfiltered row by row in full.
    case entropyComplete
    /// Every pixel at full size and in full colour, one row at a time.
    case fullSize
}

/// Bounds a decode must stay within; checked from the header before anything is allocated.
public struct DecodeLimits: Sendable, Hashable {
    /// Largest `width × height` decoded (decompression bombs); larger images fail with
    /// ``ImageDecodeError/Code/tooLarge`` before any pixel memory is allocated.
    public var maxPixels: Int
    /// Largest width decoded, if any.
    public var maxWidth: Int?
    /// Largest height decoded, if any.
    public var maxHeight: Int?
    /// Cap on one decoder's working memory in bytes; `nil` means ``defaultMaxMemory`` (a cap is always on).
    /// Checked from the header before the library allocates: a progressive JPEG buffers every coefficient
    /// (2 bytes per sample: 6 bytes per pixel at 4:4:4, 3 at 4:2:0), a PNG two raw rows. Over the cap the
    /// decode fails with ``ImageDecodeError/Code/outOfMemory``.
    public var maxMemory: Int?

    /// The working-memory cap when none is given: 64 MiB, enough for a progressive JPEG of about
    /// 11 megapixels at 4:4:4 or 22 megapixels at 4:2:0 (baseline JPEGs and PNGs need only a few rows).
    public static let defaultMaxMemory = Int(CPIX_DEFAULT_MAX_MEMORY)

    /// The cap in effect.
    public var effectiveMaxMemory: Int { maxMemory ?? Self.defaultMaxMemory }

    /// Creates limits; the default pixel budget is 50 megapixels, the default memory cap ``defaultMaxMemory``.
    public init(maxPixels: Int = 50_000_000, maxWidth: Int? = nil, maxHeight: Int? = nil, maxMemory: Int? = nil) {
        self.maxPixels = maxPixels
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxMemory = maxMemory
    }
}

/// The result of a successful decode: the header and a tiny gray summary of the pixels.
public struct DecodedImage: Sendable, Hashable {
    /// Dimensions and layout at full size.
    public var header: ImageHeader
    /// The whole image averaged into ``DifferenceHash/gridWidth`` × ``DifferenceHash/gridHeight``
    /// gray samples, row-major (gray = 0.299 R + 0.587 G + 0.114 B, alpha ignored).
    public var hashGrid: [UInt8]

    /// Creates a decode result.
    public init(header: ImageHeader, hashGrid: [UInt8]) {
        self.header = header
        self.hashGrid = hashGrid
    }

    /// The 64-bit difference hash of the pixels.
    public var differenceHash: UInt64 { DifferenceHash.hash(grid: hashGrid) }
}

/// Reads and decodes PNG, JPEG and WebP with libpng, libjpeg and libwebp through the C shim.
///
/// WebP has no reduced-scale shortcut: both modes reconstruct every pixel at full size and let libwebp's
/// rescaler area-average the rows into the hash grid. Animated WebP is refused with
/// ``ImageDecodeError/Code/unsupportedFormat`` (validating a first frame only would accept damaged later frames).
///
/// Every function is reentrant and may be called from many threads at once. Memory stays bounded:
/// one row buffer per decode and a tiny grid, never a full frame (a progressive JPEG's coefficient
/// buffer aside, capped by ``DecodeLimits/maxMemory``).
public enum ImageDecoder {
    /// Reads the dimensions from the header (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X) without decoding any pixel.
    /// - Parameters:
    ///   - bytes: the whole file, or at least its header.
    ///   - format: ``ImageFormat/jpeg``, ``ImageFormat/png`` or ``ImageFormat/webp``.
    /// - Throws: ``ImageDecodeError`` with code `.corrupt` when no valid header is found, or
    ///   `.unsupportedFormat` for any other format.
    public static func readHeader(_ bytes: UnsafeRawBufferPointer, format: ImageFormat) throws(ImageDecodeError)
        -> ImageHeader
    {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else {
            throw ImageDecodeError(code: .corrupt, message: "empty content")
        }
        var header = cpix_image_header()
        var status = cpix_status()
        let result: Int32
        switch format {
        case .png: result = cpix_png_read_header(base, bytes.count, &header, &status)
        case .jpeg: result = cpix_jpeg_read_header(base, bytes.count, &header, &status)
        case .webp: result = cpix_webp_read_header(base, bytes.count, &header, &status)
        default: throw unsupported(format)
        }
        try check(result, status)
        return ImageHeader(format: format, header)
    }

    /// Decodes an image held in memory, checking every compressed byte, and summarises its pixels.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - format: ``ImageFormat/jpeg``, ``ImageFormat/png`` or ``ImageFormat/webp``.
    ///   - mode: ``ImageDecodeMode/entropyComplete`` (fast, the default validation) or
    ///     ``ImageDecodeMode/fullSize``.
    ///   - limits: dimension and memory bounds, checked from the header before any allocation.
    /// - Throws: ``ImageDecodeError``: `.tooLarge` (limits), `.corrupt` (truncated or damaged data),
    ///   `.outOfMemory`, `.unsupportedFormat`.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, format: ImageFormat, mode: ImageDecodeMode = .entropyComplete,
        limits: DecodeLimits = DecodeLimits()
    ) throws(ImageDecodeError) -> DecodedImage {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else {
            throw ImageDecodeError(code: .corrupt, message: "empty content")
        }
        guard ImageFormat.decodable.contains(format) else { throw unsupported(format) }
        var grid = [UInt8](repeating: 0, count: DifferenceHash.gridWidth * DifferenceHash.gridHeight)
        var header = cpix_image_header()
        var status = cpix_status()
        let result = grid.withUnsafeMutableBufferPointer { grid in
            var options = cpix_decode_options(
                max_pixels: UInt64(clamping: max(limits.maxPixels, 0)),
                max_width: UInt32(clamping: max(limits.maxWidth ?? 0, 0)),
                max_height: UInt32(clamping: max(limits.maxHeight ?? 0, 0)),
                max_memory: UInt64(clamping: max(limits.effectiveMaxMemory, 1)),
                grid: grid.baseAddress,
                grid_width: UInt32(DifferenceHash.gridWidth),
                grid_height: UInt32(DifferenceHash.gridHeight))
            switch format {
            case .png: return cpix_png_decode(base, bytes.count, &options, &header, &status)
            case .webp: return cpix_webp_decode(base, bytes.count, &options, &header, &status)
            default: break
            }
            let jpegMode = mode == .entropyComplete ? CPIX_JPEG_SCALED : CPIX_JPEG_FULL
            return cpix_jpeg_decode(base, bytes.count, Int32(jpegMode), &options, &header, &status)
        }
        try check(result, status)
        return DecodedImage(header: ImageHeader(format: format, header), hashGrid: grid)
    }

    /// Reads the dimensions from the header, like the `UnsafeRawBufferPointer` variant.
    public static func readHeader(_ bytes: some ContiguousBytes, format: ImageFormat) throws(ImageDecodeError)
        -> ImageHeader
    {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ImageDecodeError) in try readHeader(raw, format: format) }
        }.get()
    }

    /// Decodes an image held in memory, like the `UnsafeRawBufferPointer` variant.
    public static func decode(
        _ bytes: some ContiguousBytes, format: ImageFormat, mode: ImageDecodeMode = .entropyComplete,
        limits: DecodeLimits = DecodeLimits()
    ) throws(ImageDecodeError) -> DecodedImage {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ImageDecodeError) in try decode(raw, format: format, mode: mode, limits: limits) }
        }.get()
    }

    private static func unsupported(_ format: ImageFormat) -> ImageDecodeError {
        ImageDecodeError(code: .unsupportedFormat, message: "\(format.rawValue) is not decoded (only jpeg, png and webp are)")
    }

    private static func check(_ result: Int32, _ status: cpix_status) throws(ImageDecodeError) {
        guard Int(result) != Int(CPIX_OK) else { return }
        throw ImageDecodeError(cpix: result, status)
    }
}

extension ImageDecodeError {
    /// The error a C shim call reported: its result code and the message in `status`.
    init(cpix result: Int32, _ status: cpix_status) {
        let message = withUnsafeBytes(of: status.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let code: Code =
            switch Int(result) {
            case Int(CPIX_ERR_TOO_LARGE): .tooLarge
            case Int(CPIX_ERR_MEMORY): .outOfMemory
            case Int(CPIX_ERR_ARGUMENT): .invalidArgument
            case Int(CPIX_ERR_UNSUPPORTED): .unsupportedFormat
            default: .corrupt
            }
        self.init(code: code, message: message.isEmpty ? "decoder error \(result)" : message)
    }
}

extension ImageHeader {
    fileprivate init(format: ImageFormat, _ header: cpix_image_header) {
        self.init(
            format: format, width: Int(header.width), height: Int(header.height), components: Int(header.components),
            bitDepth: Int(header.bit_depth), isProgressive: header.progressive != 0)
    }
}
