import CZlib

/// Images written byte by byte for tests that need what the fixture encoders do not make: interlaced PNGs
/// (deflated, so a large one stays small on disk) and large lossless WebPs that cost nothing to encode.
public enum SyntheticImages {
    /// An 8-bit RGB PNG of `pixels` (`width × height × 3` bytes, row-major), Adam7-interlaced when `interlaced`.
    public static func png(width: Int, height: Int, interlaced: Bool, pixels: [UInt8]) -> [UInt8] {
        precondition(pixels.count == width * height * 3)
        return png(width: width, height: height, interlaced: interlaced) { pass, y in
            stride(from: pass.x, to: width, by: pass.dx).flatMap { x in pixels[(y * width + x) * 3..<(y * width + x) * 3 + 3] }
        }
    }

    /// An 8-bit RGB PNG of vertical stripes (every row the same), Adam7-interlaced when `interlaced`: a picture of
    /// any size that encodes in moments and deflates to a few kilobytes.
    public static func stripes(width: Int, height: Int, interlaced: Bool) -> [UInt8] {
        var row: [UInt8] = []
        row.reserveCapacity(width * 3)
        for x in 0..<width {
            row += [UInt8(x % 251), UInt8(x / 7 % 256), UInt8(255 - x % 256)]
        }
        var passRows: [Int: [UInt8]] = [:]
        return png(width: width, height: height, interlaced: interlaced) { pass, _ in
            if let cached = passRows[pass.x * 16 + pass.dx] { return cached }
            let sub = stride(from: pass.x, to: width, by: pass.dx).flatMap { x in row[x * 3..<x * 3 + 3] }
            passRows[pass.x * 16 + pass.dx] = sub
            return sub
        }
    }

    /// A lossless WebP (VP8L) of `width × height` pixels (each side 1…16384) all of one opaque colour: every prefix
    /// code has a single symbol, so the pixels take no bits and the file is a few dozen bytes, yet a decoder
    /// reconstructs the whole frame.
    public static func solidLosslessWebP(width: Int, height: Int, red: UInt8 = 200, green: UInt8 = 120, blue: UInt8 = 40)
        -> [UInt8]
    {
        precondition((1...16_384).contains(width) && (1...16_384).contains(height))
        var bits = BitWriter()
        bits.write(UInt32(width - 1), count: 14)
        bits.write(UInt32(height - 1), count: 14)
        bits.write(0, count: 1)  // alpha unused
        bits.write(0, count: 3)  // version 0
        bits.write(0, count: 1)  // no transform
        bits.write(0, count: 1)  // no colour cache
        bits.write(0, count: 1)  // one prefix code group (no meta prefix image)
        // Green (with lengths), red, blue, alpha: a simple code of one 8-bit symbol each.
        for symbol in [green, red, blue, 255] {
            bits.write(1, count: 1)  // simple code
            bits.write(0, count: 1)  // one symbol
            bits.write(1, count: 1)  // an 8-bit symbol
            bits.write(UInt32(symbol), count: 8)
        }
        // Distance: a simple code of the one 1-bit symbol 0.
        bits.write(1, count: 1)
        bits.write(0, count: 1)
        bits.write(0, count: 1)
        bits.write(0, count: 1)
        var payload: [UInt8] = [0x2F] + bits.bytes
        if payload.count % 2 == 1 { payload.append(0) }
        return Array("RIFF".utf8) + littleEndian(UInt32(4 + 8 + payload.count)) + Array("WEBP".utf8)
            + Array("VP8L".utf8) + littleEndian(UInt32(payload.count)) + payload
    }

    /// One Adam7 pass (or the whole image): first column and row, column and row steps.
    public struct Pass: Sendable {
        public var x: Int
        public var y: Int
        public var dx: Int
        public var dy: Int
    }

    static let adam7 = [
        Pass(x: 0, y: 0, dx: 8, dy: 8), Pass(x: 4, y: 0, dx: 8, dy: 8), Pass(x: 0, y: 4, dx: 4, dy: 8),
        Pass(x: 2, y: 0, dx: 4, dy: 4), Pass(x: 0, y: 2, dx: 2, dy: 4), Pass(x: 1, y: 0, dx: 2, dy: 2),
        Pass(x: 0, y: 1, dx: 1, dy: 2),
    ]

    /// A PNG whose scanlines `row(pass, y)` gives (the RGB samples of the pass's columns of row `y`), deflated as
    /// they come.
    static func png(width: Int, height: Int, interlaced: Bool, row: (Pass, Int) -> [UInt8]) -> [UInt8] {
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, interlaced ? 1 : 0]  // 8-bit RGB, deflate, adaptive filtering
        let deflater = Deflater()
        for pass in interlaced ? adam7 : [Pass(x: 0, y: 0, dx: 1, dy: 1)] {
            guard pass.x < width, pass.y < height else { continue }  // an empty pass has no scanlines
            for y in stride(from: pass.y, to: height, by: pass.dy) {
                deflater.add([0])  // filter type None
                deflater.add(row(pass, y))
            }
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", deflater.finish())
            + chunk("IEND", [])
    }

    /// A PNG chunk: length, type, data and the CRC-32 of type and data.
    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc)
    }

    public static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
}

/// Bits packed least significant first, as VP8L reads them.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var used = 0

    mutating func write(_ value: UInt32, count: Int) {
        for bit in 0..<count {
            if used == 0 { bytes.append(0) }
            bytes[bytes.count - 1] |= UInt8((value >> UInt32(bit)) & 1) << UInt8(used)
            used = (used + 1) % 8
        }
    }
}

/// A zlib stream written piece by piece (level 1: test pictures, not archives). The stream lives on the heap:
/// zlib keeps a pointer back to it, so it must not move.
private final class Deflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init() {
        stream.initialize(to: z_stream())
        let status = deflateInit_(stream, 1, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit failed: \(status)")
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func add(_ bytes: [UInt8]) { pump(bytes, flush: Z_NO_FLUSH) }

    func finish() -> [UInt8] {
        pump([], flush: Z_FINISH)
        return output
    }

    private func pump(_ bytes: [UInt8], flush: Int32) {
        var input = bytes
        input.withUnsafeMutableBufferPointer { input in
            stream.pointee.next_in = input.baseAddress
            stream.pointee.avail_in = UInt32(input.count)
            repeat {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    return deflate(stream, flush)
                }
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate: \(status)")
                output += chunk[0..<(chunk.count - Int(stream.pointee.avail_out))]
            } while stream.pointee.avail_out == 0
        }
    }
}
