import Foundation
import PixCore

/// Recognises an image format from its leading bytes only.
///
/// Content-Type headers and URL extensions are never consulted. Formats PixCrawler cannot decode
/// (GIF, WebP, BMP, TIFF, AVIF/HEIF, SVG) and HTML pages are recognised too, so they are rejected by
/// name rather than decoded as something else.
public enum ImageSniffer {
    /// How many leading bytes `format(of:)` looks at, at most. A caller that sniffs while a
    /// download streams in can decide as soon as it holds this many bytes (or the whole body).
    public static let prefixLength = 1024

    /// The format of the content starting with `bytes`, or `nil` when it is not recognised.
    /// - Parameter bytes: the content, or at least its first ``prefixLength`` bytes.
    public static func format(of bytes: some ContiguousBytes) -> ImageFormat? {
        bytes.withUnsafeBytes { format(of: $0) }
    }

    /// The format of the content starting with `bytes`, or `nil` when it is not recognised.
    /// - Parameter bytes: the content, or at least its first ``prefixLength`` bytes.
    public static func format(of bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let b = UnsafeRawBufferPointer(rebasing: bytes.prefix(prefixLength))
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) { return .gif }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), b[8..<12].elementsEqual("WEBP".utf8) { return .webp }
        if isBMP(b) { return .bmp }
        if b.starts(with: [0x49, 0x49, 0x2A, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || b.starts(with: [0x49, 0x49, 0x2B, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2B])
        {
            return .tiff
        }
        if isISOImage(b) { return .avif }
        return markupFormat(b)
    }

    /// `BM`, then a DIB header whose size is one of the known BITMAPINFOHEADER variants.
    private static func isBMP(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 18, b[0] == 0x42, b[1] == 0x4D else { return false }
        let dibSize = UInt32(b[14]) | UInt32(b[15]) << 8 | UInt32(b[16]) << 16 | UInt32(b[17]) << 24
        return [12, 16, 40, 52, 56, 64, 108, 124].contains(dibSize)
    }

    /// ISO base media file (`ftyp` box) whose major or compatible brands name an AVIF or HEIF image.
    /// HEIF images are reported as ``ImageFormat/avif``, the only ISO-BMFF image format PixCore names.
    private static func isISOImage(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 16, b[4..<8].elementsEqual("ftyp".utf8) else { return false }
        let boxSize = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        let brands: Set<String> = ["avif", "avis", "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"]
        var offsets = [8]  // major brand
        var offset = 16  // compatible brands follow the minor version
        while offset + 4 <= min(boxSize, b.count) {
            offsets.append(offset)
            offset += 4
        }
        return offsets.contains { brands.contains(String(decoding: b[$0..<($0 + 4)], as: UTF8.self)) }
    }

    /// SVG and HTML, after an optional UTF-8 byte-order mark and leading whitespace.
    private static func markupFormat(_ b: UnsafeRawBufferPointer) -> ImageFormat? {
        var start = 0
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < b.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(b[start]) { start += 1 }
        guard start < b.count, b[start] == UInt8(ascii: "<") else { return nil }
        let text = String(decoding: b[start...], as: UTF8.self).lowercased()
        if text.hasPrefix("<svg") { return .svg }
        for tag in ["<!doctype html", "<html", "<head", "<body"] where text.hasPrefix(tag) { return .html }
        // A prologue (`<?xml`, a comment, a doctype): whichever root element comes first decides.
        guard text.hasPrefix("<?xml") || text.hasPrefix("<!--") || text.hasPrefix("<!doctype") else { return nil }
        let svg = text.range(of: "<svg")?.lowerBound
        let html = text.range(of: "<html")?.lowerBound
        switch (svg, html) {
        case let (svg?, html?): return svg < html ? .svg : .html
        case (.some, nil): return .svg
        case (nil, .some): return .html
        case (nil, nil): return text.hasPrefix("<!doctype svg") ? .svg : nil
        }
    }
}
