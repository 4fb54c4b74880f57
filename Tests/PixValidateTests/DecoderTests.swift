import CPixImage
import PixCore
import PixValidate
import Testing

@Suite struct DecoderTests {
    func decode(
        _ bytes: [UInt8], _ format: ImageFormat, mode: ImageDecodeMode = .entropyComplete,
        limits: DecodeLimits = DecodeLimits()
    ) throws(ImageDecodeError) -> DecodedImage {
        try ImageDecoder.decode(bytes, format: format, mode: mode, limits: limits)
    }

    func header(_ bytes: [UInt8], _ format: ImageFormat) throws(ImageDecodeError) -> ImageHeader {
        try ImageDecoder.readHeader(bytes, format: format)
    }

    func decodeError(
        _ bytes: [UInt8], _ format: ImageFormat, mode: ImageDecodeMode = .entropyComplete,
        limits: DecodeLimits = DecodeLimits()
    ) -> ImageDecodeError? {
        do {
            _ = try decode(bytes, format, mode: mode, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Round trips

    @Test(arguments: [(1, 37, 23), (3, 320, 240), (4, 64, 65)])
    func pngRoundTripKeepsDimensions(channels: Int, width: Int, height: Int) throws {
        let pixels = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let png = try TestImages.png(pixels, width: width, height: height, channels: channels)
        let read = try header(png, .png)
        #expect((read.width, read.height, read.components, read.bitDepth) == (width, height, channels, 8))
        let decoded = try decode(png, .png)
        #expect((decoded.header.width, decoded.header.height) == (width, height))
        #expect(decoded.hashGrid.count == 72)
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize], [(1, 33, 17), (3, 640, 480), (3, 9, 8)])
    func jpegRoundTripKeepsDimensions(mode: ImageDecodeMode, shape: (channels: Int, width: Int, height: Int)) throws {
        let rgb = TestImages.waves(width: shape.width, height: shape.height)
        let pixels = shape.channels == 1 ? TestImages.gray(rgb: rgb) : rgb
        let jpeg = try TestImages.jpeg(pixels, width: shape.width, height: shape.height, channels: shape.channels)
        let read = try header(jpeg, .jpeg)
        #expect((read.width, read.height, read.components) == (shape.width, shape.height, shape.channels))
        #expect(!read.isProgressive)
        let decoded = try decode(jpeg, .jpeg, mode: mode)
        #expect((decoded.header.width, decoded.header.height) == (shape.width, shape.height))
    }

    @Test func scaledJPEGGridMatchesFullSizeGrid() throws {
        let jpeg = try TestImages.wavesJPEG(width: 640, height: 480)
        let scaled = try decode(jpeg, .jpeg, mode: .entropyComplete).hashGrid
        let full = try decode(jpeg, .jpeg, mode: .fullSize).hashGrid
        let largest = zip(scaled, full).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(largest <= 6, "1/8-scale cells differ from full-size cells by up to \(largest)")
    }

    @Test func pngGridIsTheExactAreaAverageOfTheGrayPixels() throws {
        let (width, height) = (101, 67)  // not multiples of the 9×8 grid
        let gray = TestImages.gray(rgb: TestImages.waves(width: width, height: height))
        let png = try TestImages.png(gray, width: width, height: height, channels: 1)
        #expect(try decode(png, .png).hashGrid == DifferenceHash.averageGrid(gray: gray, width: width, height: height))
    }

    @Test func imagesSmallerThanTheGridAreAveragedUp() throws {
        let gray: [UInt8] = [0, 50, 100, 150, 200, 250]  // 3×2
        let png = try TestImages.png(gray, width: 3, height: 2, channels: 1)
        #expect(try decode(png, .png).hashGrid == DifferenceHash.averageGrid(gray: gray, width: 3, height: 2))
    }

    // MARK: PNG layouts

    static let layoutWidth = 45
    static let layoutHeight = 29

    /// The reference gray of the layout tests: a gradient with a bright block.
    static func level(_ x: Int, _ y: Int) -> Int {
        (x * 5 + y * 3) % 256 < 200 ? (x * 5 + y * 3) % 256 : 255 - (x + y) % 50
    }

    static var layouts: [(name: String, builder: PNGBuilder)] {
        let (w, h) = (layoutWidth, layoutHeight)
        var palette: [UInt8] = []
        for index in 0..<256 { palette += [UInt8(index), UInt8(index), UInt8(index)] }
        return [
            ("gray 8", PNGBuilder(width: w, height: h, colorType: .gray, pixel: { [level($0, $1)] })),
            (
                "gray 8 interlaced",
                PNGBuilder(width: w, height: h, colorType: .gray, interlaced: true, pixel: { [level($0, $1)] })
            ),
            ("gray 16", PNGBuilder(width: w, height: h, colorType: .gray, bitDepth: 16, pixel: { [level($0, $1) * 257] })),
            ("gray+alpha", PNGBuilder(width: w, height: h, colorType: .grayAlpha, pixel: { [level($0, $1), 128] })),
            (
                "rgb 16 interlaced",
                PNGBuilder(
                    width: w, height: h, colorType: .rgb, bitDepth: 16, interlaced: true,
                    pixel: {
                        let v = level($0, $1) * 257; return [v, v, v]
                    })
            ),
            (
                "rgba",
                PNGBuilder(
                    width: w, height: h, colorType: .rgba,
                    pixel: {
                        let v = level($0, $1); return [v, v, v, 9]
                    })
            ),
            ("palette", PNGBuilder(width: w, height: h, colorType: .palette, palette: palette, pixel: { [level($0, $1)] })),
            (
                "palette interlaced",
                PNGBuilder(
                    width: w, height: h, colorType: .palette, interlaced: true, palette: palette,
                    pixel: { [level($0, $1)] })
            ),
        ]
    }

    @Test(arguments: layouts.indices)
    func everyPNGLayoutDecodesToTheSameGrid(_ index: Int) throws {
        let layout = Self.layouts[index]
        let (w, h) = (Self.layoutWidth, Self.layoutHeight)
        let reference = (0..<h).flatMap { y in (0..<w).map { x in UInt8(Self.level(x, y)) } }
        let png = layout.builder.build()
        let decoded = try decode(png, .png)
        #expect((decoded.header.width, decoded.header.height) == (w, h), "\(layout.name)")
        #expect(decoded.header.isProgressive == layout.builder.interlaced, "\(layout.name)")
        #expect(decoded.hashGrid == DifferenceHash.averageGrid(gray: reference, width: w, height: h), "\(layout.name)")
    }

    @Test func oneBitGrayIsExpandedToFullRange() throws {
        let builder = PNGBuilder(width: 18, height: 8, colorType: .gray, bitDepth: 1, pixel: { x, _ in [x < 9 ? 0 : 1] })
        let grid = try decode(builder.build(), .png).hashGrid
        #expect(grid[0] == 0 && grid[8] == 255)
    }

    @Test(arguments: [1, 2, 4])
    func subByteInterlacedGrayMatchesItsNonInterlacedTwin(bitDepth: Int) throws {
        let levels = 1 << bitDepth
        var builder = PNGBuilder(
            width: 37, height: 21, colorType: .gray, bitDepth: bitDepth, pixel: { x, y in [(x / 3 + y) % levels] })
        let plain = try decode(builder.build(), .png).hashGrid
        builder.interlaced = true
        #expect(try decode(builder.build(), .png).hashGrid == plain)
    }

    @Test func tinyInterlacedImagesWithEmptyPassesDecode() throws {
        for (width, height) in [(1, 1), (2, 1), (1, 5), (3, 3)] {
            let builder = PNGBuilder(
                width: width, height: height, colorType: .gray, interlaced: true, pixel: { x, y in [x * 40 + y * 20] })
            let reference = (0..<height).flatMap { y in (0..<width).map { x in UInt8(x * 40 + y * 20) } }
            let decoded = try decode(builder.build(), .png)
            #expect(decoded.hashGrid == DifferenceHash.averageGrid(gray: reference, width: width, height: height))
        }
    }

    // MARK: Bombs

    /// Signature, an IHDR declaring 100000×100000 RGB with a valid CRC, IEND; no image data at all.
    static func forgedBomb() -> [UInt8] {
        let builder = PNGBuilder(width: 100_000, height: 100_000, colorType: .rgb)
        return PNGBuilder.signature + PNGBuilder.chunk("IHDR", builder.ihdr(width: 100_000, height: 100_000))
            + PNGBuilder.chunk("IEND", [])
    }

    @Test func forgedPNGHeaderIsReadWithoutDecoding() throws {
        let read = try header(Self.forgedBomb(), .png)
        #expect((read.width, read.height) == (100_000, 100_000))
    }

    @Test func shimRefusesABombBeforeTouchingItsOutputs() {
        let bomb = Self.forgedBomb()
        var grid = [UInt8](repeating: 0xAB, count: 72)
        var header = cpix_image_header()
        var status = cpix_status()
        let result = grid.withUnsafeMutableBufferPointer { grid in
            var options = cpix_decode_options(
                max_pixels: 50_000_000, max_width: 0, max_height: 0, max_memory: 0, grid: grid.baseAddress,
                grid_width: 9, grid_height: 8)
            return cpix_png_decode(bomb, bomb.count, &options, &header, &status)
        }
        #expect(Int(result) == Int(CPIX_ERR_TOO_LARGE))
        #expect(grid.allSatisfy { $0 == 0xAB }, "the grid was written, so decoding started")
        // Had libpng been entered, the missing IDAT would have been the error instead.
        #expect(decodeError(bomb, .png, limits: DecodeLimits(maxPixels: .max))?.code == .corrupt)
    }

    @Test func jpegBeyondTheBudgetIsRefusedFromItsFrameHeader() throws {
        let jpeg = try TestImages.wavesJPEG(width: 200, height: 100)
        let error = decodeError(jpeg, .jpeg, limits: DecodeLimits(maxPixels: 19_999))
        #expect(error?.code == .tooLarge)
        #expect(decodeError(jpeg, .jpeg, limits: DecodeLimits(maxPixels: 20_000, maxWidth: 199))?.code == .tooLarge)
        #expect(decodeError(jpeg, .jpeg, limits: DecodeLimits(maxPixels: 20_000, maxWidth: 200, maxHeight: 100)) == nil)
    }

    // MARK: Damage

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func truncatedJPEGIsCorrupt(mode: ImageDecodeMode) throws {
        let jpeg = try TestImages.wavesJPEG()
        let error = decodeError(Array(jpeg.prefix(jpeg.count * 6 / 10)), .jpeg, mode: mode)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("Premature end of JPEG file") == true, "\(String(describing: error))")
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func jpegMissingOnlyItsEndMarkerIsCorrupt(mode: ImageDecodeMode) throws {
        let jpeg = try TestImages.wavesJPEG()
        #expect(decodeError(Array(jpeg.dropLast(2)), .jpeg, mode: mode)?.code == .corrupt)
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func jpegWithCorruptEntropyDataIsCorrupt(mode: ImageDecodeMode) throws {
        let damaged = try TestImages.corruptEntropy(TestImages.wavesJPEG())
        let error = decodeError(damaged, .jpeg, mode: mode)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("Corrupt JPEG data") == true, "\(String(describing: error))")
    }

    @Test func jpegCutInsideItsHeadersHasNoReadableHeader() throws {
        let jpeg = try TestImages.wavesJPEG()
        #expect(throws: ImageDecodeError.self) { try header(Array(jpeg.prefix(100)), .jpeg) }
        #expect(throws: ImageDecodeError.self) { try header([0xFF, 0xD8, 0xFF, 0xD9], .jpeg) }
    }

    @Test func pngWithABadIDATCRCIsCorrupt() throws {
        var png = try TestImages.wavesPNG()
        let idat = try #require(PNGBuilder.chunks(png).first { $0.type == "IDAT" })
        png[idat.data + idat.length] ^= 0x01  // first CRC byte
        let error = decodeError(png, .png)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("CRC error") == true, "\(String(describing: error))")
    }

    @Test func pngWithABadIHDRCRCHasNoReadableHeader() throws {
        var png = try TestImages.wavesPNG()
        png[29] ^= 0xFF  // IHDR CRC
        #expect(throws: ImageDecodeError.self) { try header(png, .png) }
    }

    @Test func pngWithABadAncillaryChunkCRCIsCorrupt() throws {
        let png = try TestImages.wavesPNG()
        var text = PNGBuilder.chunk("tEXt", Array("Comment\u{0}hello".utf8))
        let good = Array(png[0..<33]) + text + Array(png[33...])
        #expect(decodeError(good, .png) == nil, "a valid ancillary chunk is skipped")
        text[text.count - 1] ^= 0x01
        let bad = Array(png[0..<33]) + text + Array(png[33...])
        let error = decodeError(bad, .png)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("CRC error") == true, "\(String(describing: error))")
    }

    @Test func pngWithAlteredPixelsButRecomputedCRCFailsTheZlibChecksum() throws {
        var png = PNGBuilder(width: 40, height: 30, colorType: .gray, pixel: { x, y in [(x * 6 + y) % 256] }).build()
        let idat = try #require(PNGBuilder.chunks(png).first { $0.type == "IDAT" })
        png[idat.data + 200] ^= 0x10  // a pixel byte inside the stored block
        let body = Array(png[(idat.start + 4)..<(idat.data + idat.length)])
        let crc = idat.data + idat.length
        png.replaceSubrange(crc..<(crc + 4), with: PNGBuilder.bigEndian(PNGBuilder.crc32(body)))
        let error = decodeError(png, .png)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("data check") == true, "\(String(describing: error))")
    }

    @Test(arguments: [0.5, 0.9])
    func truncatedPNGIsCorrupt(keptFraction: Double) throws {
        let png = try TestImages.wavesPNG()
        let error = decodeError(Array(png.prefix(Int(Double(png.count) * keptFraction))), .png)
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("premature end") == true, "\(String(describing: error))")
    }

    @Test func pngMissingOnlyIENDIsCorrupt() throws {
        let png = try TestImages.wavesPNG()
        #expect(decodeError(Array(png.dropLast(12)), .png)?.code == .corrupt)
    }

    @Test func otherFormatsAreNotDecoded() {
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]
        #expect(decodeError(gif, .gif)?.code == .unsupportedFormat)
    }
}

@Suite struct JPEGVariantTests {
    let referenceHash: UInt64

    init() throws {
        let png = try TestImages.png(JPEGFixtures.pixels(), width: JPEGFixtures.width, height: JPEGFixtures.height)
        referenceHash = try ImageDecoder.decode(png, format: .png).differenceHash
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func progressiveJPEGDecodes(mode: ImageDecodeMode) throws {
        let header = try ImageDecoder.readHeader(JPEGFixtures.progressive, format: .jpeg)
        #expect((header.width, header.height, header.isProgressive) == (72, 128, true))
        let decoded = try ImageDecoder.decode(JPEGFixtures.progressive, format: .jpeg, mode: mode)
        #expect(DifferenceHash.hammingDistance(decoded.differenceHash, referenceHash) <= 6)
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func truncatedProgressiveJPEGIsCorrupt(mode: ImageDecodeMode) {
        let truncated = Array(JPEGFixtures.progressive.prefix(JPEGFixtures.progressive.count * 6 / 10))
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(truncated, format: .jpeg, mode: mode) }
    }

    @Test func progressiveJPEGOverTheMemoryCapIsTooLarge() throws {
        let limits = DecodeLimits(maxMemory: 10_000)
        #expect {
            try ImageDecoder.decode(JPEGFixtures.progressive, format: .jpeg, limits: limits)
        } throws: { ($0 as? ImageDecodeError)?.code == .outOfMemory }
        let rejected = ImageValidator(
            rules: ValidationRules(minWidth: 1, minHeight: 1), maxDecoderMemory: 10_000
        ).validate(JPEGFixtures.progressive).rejection
        #expect(rejected?.category == .tooLarge)
        #expect(rejected?.stage == .decode)
        // Baseline JPEGs stream through a few rows and never reach the cap.
        #expect(throws: Never.self) {
            try ImageDecoder.decode(TestImages.wavesJPEG(), format: .jpeg, limits: limits)
        }
    }

    /// The progressive fixture with its frame header rewritten to declare `width`×`height` (and, optionally,
    /// more components): the header is all a decoder reads before it sizes its coefficient buffer.
    static func progressiveDeclaring(width: Int, height: Int, components: Int? = nil) -> [UInt8] {
        var bytes = JPEGFixtures.progressive
        guard let sof = (2..<bytes.count - 1).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC2 }) else {
            return bytes
        }
        bytes[sof + 5] = UInt8(height >> 8)
        bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8)
        bytes[sof + 8] = UInt8(width & 0xFF)
        if let components { bytes[sof + 9] = UInt8(components) }
        return bytes
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func progressiveJPEGAtThePixelBudgetIsRefusedByTheDefaultMemoryCap(mode: ImageDecodeMode) {
        // 7000×7000 is under the 50 MP budget, but its coefficients alone would take about 147 MB.
        let bomb = Self.progressiveDeclaring(width: 7000, height: 7000)
        let error = #expect(throws: ImageDecodeError.self) {
            try ImageDecoder.decode(bomb, format: .jpeg, mode: mode)
        }
        #expect(error?.code == .outOfMemory)
        #expect(error?.message.contains("cap of 67108864 bytes") == true)
        let rejected = ImageValidator(rules: ValidationRules(minWidth: 1, minHeight: 1)).validate(bomb).rejection
        #expect(rejected?.category == .tooLarge)
        #expect(rejected?.stage == .decode)
    }

    @Test func jpegWithMoreThanFourComponentsIsRefusedFromTheHeader() {
        let fiveComponents = Self.progressiveDeclaring(width: 72, height: 128, components: 5)
        let error = #expect(throws: ImageDecodeError.self) { try ImageDecoder.readHeader(fiveComponents, format: .jpeg) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("5 components") == true)
    }

    @Test("a small plain RGB or RGBA PNG validated by one libdeflate call gives libpng's verdict and grid", arguments: [3, 4])
    func pngValidatedInOneCall(channels: Int) throws {
        let (width, height) = (300, 200)
        let rgb = TestImages.waves(width: width, height: height)
        var pixels = [UInt8]()
        for index in 0..<width * height {
            pixels += rgb[index * 3..<index * 3 + 3]
            if channels == 4 { pixels.append(UInt8(index % 251)) }
        }
        let png = try TestImages.png(pixels, width: width, height: height, channels: channels)
        let inOneCall = try ImageDecoder.decode(png, format: .png)
        // Under a cap below twice the inflated size (about 240 kB here), libpng decodes it row by row instead.
        let byLibpng = try ImageDecoder.decode(png, format: .png, limits: DecodeLimits(maxMemory: 200_000))
        #expect(inOneCall.hashGrid == byLibpng.hashGrid)
        #expect(inOneCall.header == byLibpng.header)
    }

    @Test func pngRowsOverTheMemoryCapAreRefusedBeforeDecoding() throws {
        let png = try TestImages.wavesPNG(width: 4000, height: 2)
        let error = #expect(throws: ImageDecodeError.self) {
            try ImageDecoder.decode(png, format: .png, limits: DecodeLimits(maxMemory: 16_000))
        }
        #expect(error?.code == .outOfMemory)
        #expect(throws: Never.self) { try ImageDecoder.decode(png, format: .png) }
    }

    @Test(arguments: [ImageDecodeMode.entropyComplete, .fullSize])
    func adobeCMYKJPEGDecodesToTheSamePicture(mode: ImageDecodeMode) throws {
        let header = try ImageDecoder.readHeader(JPEGFixtures.cmyk, format: .jpeg)
        #expect(header.components == 4)
        let decoded = try ImageDecoder.decode(JPEGFixtures.cmyk, format: .jpeg, mode: mode)
        #expect(DifferenceHash.hammingDistance(decoded.differenceHash, referenceHash) <= 6)
    }
}
