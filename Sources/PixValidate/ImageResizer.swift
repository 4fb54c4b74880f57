import CPixImage
import Foundation
import PixCore

/// A resized, re-encoded image and what it was made from.
public struct ResizedImage: Sendable, Hashable {
    /// The encoded bytes.
    public var bytes: [UInt8]
    /// The source's width as displayed (after EXIF orientation).
    public var originalWidth: Int
    /// The source's height as displayed.
    public var originalHeight: Int
    /// The output's width.
    public var width: Int
    /// The output's height.
    public var height: Int
    /// SHA-256 of ``bytes``, lowercase hex.
    public var sha256: String
    /// The EXIF orientation that was applied (1 = none).
    public var orientation: Int
    /// The libjpeg-turbo DCT scale used for a JPEG source, in eighths (8 = full size); `nil` for other formats.
    public var jpegScaleEighths: Int?
    /// When the resize was also the validation: the 9 × 8 gray grid of the whole source (the difference hash's
    /// input), from the decoded rows; `nil` otherwise.
    public var validationGrid: [UInt8]?

    /// Creates a description of a resized image.
    public init(
        bytes: [UInt8], originalWidth: Int, originalHeight: Int, width: Int, height: Int, sha256: String,
        orientation: Int = 1, jpegScaleEighths: Int? = nil, validationGrid: [UInt8]? = nil
    ) {
        self.bytes = bytes
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.width = width
        self.height = height
        self.sha256 = sha256
        self.orientation = orientation
        self.jpegScaleEighths = jpegScaleEighths
        self.validationGrid = validationGrid
    }
}

extension ResizedImage {
    /// What an image row or a manifest records of this output (everything but the bytes).
    public var record: ImageDerivative {
        ImageDerivative(
            sha256: sha256, byteCount: bytes.count, width: width, height: height, originalWidth: originalWidth,
            originalHeight: originalHeight)
    }
}

/// Why an image could not be resized.
public struct ImageResizeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, as a decode reports it: `.corrupt` (undecodable, or the output could not be encoded),
    /// `.tooLarge` (the pixel budget), `.outOfMemory` (the decoder memory cap), `.invalidArgument`,
    /// `.unsupportedFormat`.
    public var code: ImageDecodeError.Code
    /// What the decoder or encoder reported.
    public var message: String

    /// Creates an error of kind `code` with the library's `message`.
    public init(code: ImageDecodeError.Code = .corrupt, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "image could not be resized: \(message)" }
}

/// Resizes and re-encodes images: for resized exports, and at crawl time for jobs with a resize spec (where the
/// resize decode can be the validation decode, `validating: true`).
///
/// A JPEG is decoded at the smallest libjpeg-turbo DCT scale of 1/8, 2/8, 4/8 or 8/8 (the ones with SIMD transforms)
/// still at least 1.25 times the target size, only its window's rows and columns (a scaled IDCT is no area filter: the
/// margin keeps the output within 35 dB PSNR of an area resize of the full decode), a WebP whole at full size (past
/// 16 megapixels or the memory cap, only its window), then every image is area-averaged to the target (OpenCV's
/// `INTER_AREA`; linear interpolation when enlarging), EXIF orientation applied, and encoded. The same input and
/// options always give the same bytes. Stateless and reentrant: call it from as many threads as there are cores.
public enum ImageResizer {
    /// Resizes one image held in memory.
    /// - Parameters:
    ///   - bytes: The stored image.
    ///   - format: Its format (JPEG, PNG or WebP).
    ///   - options: Target size, mode and encoding.
    ///   - maxPixels: The pixel budget of the source.
    ///   - maxDecoderMemory: What the source's decoder may keep, in bytes (`nil`: the decoders' 64 MiB cap, as in
    ///     validation). Interlaced PNGs are decoded band by band within it; a lossless WebP (whose decoder keeps
    ///     the whole frame, 4 bytes a pixel) or a multi-scan JPEG (every coefficient) needing more is refused.
    ///   - validating: Make the decode also the validation at depth `full`: every compressed byte is read, decoder
    ///     warnings (a premature end, a bad Huffman code) are errors, and the result carries
    ///     ``ResizedImage/validationGrid``. A JPEG, a non-interlaced PNG or a WebP decoded whole is still decoded
    ///     once; an interlaced PNG or a WebP too large to decode whole is validated by a decode of its own first.
    /// - Throws: ``ImageResizeError`` when the source cannot be decoded or the output encoded.
    public static func resize(
        _ bytes: UnsafeRawBufferPointer, format: ImageFormat, options: ResizeOptions, maxPixels: Int = 50_000_000,
        maxDecoderMemory: Int? = nil, validating: Bool = false
    ) throws(ImageResizeError) -> ResizedImage {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else {
            throw ImageResizeError(code: .corrupt, message: "empty content")
        }
        let input: Int32
        switch format {
        case .jpeg: input = Int32(CPIX_FORMAT_JPEG)
        case .png: input = Int32(CPIX_FORMAT_PNG)
        case .webp: input = Int32(CPIX_FORMAT_WEBP)
        default: throw ImageResizeError(code: .unsupportedFormat, message: "\(format.rawValue) cannot be resized")
        }
        var grid = [UInt8](repeating: 0, count: validating ? DifferenceHash.gridWidth * DifferenceHash.gridHeight : 0)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var result = cpix_resize_result()
        var status = cpix_status()
        let code = grid.withUnsafeMutableBufferPointer { grid in
            var settings = cpix_resize_options(
                size: UInt32(clamping: options.size), mode: Int32(options.mode.code),
                only_if_bigger: options.onlyIfBigger ? 1 : 0, encoding: Int32(options.encoding.code),
                quality: Int32(options.quality), max_pixels: UInt64(clamping: max(maxPixels, 0)),
                max_memory: UInt64(clamping: max(maxDecoderMemory ?? 0, 0)), validate: validating ? 1 : 0,
                grid: validating ? grid.baseAddress : nil, grid_width: UInt32(DifferenceHash.gridWidth),
                grid_height: UInt32(DifferenceHash.gridHeight))
            return cpix_resize_image(base, bytes.count, input, &settings, &out, &length, &result, &status)
        }
        guard code == Int32(CPIX_OK), let out else {
            let failure = ImageDecodeError(cpix: code, status)
            throw ImageResizeError(code: failure.code, message: failure.message)
        }
        defer { cpix_free(out) }
        let encoded = Array(UnsafeBufferPointer(start: out, count: length))
        return ResizedImage(
            bytes: encoded, originalWidth: Int(result.original_width), originalHeight: Int(result.original_height),
            width: Int(result.output_width), height: Int(result.output_height),
            sha256: SHA256Hasher.hex(of: encoded), orientation: Int(result.orientation),
            jpegScaleEighths: format == .jpeg ? Int(result.jpeg_scale) : nil, validationGrid: validating ? grid : nil)
    }

    /// Resizes one image held in memory, like the `UnsafeRawBufferPointer` variant.
    public static func resize(
        _ bytes: some ContiguousBytes, format: ImageFormat, options: ResizeOptions, maxPixels: Int = 50_000_000,
        maxDecoderMemory: Int? = nil, validating: Bool = false
    ) throws(ImageResizeError) -> ResizedImage {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ImageResizeError) in
                try resize(
                    raw, format: format, options: options, maxPixels: maxPixels, maxDecoderMemory: maxDecoderMemory,
                    validating: validating)
            }
        }.get()
    }
}

extension ResizeMode {
    fileprivate var code: Int {
        switch self {
        case .no: Int(CPIX_RESIZE_NO)
        case .keepRatio: Int(CPIX_RESIZE_KEEP_RATIO)
        case .keepRatioLargest: Int(CPIX_RESIZE_KEEP_RATIO_LARGEST)
        case .centerCrop: Int(CPIX_RESIZE_CENTER_CROP)
        case .border: Int(CPIX_RESIZE_BORDER)
        }
    }
}

extension ResizeEncoding {
    fileprivate var code: Int {
        switch self {
        case .jpeg: Int(CPIX_ENCODE_JPEG)
        case .png: Int(CPIX_ENCODE_PNG)
        case .webp: Int(CPIX_ENCODE_WEBP)
        }
    }
}
