import PixDemo
import PixTestSupport

/// Test images: the demo's generated pictures (``DemoPictures``, so a test can compare a download with
/// `FixtureImages.jpeg(seed:…)`) plus the malformed files of the fixture internet.
public typealias FixtureImages = DemoPictures

extension FixtureImages {
    /// A PNG whose first IDAT chunk has a wrong CRC (the pixel data is intact; only the checksum is off).
    public static func pngWithBadCRC(seed: UInt64, width: Int = 320, height: Int = 240) -> [UInt8] {
        var bytes = png(seed: seed, width: width, height: height)
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(readBigEndian(bytes, offset))
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let crcOffset = offset + 8 + length
            if type == "IDAT" {
                bytes[crcOffset + 3] ^= 0xff
                return bytes
            }
            offset = crcOffset + 4
        }
        preconditionFailure("encoded PNG has no IDAT chunk")
    }

    /// A tiny, well-formed PNG whose IHDR declares `width`×`height` (valid CRCs): a decompression bomb that a
    /// validator must reject from the header alone.
    public static func pngDeclaring(width: UInt32 = 100_000, height: UInt32 = 100_000) -> [UInt8] {
        let header =
            SyntheticImages.bigEndian(width) + SyntheticImages.bigEndian(height) + [8, 2, 0, 0, 0]  // 8-bit RGB, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + SyntheticImages.chunk("IHDR", header)
            + SyntheticImages.chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])
            + SyntheticImages.chunk("IEND", [])
    }

    /// A valid 1×1 GIF89a.
    public static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    /// A small SVG document.
    public static let svg: [UInt8] = Array(
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">\
        <rect width="64" height="64" fill="#48a"/><circle cx="32" cy="32" r="20" fill="#fc4"/></svg>

        """.utf8)

    private static func readBigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
