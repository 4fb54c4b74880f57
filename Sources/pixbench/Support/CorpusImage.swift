import CPixImage

/// One synthetic, photo-like picture of the benchmark corpus: a smooth colour field, soft-edged shapes, a
/// mid-frequency texture and per-pixel grain, so encoded sizes resemble photographs (JPEG quality 85 at
/// 256–1,024 px a side lands around 50–400 KB) rather than flat test cards.
struct CorpusImage {
    enum Format: String {
        case jpeg, png, webp

        var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
    }

    let width: Int
    let height: Int
    let format: Format
    private(set) var pixels: [UInt8]

    /// Synthesises image number `index` of the corpus with seed `seed`: every tenth image is a WebP, every fourth
    /// of the others a PNG, the rest JPEG; sides are uniform in `sides`.
    init(seed: UInt64, index: Int, sides: ClosedRange<Int>) {
        var random = BenchRandom(seed: seed, stream: UInt64(index))
        width = random.int(in: sides)
        height = random.int(in: sides)
        format = index % 10 == 9 ? .webp : index % 4 == 3 ? .png : .jpeg
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        let grainAmplitude = format != .png ? random.int(in: 8...18) : random.int(in: 1...3)
        let textureAmplitude = Float(random.int(in: 12...40))
        paintBackground(&random, textureAmplitude: textureAmplitude)
        for _ in 0..<random.int(in: 6...24) { paintDisc(&random) }
        addGrain(&random, amplitude: grainAmplitude)
    }

    /// Encodes with the project's own encoders: libjpeg at quality 85, libpng at zlib level `pngLevel`, libwebp
    /// (lossy) at quality 85.
    func encoded(pngLevel: Int = 6) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        let result = pixels.withUnsafeBufferPointer { buffer in
            switch format {
            case .jpeg:
                cpix_jpeg_encode(buffer.baseAddress, UInt32(width), UInt32(height), 3, 85, &out, &length, &status)
            case .png:
                cpix_png_encode_level(
                    buffer.baseAddress, UInt32(width), UInt32(height), 3, Int32(pngLevel), &out, &length, &status)
            case .webp:
                cpix_webp_encode(buffer.baseAddress, UInt32(width), UInt32(height), 85, &out, &length, &status)
            }
        }
        guard result == Int32(CPIX_OK), let out else {
            throw BenchError("encoding a \(width)×\(height) \(format.rawValue) failed (code \(result))")
        }
        defer { cpix_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// A smooth colour field (a 5×5 grid of random colours, smoothly interpolated) plus a mid-frequency
    /// texture (a coarse random grid every 6–14 px, interpolated) in every channel.
    private mutating func paintBackground(_ random: inout BenchRandom, textureAmplitude: Float) {
        let grid = 5
        var colours = [Float](repeating: 0, count: grid * grid * 3)
        for index in colours.indices { colours[index] = Float(random.int(in: 20...235)) }
        let cell = random.int(in: 6...14)
        let textureWidth = width / cell + 2
        let textureHeight = height / cell + 2
        var texture = [Float](repeating: 0, count: textureWidth * textureHeight)
        for index in texture.indices { texture[index] = (Float(random.unit()) - 0.5) * 2 * textureAmplitude }
        let (width, height) = (self.width, self.height)
        // Per column: the colour-grid cell and its smoothed weight, the texture cell and its weight.
        var gridColumn = [Int](repeating: 0, count: width)
        var gridWeight = [Float](repeating: 0, count: width)
        var textureColumn = [Int](repeating: 0, count: width)
        var textureWeight = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let gx = Float(x) / Float(max(1, width - 1)) * Float(grid - 1)
            gridColumn[x] = min(Int(gx), grid - 2)
            gridWeight[x] = smooth(gx - Float(gridColumn[x]))
            let tx = Float(x) / Float(cell)
            textureColumn[x] = Int(tx)
            textureWeight[x] = tx - Float(Int(tx))
        }
        var rowColours = [Float](repeating: 0, count: grid * 3)
        var rowTexture = [Float](repeating: 0, count: textureWidth)
        pixels.withUnsafeMutableBufferPointer { pixels in
            for y in 0..<height {
                // Interpolate the grids vertically once per row.
                let gy = Float(y) / Float(max(1, height - 1)) * Float(grid - 1)
                let y0 = min(Int(gy), grid - 2)
                let fy = smooth(gy - Float(y0))
                for index in 0..<(grid * 3) {
                    rowColours[index] = colours[y0 * grid * 3 + index] * (1 - fy) + colours[(y0 + 1) * grid * 3 + index] * fy
                }
                let ty = Float(y) / Float(cell)
                let ty0 = Int(ty)
                let tfy = ty - Float(ty0)
                for index in 0..<textureWidth {
                    rowTexture[index] =
                        texture[ty0 * textureWidth + index] * (1 - tfy) + texture[(ty0 + 1) * textureWidth + index] * tfy
                }
                rowColours.withUnsafeBufferPointer { rowColours in
                    rowTexture.withUnsafeBufferPointer { rowTexture in
                        var base = y * width * 3
                        for x in 0..<width {
                            let tx0 = textureColumn[x]
                            let tfx = textureWeight[x]
                            let grain = rowTexture[tx0] * (1 - tfx) + rowTexture[tx0 + 1] * tfx
                            let c0 = gridColumn[x] * 3
                            let fx = gridWeight[x]
                            for channel in 0..<3 {
                                let value =
                                    rowColours[c0 + channel] * (1 - fx) + rowColours[c0 + 3 + channel] * fx + grain
                                pixels[base + channel] = UInt8(max(0, min(255, value)))
                            }
                            base += 3
                        }
                    }
                }
            }
        }
    }

    /// A soft-edged ellipse of one colour, blended over its bounding box.
    private mutating func paintDisc(_ random: inout BenchRandom) {
        let side = Double(min(width, height))
        let radiusX = side * (0.04 + random.unit() * 0.25)
        let radiusY = side * (0.04 + random.unit() * 0.25)
        let centreX = random.unit() * Double(width)
        let centreY = random.unit() * Double(height)
        let colour = (0..<3).map { _ in Double(random.int(in: 0...255)) }
        let opacity = 0.4 + random.unit() * 0.6
        let (width, height) = (self.width, self.height)
        let minX = max(0, Int(centreX - radiusX)), maxX = min(width - 1, Int(centreX + radiusX))
        let minY = max(0, Int(centreY - radiusY)), maxY = min(height - 1, Int(centreY + radiusY))
        guard minX <= maxX, minY <= maxY else { return }
        pixels.withUnsafeMutableBufferPointer { pixels in
            for y in minY...maxY {
                let dy = (Double(y) - centreY) / radiusY
                for x in minX...maxX {
                    let dx = (Double(x) - centreX) / radiusX
                    let distance = dx * dx + dy * dy
                    guard distance < 1 else { continue }
                    let alpha = opacity * min(1, (1 - distance) * 4)
                    let base = (y * width + x) * 3
                    for channel in 0..<3 {
                        let old = Double(pixels[base + channel])
                        pixels[base + channel] = UInt8(max(0, min(255, old + (colour[channel] - old) * alpha)))
                    }
                }
            }
        }
    }

    /// Per-pixel grain in `-amplitude...amplitude`, the same in every channel (luminance noise).
    private mutating func addGrain(_ random: inout BenchRandom, amplitude: Int) {
        guard amplitude > 0 else { return }
        let span = UInt64(2 * amplitude + 1)
        let count = width * height
        pixels.withUnsafeMutableBufferPointer { pixels in
            var bits: UInt64 = 0
            var left = 0
            for pixel in 0..<count {
                if left == 0 {
                    bits = random.next()
                    left = 4
                }
                let noise = Int((bits & 0xFFFF) % span) - amplitude
                bits >>= 16
                left -= 1
                let base = pixel * 3
                for channel in 0..<3 {
                    pixels[base + channel] = UInt8(max(0, min(255, Int(pixels[base + channel]) + noise)))
                }
            }
        }
    }
}

private func smooth(_ t: Float) -> Float { t * t * (3 - 2 * t) }

/// A benchmark failure with a message.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
