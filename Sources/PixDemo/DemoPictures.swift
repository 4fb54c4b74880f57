import CPixImage
import Synchronization

/// The offline demo's pictures: deterministic, photo-like images generated from a seed (gradient sky and ground,
/// smooth noise, overlapping shapes, grain) and encoded with the product's encoders (libjpeg, libpng, libwebp).
///
/// The same seed and size always give the same bytes, so a demo crawl gives the same images every time.
public enum DemoPictures {
    package struct Key: Hashable {
        package var kind: UInt8
        package var seed: UInt64
        package var width: Int
        package var height: Int
        package var quality: Int

        package init(kind: UInt8, seed: UInt64, width: Int, height: Int, quality: Int) {
            self.kind = kind
            self.seed = seed
            self.width = width
            self.height = height
            self.quality = quality
        }
    }

    private static let cache = Mutex<[Key: [UInt8]]>([:])

    /// 8-bit RGB pixels, row-major, `width * height * 3` bytes.
    /// - Parameters:
    ///   - seed: selects the picture.
    ///   - width: pixels per row (at least 1).
    ///   - height: rows (at least 1).
    public static func rgbPixels(seed: UInt64, width: Int, height: Int) -> [UInt8] {
        let width = max(1, width)
        let height = max(1, height)
        var random = SplitMix64(seed: seed)
        func color() -> (Int, Int, Int) {
            (Int(random.next() % 256), Int(random.next() % 256), Int(random.next() % 256))
        }
        let top = color()
        let bottom = color()
        let tint = (Int(random.next() % 81) - 40, Int(random.next() % 81) - 40, Int(random.next() % 81) - 40)
        let gridWidth = 9
        let gridHeight = 7
        let grid = (0..<(gridWidth * gridHeight)).map { _ in Int(random.next() % 81) - 40 }
        struct Shape {
            var isCircle: Bool
            var x0: Int, y0: Int, x1: Int, y1: Int
            var cx: Int, cy: Int, radiusSquared: Int
            var color: (Int, Int, Int)
        }
        let shapes: [Shape] = (0..<(3 + Int(random.next() % 5))).map { _ in
            let cx = Int(random.next() % UInt64(width))
            let cy = Int(random.next() % UInt64(height))
            let size = max(2, Int(random.next() % UInt64(max(2, min(width, height) / 3))) + min(width, height) / 12)
            let isCircle = random.next() % 2 == 0
            return Shape(
                isCircle: isCircle, x0: cx - size, y0: cy - size / 2, x1: cx + size, y1: cy + size / 2,
                cx: cx, cy: cy, radiusSquared: size * size, color: color())
        }
        let grainSeed = random.next()
        // Per-column terms are computed once, not once per pixel.
        let columnShade = (0..<width).map { x in x * 256 / width }
        let columnCell = (0..<width).map { x in x * (gridWidth - 1) * 256 / width }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let t = y * 256 / height
                let baseRed = (top.0 * (256 - t) + bottom.0 * t) >> 8
                let baseGreen = (top.1 * (256 - t) + bottom.1 * t) >> 8
                let baseBlue = (top.2 * (256 - t) + bottom.2 * t) >> 8
                // Smooth noise: bilinear interpolation over a coarse grid.
                let gy = y * (gridHeight - 1) * 256 / height
                let gridRow = gy >> 8
                let fy = gy & 255
                let rowShapes = shapes.filter { y >= $0.y0 && y < $0.y1 }
                for x in 0..<width {
                    let shade = columnShade[x]
                    let cell = columnCell[x]
                    let gridColumn = cell >> 8
                    let fx = cell & 255
                    let i00 = gridRow * gridWidth + gridColumn
                    let upper = grid[i00] * (256 - fx) + grid[i00 + 1] * fx
                    let lower = grid[i00 + gridWidth] * (256 - fx) + grid[i00 + gridWidth + 1] * fx
                    let smooth = (upper * (256 - fy) + lower * fy) >> 16
                    var r = baseRed + (tint.0 * shade >> 8) + smooth
                    var g = baseGreen + (tint.1 * shade >> 8) + smooth
                    var b = baseBlue + (tint.2 * shade >> 8) + smooth
                    for shape in rowShapes where x >= shape.x0 && x < shape.x1 {
                        if shape.isCircle {
                            let dx = x - shape.cx
                            let dy = y - shape.cy
                            if dx * dx + dy * dy > shape.radiusSquared { continue }
                        }
                        r = (r * 3 + shape.color.0 * 7) / 10
                        g = (g * 3 + shape.color.1 * 7) / 10
                        b = (b * 3 + shape.color.2 * 7) / 10
                    }
                    var hash = UInt64(truncatingIfNeeded: y &* 73_856_093 ^ x &* 19_349_663) ^ grainSeed
                    hash = (hash ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
                    let grain = Int((hash >> 32) & 15) - 8
                    let offset = (y * width + x) * 3
                    out[offset] = UInt8(clamping: r + grain)
                    out[offset + 1] = UInt8(clamping: g + grain)
                    out[offset + 2] = UInt8(clamping: b + grain)
                }
            }
        }
        return pixels
    }

    /// A baseline JPEG of the seed's picture.
    /// - Parameters:
    ///   - seed: selects the picture.
    ///   - width: image width (1…8192).
    ///   - height: image height (1…8192).
    ///   - quality: JPEG quality 1…100.
    public static func jpeg(seed: UInt64, width: Int = 320, height: Int = 240, quality: Int = 85) -> [UInt8] {
        cached(Key(kind: 1, seed: seed, width: width, height: height, quality: quality)) {
            let pixels = rgbPixels(seed: seed, width: width, height: height)
            return encode { out, length, status in
                cpix_jpeg_encode(
                    pixels, UInt32(max(1, width)), UInt32(max(1, height)), 3, Int32(quality), out, length, status)
            }
        }
    }

    /// A PNG (RGB, 8-bit) of the seed's picture.
    /// - Parameters:
    ///   - seed: selects the picture.
    ///   - width: image width (1…8192).
    ///   - height: image height (1…8192).
    public static func png(seed: UInt64, width: Int = 320, height: Int = 240) -> [UInt8] {
        cached(Key(kind: 2, seed: seed, width: width, height: height, quality: 0)) {
            let pixels = rgbPixels(seed: seed, width: width, height: height)
            return encode { out, length, status in
                cpix_png_encode(pixels, UInt32(max(1, width)), UInt32(max(1, height)), 3, out, length, status)
            }
        }
    }

    /// The first part of a JPEG, cut before its end-of-image marker: a download that "succeeded" with half a file.
    /// - Parameter keeping: the fraction of bytes kept (0…1).
    public static func truncatedJPEG(seed: UInt64, width: Int = 320, height: Int = 240, keeping: Double = 0.6)
        -> [UInt8]
    {
        let full = jpeg(seed: seed, width: width, height: height)
        return Array(full.prefix(max(4, Int(Double(full.count) * min(max(keeping, 0), 1)))))
    }

    /// A lossy WebP of the seed's picture (libwebp, single-threaded, so the bytes are stable).
    /// - Parameters:
    ///   - seed: selects the picture.
    ///   - width: image width (1…8192).
    ///   - height: image height (1…8192).
    ///   - quality: WebP quality 0…100.
    public static func webp(seed: UInt64, width: Int = 320, height: Int = 240, quality: Int = 80) -> [UInt8] {
        cached(Key(kind: 3, seed: seed, width: width, height: height, quality: quality)) {
            let pixels = rgbPixels(seed: seed, width: width, height: height)
            return encode { out, length, status in
                cpix_webp_encode(pixels, UInt32(max(1, width)), UInt32(max(1, height)), Int32(quality), out, length, status)
            }
        }
    }

    /// An HTML error page, the kind a CDN serves with `Content-Type: image/jpeg`.
    public static let html: [UInt8] = Array(
        """
        <!DOCTYPE html>
        <html><head><title>Access denied</title></head>
        <body><h1>Access denied</h1><p>You don't have permission to access this resource.</p></body></html>

        """.utf8)

    // MARK: - Helpers

    package static func cached(_ key: Key, make: () -> [UInt8]) -> [UInt8] {
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let bytes = make()
        cache.withLock { cache in
            if cache.count >= 512 { cache.removeAll() }
            cache[key] = bytes
        }
        return bytes
    }

    package static func encode(
        _ body: (
            UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
            UnsafeMutablePointer<cpix_status>
        ) -> Int32
    ) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        let code = body(&out, &length, &status)
        guard code == Int32(CPIX_OK), let out else {
            let message = withUnsafeBytes(of: status.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            preconditionFailure("demo picture encoding failed: \(message)")
        }
        defer { cpix_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}

/// A small, fast, seedable pseudo-random generator (SplitMix64).
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
