import CPixImage
import Foundation
import Testing

/// Pictures and encoded files built in memory for the validation tests.
enum TestImages {
    /// A smooth, photo-like RGB picture (a tilted wave pattern with a bright disc).
    static func waves(width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(width)
                let v = Double(y) / Double(height)
                var r = 128 + 90 * sin(2 * .pi * (1.3 * u + 0.4 * v))
                var g = 128 + 80 * cos(2 * .pi * (0.6 * u - 1.1 * v))
                var b = 100 + 60 * sin(2 * .pi * (2.1 * u * v))
                if (u - 0.3) * (u - 0.3) + (v - 0.6) * (v - 0.6) < 0.03 { (r, g, b) = (250, 240, 200) }
                let index = (y * width + x) * 3
                pixels[index] = UInt8(max(0, min(255, r)))
                pixels[index + 1] = UInt8(max(0, min(255, g)))
                pixels[index + 2] = UInt8(max(0, min(255, b)))
            }
        }
        return pixels
    }

    /// A different picture: diagonal bands and a dark square.
    static func bands(width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(width)
                let v = Double(y) / Double(height)
                var value = 128 + 110 * cos(2 * .pi * (2.7 * v - 0.9 * u))
                if u > 0.55 && u < 0.85 && v > 0.1 && v < 0.4 { value = 20 }
                let index = (y * width + x) * 3
                pixels[index] = UInt8(max(0, min(255, value)))
                pixels[index + 1] = UInt8(max(0, min(255, 255 - value)))
                pixels[index + 2] = UInt8(max(0, min(255, value * 0.5 + 40)))
            }
        }
        return pixels
    }

    /// libjpeg's RGB → gray (Y) conversion, as the decoders use it.
    static func gray(rgb: [UInt8]) -> [UInt8] {
        stride(from: 0, to: rgb.count, by: 3).map { index in
            let r = UInt32(rgb[index]), g = UInt32(rgb[index + 1]), b = UInt32(rgb[index + 2])
            return UInt8((19595 * r + 38470 * g + 7471 * b + 32768) >> 16)
        }
    }

    /// PNG through the shim's libpng encoder.
    static func png(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 3) throws -> [UInt8] {
        try encode { out, length, status in
            cpix_png_encode(pixels, UInt32(width), UInt32(height), Int32(channels), &out, &length, &status)
        }
    }

    /// Baseline JPEG through the shim's libjpeg encoder.
    static func jpeg(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 3, quality: Int = 85) throws
        -> [UInt8]
    {
        try encode { out, length, status in
            cpix_jpeg_encode(
                pixels, UInt32(width), UInt32(height), Int32(channels), Int32(quality), &out, &length, &status)
        }
    }

    /// A JPEG of the wave picture.
    static func wavesJPEG(width: Int = 320, height: Int = 240) throws -> [UInt8] {
        try jpeg(waves(width: width, height: height), width: width, height: height)
    }

    /// A PNG of the wave picture.
    static func wavesPNG(width: Int = 320, height: Int = 240) throws -> [UInt8] {
        try png(waves(width: width, height: height), width: width, height: height)
    }

    private static func encode(
        _ body: (inout UnsafeMutablePointer<UInt8>?, inout Int, inout cpix_status) -> Int32
    ) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        let result = body(&out, &length, &status)
        try #require(result == 0, "encoder failed with code \(result)")
        let pointer = try #require(out)
        defer { cpix_free(pointer) }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }

    // MARK: - JPEG surgery

    /// Offset of the first byte of entropy-coded data (just after the first SOS segment).
    static func scanDataOffset(_ jpeg: [UInt8]) throws -> Int {
        var index = 2
        while index + 4 < jpeg.count {
            try #require(jpeg[index] == 0xFF, "expected a marker at \(index)")
            let marker = jpeg[index + 1]
            let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
            if marker == 0xDA { return index + 2 + length }
            index += 2 + length
        }
        throw JPEGSurgeryError.noScan
    }

    enum JPEGSurgeryError: Error { case noScan }

    /// Overwrites 64 bytes in the middle of the entropy-coded data with stuffed 0xFF bytes: a run of
    /// one-bits no Huffman table can decode.
    static func corruptEntropy(_ jpeg: [UInt8]) throws -> [UInt8] {
        let start = try scanDataOffset(jpeg)
        let middle = start + (jpeg.count - 2 - start) / 2
        var damaged = jpeg
        for index in stride(from: middle, to: middle + 64, by: 2) {
            damaged[index] = 0xFF
            damaged[index + 1] = 0x00
        }
        return damaged
    }
}

/// Builds PNG files byte by byte (stored deflate blocks), for layouts and damage the libpng encoder
/// of the shim does not produce: palette, 16-bit, sub-byte gray, Adam7 interlacing, forged headers.
struct PNGBuilder {
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        var samples: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    var width: Int
    var height: Int
    var colorType: ColorType
    var bitDepth: Int = 8
    var interlaced = false
    var palette: [UInt8] = []  // RGB triplets
    /// Samples of pixel (x, y); `colorType.samples` values, each below 2^bitDepth.
    var pixel: (Int, Int) -> [Int] = { _, _ in [0] }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    func build() -> [UInt8] {
        var file = Self.signature
        file += Self.chunk("IHDR", ihdr(width: width, height: height))
        if colorType == .palette { file += Self.chunk("PLTE", palette) }
        file += Self.chunk("IDAT", Self.zlibStored(scanlines()))
        file += Self.chunk("IEND", [])
        return file
    }

    func ihdr(width: Int, height: Int) -> [UInt8] {
        Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
            + [UInt8(bitDepth), colorType.rawValue, 0, 0, interlaced ? 1 : 0]
    }

    /// Filter-type-0 scanlines, pass by pass when interlaced.
    func scanlines() -> [UInt8] {
        let passes: [(x: Int, y: Int, dx: Int, dy: Int)] =
            interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        var data: [UInt8] = []
        for pass in passes {
            let xs = Array(stride(from: pass.x, to: width, by: pass.dx))
            let ys = Array(stride(from: pass.y, to: height, by: pass.dy))
            if xs.isEmpty || ys.isEmpty { continue }
            for y in ys {
                data.append(0)
                data += pack(xs.map { pixel($0, y) })
            }
        }
        return data
    }

    private func pack(_ pixels: [[Int]]) -> [UInt8] {
        if bitDepth >= 8 {
            return pixels.flatMap { samples in
                samples.flatMap { bitDepth == 16 ? [UInt8($0 >> 8), UInt8($0 & 0xFF)] : [UInt8($0)] }
            }
        }
        var bytes: [UInt8] = []
        var current = 0
        var used = 0
        for samples in pixels {
            for sample in samples {
                current = current << bitDepth | sample
                used += bitDepth
                if used == 8 {
                    bytes.append(UInt8(current))
                    (current, used) = (0, 0)
                }
            }
        }
        if used > 0 { bytes.append(UInt8(current << (8 - used))) }
        return bytes
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<(offset + count)]
            offset += count
        } while offset < data.count
        return out + bigEndian(adler32(data))
    }

    /// Byte ranges of every chunk: (type, start of the length field, start of the data, data length).
    static func chunks(_ png: [UInt8]) -> [(type: String, start: Int, data: Int, length: Int)] {
        var result: [(String, Int, Int, Int)] = []
        var index = 8
        while index + 8 <= png.count {
            let length = Int(png[index]) << 24 | Int(png[index + 1]) << 16 | Int(png[index + 2]) << 8 | Int(png[index + 3])
            let type = String(decoding: png[(index + 4)..<(index + 8)], as: UTF8.self)
            result.append((type, index, index + 8, length))
            index += 12 + length
        }
        return result
    }
}
