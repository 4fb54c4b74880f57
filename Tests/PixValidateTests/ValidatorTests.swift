import PixCore
import PixValidate
import Testing

@Suite struct ValidatorTests {
    func rejection(_ bytes: [UInt8], _ rules: ValidationRules = ValidationRules()) -> ValidationRejection? {
        ImageValidator(rules: rules).validate(bytes).rejection
    }

    // MARK: Acceptance

    @Test(arguments: [ValidationDepth.header, .full, .pixels])
    func acceptsAGoodJPEG(depth: ValidationDepth) throws {
        let jpeg = try TestImages.wavesJPEG(width: 320, height: 240)
        let image = try #require(ImageValidator(rules: ValidationRules(depth: depth)).validate(jpeg).image)
        #expect(image.format == .jpeg)
        #expect((image.width, image.height, image.byteCount) == (320, 240, jpeg.count))
        #expect(image.sha256 == SHA256Hasher.hex(of: jpeg))
        #expect((image.perceptualHash == nil) == (depth == .header))
    }

    @Test func acceptsAGoodPNG() throws {
        let png = try TestImages.wavesPNG(width: 100, height: 80)
        let image = try #require(ImageValidator().validate(png).image)
        #expect((image.format, image.width, image.height) == (.png, 100, 80))
        #expect(image.perceptualHash != nil)
    }

    @Test func usesTheDigestComputedWhileReceiving() throws {
        let png = try TestImages.wavesPNG(width: 100, height: 80)
        var hasher = SHA256Hasher()
        for chunk in stride(from: 0, to: png.count, by: 1000).map({ png[$0..<min($0 + 1000, png.count)] }) {
            hasher.update(Array(chunk))
        }
        let known = hasher.finalizeHex()
        #expect(ImageValidator().validate(png, sha256: known).image?.sha256 == known)
    }

    // MARK: Formats

    @Test func rejectsFormatsByName() throws {
        let svg = Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8)
        let svgRejection = try #require(rejection(svg))
        #expect(svgRejection.category == .format)
        #expect(svgRejection.reason == "FORMAT: svg not allowed")
        #expect(svgRejection.stage == .content)
        #expect(rejection(Array("<!DOCTYPE html><title>404</title>".utf8))?.reason == "FORMAT: html not allowed")
        #expect(rejection(Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0])?.reason == "FORMAT: gif not allowed")
        #expect(rejection(Array("hello".utf8))?.reason == "FORMAT: unrecognised content, not an image")
        #expect(rejection([])?.category == .format)
    }

    @Test func rejectsAllowedFormatsItCannotDecode() {
        let rules = ValidationRules(formats: [.jpeg, .png, .gif])
        let reason = rejection(Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0], rules)?.reason
        #expect(reason == "FORMAT: gif cannot be validated (only jpeg, png and webp are decoded)")
    }

    @Test func appliesTheAllowedFormatsToJPEGAndPNGToo() throws {
        let png = try TestImages.wavesPNG(width: 100, height: 80)
        #expect(rejection(png, ValidationRules(formats: [.jpeg]))?.reason == "FORMAT: png not allowed")
    }

    // MARK: Sizes and dimensions

    @Test func rejectsTooSmallDimensions() throws {
        let png = try TestImages.png(TestImages.waves(width: 40, height: 40), width: 40, height: 40)
        let rejected = try #require(rejection(png))
        #expect(rejected.category == .dimensions)
        #expect(rejected.reason == "DIMENSIONS: 40×40 is below the minimum 64×64")
        #expect(rejected.stage == .header)
        #expect((rejected.width, rejected.height) == (40, 40))
        #expect(rejection(png, ValidationRules(minWidth: 40, minHeight: 40)) == nil)
    }

    @Test func rejectsTooLargeSides() throws {
        let jpeg = try TestImages.wavesJPEG(width: 300, height: 100)
        let reason = rejection(jpeg, ValidationRules(maxWidth: 299, maxHeight: 1000))?.reason
        #expect(reason == "DIMENSIONS: 300×100 exceeds the maximum 299×1000")
        #expect(rejection(jpeg, ValidationRules(maxWidth: 300, maxHeight: 100)) == nil)
    }

    @Test func appliesTheAspectRatioRange() throws {
        let wide = try TestImages.wavesJPEG(width: 400, height: 100)  // 4.00
        let rules = ValidationRules(minAspectRatio: 0.5, maxAspectRatio: 2)
        #expect(rejection(wide, rules)?.reason == "DIMENSIONS: aspect ratio 4.00 (400×100) is above the maximum 2.00")
        let tall = try TestImages.wavesJPEG(width: 100, height: 400)
        #expect(rejection(tall, rules)?.reason == "DIMENSIONS: aspect ratio 0.25 (100×400) is below the minimum 0.50")
        let square = try TestImages.wavesJPEG(width: 200, height: 200)
        #expect(rejection(square, rules) == nil)
    }

    @Test func appliesByteLimits() throws {
        let jpeg = try TestImages.wavesJPEG(width: 320, height: 240)
        let tooBig = try #require(rejection(jpeg, ValidationRules(maxBytes: jpeg.count - 1)))
        #expect(tooBig.category == .tooLarge)
        #expect(tooBig.reason.hasPrefix("TOO_LARGE: ") && tooBig.reason.contains("exceeds the maximum file size"))
        let tooSmall = try #require(rejection(jpeg, ValidationRules(minBytes: jpeg.count + 1)))
        #expect(tooSmall.category == .dimensions)
        #expect(tooSmall.reason.contains("is below the minimum file size"))
        #expect(rejection(jpeg, ValidationRules(minBytes: jpeg.count, maxBytes: jpeg.count)) == nil)
    }

    @Test func checksThePixelBudgetBeforeTheSides() throws {
        let jpeg = try TestImages.wavesJPEG(width: 300, height: 200)
        let rejected = try #require(rejection(jpeg, ValidationRules(maxWidth: 100, maxPixels: 59_999)))
        #expect(rejected.category == .tooLarge)
        #expect(rejected.reason == "TOO_LARGE: 300×200 (60000 pixels) exceeds the pixel budget of 59999 pixels")
    }

    // MARK: Bombs

    @Test(arguments: [ValidationDepth.header, .full, .pixels])
    func refusesADeclared100000x100000PNGFromItsHeader(depth: ValidationDepth) throws {
        let rejected = try #require(rejection(DecoderTests.forgedBomb(), ValidationRules(depth: depth)))
        #expect(rejected.category == .tooLarge)
        #expect(rejected.stage == .header, "rejected from the header, the decoder was never entered")
        #expect(rejected.reason == "TOO_LARGE: 100000×100000 (10000.0 MP) exceeds the pixel budget of 50.0 MP")
    }

    @Test func refusesALongSideEvenWithinThePixelBudget() throws {
        let builder = PNGBuilder(width: 40_000, height: 1, colorType: .gray)
        let file = PNGBuilder.signature + PNGBuilder.chunk("IHDR", builder.ihdr(width: 40_000, height: 100))
        let rejected = try #require(rejection(file))
        #expect(rejected.category == .dimensions)
        #expect(rejected.stage == .header)
    }

    // MARK: Damage

    @Test(arguments: [ValidationDepth.full, .pixels])
    func rejectsATruncatedJPEG(depth: ValidationDepth) throws {
        let jpeg = try TestImages.wavesJPEG()
        let rejected = try #require(rejection(Array(jpeg.prefix(jpeg.count / 2)), ValidationRules(depth: depth)))
        #expect(rejected.category == .decode)
        #expect(rejected.stage == .decode)
        #expect(rejected.reason == "DECODE: premature end of JPEG file")
    }

    @Test func headerDepthAcceptsATruncatedJPEG() throws {
        // The documented trade-off of `--validate header`: dimensions only, truncation goes unnoticed.
        let jpeg = try TestImages.wavesJPEG()
        let truncated = Array(jpeg.prefix(jpeg.count / 2))
        let image = try #require(ImageValidator(rules: ValidationRules(depth: .header)).validate(truncated).image)
        #expect((image.width, image.height, image.perceptualHash) == (320, 240, nil))
        #expect(ImageValidator(rules: ValidationRules(depth: .full)).validate(truncated).rejection?.category == .decode)
    }

    @Test(arguments: [ValidationDepth.full, .pixels])
    func rejectsAJPEGWithCorruptEntropyData(depth: ValidationDepth) throws {
        let damaged = try TestImages.corruptEntropy(TestImages.wavesJPEG())
        let rejected = try #require(rejection(damaged, ValidationRules(depth: depth)))
        #expect(rejected.category == .decode)
        #expect(rejected.reason.hasPrefix("DECODE: corrupt JPEG data"))
    }

    @Test func rejectsAPNGWithABadCRC() throws {
        var png = try TestImages.wavesPNG()
        let idat = try #require(PNGBuilder.chunks(png).first { $0.type == "IDAT" })
        png[idat.data + idat.length + 3] ^= 0x80
        #expect(rejection(png)?.reason == "DECODE: IDAT: CRC error")
    }

    @Test func rejectsATruncatedPNG() throws {
        let png = try TestImages.wavesPNG()
        let rejected = try #require(rejection(Array(png.prefix(png.count * 2 / 3))))
        #expect(rejected.category == .decode)
        #expect(rejected.reason == "DECODE: premature end of PNG data")
    }

    @Test func rejectsAPNGWithoutAValidIHDR() throws {
        let rejected = try #require(rejection(PNGBuilder.signature + [0, 0, 0, 13] + Array("IHDR".utf8)))
        #expect(rejected.category == .decode)
        #expect(rejected.stage == .header)
    }

    // MARK: Concurrency

    @Test func validatesConcurrentlyWithTheSameResults() async throws {
        var inputs: [[UInt8]] = []
        for side in stride(from: 64, to: 64 + 16 * 12, by: 12) {
            inputs.append(try TestImages.wavesJPEG(width: side, height: side))
            inputs.append(try TestImages.png(TestImages.bands(width: side, height: side), width: side, height: side))
        }
        let validator = ImageValidator()
        let sequential = inputs.map { validator.validate($0) }
        let concurrent = await withTaskGroup(of: (Int, ValidationOutcome).self) { group in
            for (index, input) in inputs.enumerated() {
                group.addTask { (index, validator.validate(input)) }
            }
            var results = [ValidationOutcome?](repeating: nil, count: inputs.count)
            for await (index, outcome) in group { results[index] = outcome }
            return results
        }
        #expect(concurrent == sequential)
        #expect(sequential.allSatisfy { $0.image != nil })
    }
}
