import Foundation
import PixCore

/// Applies a job's ``PixCore/ValidationRules`` to candidate images.
///
/// Steps, cheapest first: byte size, magic-byte sniffing and allowed formats, then the header's
/// dimensions (pixel budget, maximum and minimum sides, aspect ratio) — so a decompression bomb is
/// refused before anything is decoded — then, unless the depth is ``PixCore/ValidationDepth/header``,
/// a decode that reads every compressed byte (``PixCore/ValidationDepth/full``: JPEG at 1/8 scale;
/// ``PixCore/ValidationDepth/pixels``: full size), and finally SHA-256 and the difference hash.
///
/// With resize options (a job that resizes at crawl time) the accepted image also gets its derivative from
/// ``ImageResizer``, and at depth ``PixCore/ValidationDepth/full`` that resize decode *is* the validation decode
/// (`validating: true`): each image is decoded once. The difference hash is then taken from the gray grid of the
/// whole original that decode averaged (from its rows at the resize's DCT scale, not a 1/8 gray decode). At
/// depth ``PixCore/ValidationDepth/pixels`` the image is validated as without a resize, then resized; at
/// ``PixCore/ValidationDepth/header`` it is resized without validating, and a failure is a DECODE rejection.
///
/// A value type without shared state: one validator may be used from any number of threads at once.
public struct ImageValidator: Sendable {
    /// The rules applied.
    public var rules: ValidationRules
    /// Cap on a single decoder's working memory in bytes (progressive JPEGs buffer all coefficients);
    /// `nil` means ``DecodeLimits/defaultMaxMemory``: a cap is always on.
    public var maxDecoderMemory: Int?

    /// Creates a validator.
    /// - Parameters:
    ///   - rules: the job's rules.
    ///   - maxDecoderMemory: cap on a decoder's working memory in bytes (default ``DecodeLimits/defaultMaxMemory``).
    public init(rules: ValidationRules = ValidationRules(), maxDecoderMemory: Int? = nil) {
        self.rules = rules
        self.maxDecoderMemory = maxDecoderMemory
    }

    /// Validates one candidate held in memory.
    /// - Parameters:
    ///   - bytes: the complete downloaded body.
    ///   - sha256: the body's SHA-256 in lowercase hex if it was already computed while receiving
    ///     (see ``SHA256Hasher``); computed here otherwise, only for accepted images.
    ///   - resize: what to make the accepted image's derivative (``ValidatedImage/derivative``), if anything.
    /// - Returns: ``ValidationOutcome/accepted(_:)`` or ``ValidationOutcome/rejected(_:)``.
    public func validate(
        _ bytes: some ContiguousBytes, sha256: String? = nil, resize: ResizeOptions? = nil
    ) -> ValidationOutcome {
        bytes.withUnsafeBytes { validate($0, sha256: sha256, resize: resize) }
    }

    /// Validates one candidate held in memory.
    /// - Parameters:
    ///   - bytes: the complete downloaded body.
    ///   - sha256: the body's SHA-256 in lowercase hex if already known; computed here otherwise.
    ///   - resize: what to make the accepted image's derivative (``ValidatedImage/derivative``), if anything.
    /// - Returns: ``ValidationOutcome/accepted(_:)`` or ``ValidationOutcome/rejected(_:)``.
    public func validate(
        _ bytes: UnsafeRawBufferPointer, sha256: String? = nil, resize: ResizeOptions? = nil
    ) -> ValidationOutcome {
        if bytes.count > rules.maxBytes {
            return .rejected(
                ValidationRejection(
                    category: .tooLarge,
                    detail: "\(Self.byteText(bytes.count)) exceeds the maximum file size \(Self.byteText(rules.maxBytes))",
                    stage: .content))
        }
        let format = ImageSniffer.format(of: bytes)
        if let rejection = checkFormat(format) { return .rejected(rejection) }
        guard let format else { preconditionFailure("checkFormat accepts only recognised formats") }
        if bytes.count < rules.minBytes {
            return .rejected(
                ValidationRejection(
                    category: .dimensions,
                    detail: "\(Self.byteText(bytes.count)) is below the minimum file size \(Self.byteText(rules.minBytes))",
                    stage: .content, format: format))
        }
        var header: ImageHeader
        do {
            header = try ImageDecoder.readHeader(bytes, format: format)
        } catch {
            return .rejected(
                ValidationRejection(
                    category: error.code == .unsupportedFormat ? .format : .decode, detail: Self.sentence(error.message),
                    stage: .header, format: format))
        }
        if let rejection = checkDimensions(of: header) { return .rejected(rejection) }

        var perceptualHash: UInt64?
        // With a resize spec at depth `full`, the resize below is the validation decode.
        if rules.depth == .pixels || (rules.depth == .full && resize == nil) {
            let limits = DecodeLimits(
                maxPixels: rules.maxPixels, maxWidth: rules.maxWidth, maxHeight: rules.maxHeight,
                maxMemory: maxDecoderMemory)
            let decoded: DecodedImage
            do {
                decoded = try ImageDecoder.decode(
                    bytes, format: format, mode: rules.depth == .pixels ? .fullSize : .entropyComplete, limits: limits)
            } catch {
                return .rejected(decodeRejection(error, header: header))
            }
            if decoded.header.width != header.width || decoded.header.height != header.height {
                header = decoded.header
                if let rejection = checkDimensions(of: header) { return .rejected(rejection) }
            }
            perceptualHash = decoded.differenceHash
        }
        var derivative: ResizedImage?
        if let resize {
            let validating = rules.depth == .full
            do {
                derivative = try ImageResizer.resize(
                    bytes, format: format, options: resize, maxPixels: rules.maxPixels,
                    maxDecoderMemory: maxDecoderMemory, validating: validating)
            } catch {
                let failure = ImageDecodeError(code: rules.depth == .header ? .corrupt : error.code, message: error.message)
                return .rejected(decodeRejection(failure, header: header))
            }
            if validating, let grid = derivative?.validationGrid { perceptualHash = DifferenceHash.hash(grid: grid) }
        }
        return .accepted(
            ValidatedImage(
                format: format, width: header.width, height: header.height, byteCount: bytes.count,
                sha256: sha256 ?? SHA256Hasher.hex(of: bytes), perceptualHash: perceptualHash, derivative: derivative))
    }

    /// Checks a sniffed format against the allowed formats (and what PixCrawler can decode).
    /// - Parameter format: the result of ``ImageSniffer``, `nil` when nothing was recognised.
    /// - Returns: the rejection, or `nil` when the format may proceed.
    public func checkFormat(_ format: ImageFormat?) -> ValidationRejection? {
        guard let format else {
            return ValidationRejection(category: .format, detail: "unrecognised content, not an image", stage: .content)
        }
        guard rules.formats.contains(format) else {
            return ValidationRejection(
                category: .format, detail: "\(format.rawValue) not allowed", stage: .content, format: format)
        }
        guard ImageFormat.decodable.contains(format) else {
            return ValidationRejection(
                category: .format, detail: "\(format.rawValue) cannot be validated (only jpeg, png and webp are decoded)",
                stage: .content, format: format)
        }
        return nil
    }

    /// Checks declared dimensions: the pixel budget (``PixCore/ErrorCategory/tooLarge``), then the
    /// maximum and minimum sides and the aspect-ratio range (``PixCore/ErrorCategory/dimensions``).
    /// Callers that read a header early (while a download streams in) can stop a bomb here.
    /// - Parameter header: dimensions from ``ImageDecoder/readHeader(_:format:)``.
    /// - Returns: the rejection, or `nil` when the dimensions pass.
    public func checkDimensions(of header: ImageHeader) -> ValidationRejection? {
        let (width, height) = (header.width, header.height)
        func reject(_ category: ErrorCategory, _ detail: String) -> ValidationRejection {
            ValidationRejection(
                category: category, detail: detail, stage: .header, format: header.format, width: width, height: height)
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > rules.maxPixels {
            return reject(
                .tooLarge,
                "\(width)×\(height) (\(Self.megapixels(overflow ? .max : pixels))) exceeds the pixel budget of "
                    + Self.megapixels(rules.maxPixels))
        }
        if width > rules.maxWidth || height > rules.maxHeight {
            return reject(.dimensions, "\(width)×\(height) exceeds the maximum \(rules.maxWidth)×\(rules.maxHeight)")
        }
        if width < rules.minWidth || height < rules.minHeight {
            return reject(.dimensions, "\(width)×\(height) is below the minimum \(rules.minWidth)×\(rules.minHeight)")
        }
        let ratio = Double(width) / Double(height)
        if let minimum = rules.minAspectRatio, ratio < minimum {
            return reject(
                .dimensions,
                "aspect ratio \(Self.decimal(ratio)) (\(width)×\(height)) is below the minimum \(Self.decimal(minimum))")
        }
        if let maximum = rules.maxAspectRatio, ratio > maximum {
            return reject(
                .dimensions,
                "aspect ratio \(Self.decimal(ratio)) (\(width)×\(height)) is above the maximum \(Self.decimal(maximum))")
        }
        return nil
    }

    private func decodeRejection(_ error: ImageDecodeError, header: ImageHeader) -> ValidationRejection {
        let category: ErrorCategory
        var detail = Self.sentence(error.message)
        switch error.code {
        case .tooLarge: category = .tooLarge
        case .outOfMemory:
            category = .tooLarge
            detail = "the decoder ran out of memory (\(detail))"
        case .unsupportedFormat: category = .format
        default: category = .decode
        }
        return ValidationRejection(
            category: category, detail: detail, stage: .decode, format: header.format, width: header.width,
            height: header.height)
    }

    /// Library messages start with a capital ("Premature end of JPEG file"); reasons read on after a colon.
    private static func sentence(_ message: String) -> String {
        let characters = Array(message)
        guard characters.count > 1, characters[0].isUppercase, characters[1].isLowercase else { return message }
        return characters[0].lowercased() + String(characters.dropFirst())
    }

    private static func byteText(_ count: Int) -> String {
        if count >= 1 << 20 { return String(format: "%.1f MiB", Double(count) / Double(1 << 20)) }
        if count >= 1 << 10 { return String(format: "%.1f KiB", Double(count) / Double(1 << 10)) }
        return count == 1 ? "1 byte" : "\(count) bytes"
    }

    private static func megapixels(_ pixels: Int) -> String {
        pixels >= 1_000_000 ? String(format: "%.1f MP", Double(pixels) / 1_000_000) : "\(pixels) pixels"
    }

    private static func decimal(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
