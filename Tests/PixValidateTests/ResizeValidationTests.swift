import PixCore
import PixFixtures
import PixValidate
import Testing

/// Validation of a job that resizes at crawl time: the derivative is made in (at depth `full`, instead of) the
/// validation decode, and a resize failure is a rejection in the category validation gives it.
@Suite struct ResizeValidationTests {
    static let spec = ResizeOptions(size: 32, mode: .centerCrop, encoding: .png)

    func validate(_ bytes: [UInt8], depth: ValidationDepth, maxDecoderMemory: Int? = nil) -> ValidationOutcome {
        ImageValidator(rules: ValidationRules(depth: depth), maxDecoderMemory: maxDecoderMemory)
            .validate(bytes, resize: Self.spec)
    }

    @Test(arguments: ValidationDepth.allCases)
    func anAcceptedImageCarriesItsDerivative(depth: ValidationDepth) throws {
        let png = try TestImages.wavesPNG(width: 120, height: 80)
        let image = try #require(validate(png, depth: depth).image)
        let derivative = try #require(image.derivative)
        let plain = try ImageResizer.resize(png, format: .png, options: Self.spec)
        #expect(derivative.sha256 == plain.sha256 && derivative.bytes == plain.bytes)
        #expect((derivative.validationGrid != nil) == (depth == .full), "the grid of the decode that validated")
        #expect((derivative.width, derivative.height, derivative.originalWidth) == (32, 32, 120))
        #expect(ImageValidator().validate(png).image?.derivative == nil, "no spec, no derivative")
    }

    @Test func atDepthPixelsTheImageIsValidatedAsWithoutAResize() throws {
        let png = try TestImages.wavesPNG(width: 120, height: 80)
        let plain = ImageValidator(rules: ValidationRules(depth: .pixels)).validate(png).image
        #expect(validate(png, depth: .pixels).image?.perceptualHash == plain?.perceptualHash)
    }

    @Test func theDifferenceHashIsOfTheWholeImageNotOfTheCrop() throws {
        let png = try TestImages.wavesPNG(width: 120, height: 80)
        let plain = try #require(ImageValidator(rules: ValidationRules(depth: .full)).validate(png).image)
        let resized = try #require(validate(png, depth: .full).image)
        #expect(resized.perceptualHash == plain.perceptualHash)
        let crop = try #require(resized.derivative)
        let cropHash = try ImageDecoder.decode(crop.bytes, format: .png).differenceHash
        #expect(resized.perceptualHash != cropHash)
    }

    @Test(arguments: ValidationDepth.allCases)
    func aTruncatedFileIsADecodeRejection(depth: ValidationDepth) throws {
        let truncated = Array(try TestImages.wavesPNG(width: 120, height: 80).prefix(400))
        let rejection = try #require(validate(truncated, depth: depth).rejection)
        #expect(rejection.category == .decode)
        #expect(rejection.stage == .decode)
    }

    @Test func aDecoderOverItsMemoryCapIsTooLarge() throws {
        let webp = FixtureImages.losslessWebP(seed: 3, width: 300, height: 200)
        let rejection = try #require(validate(webp, depth: .full, maxDecoderMemory: 300 * 200 * 4 - 1).rejection)
        #expect(rejection.category == .tooLarge)
        // A WebP is validated by its own decode before the resize: the reason is validation's.
        #expect(rejection.reason.contains("above the decoder memory cap"))
    }

    @Test(arguments: ValidationDepth.allCases)
    func anAnimatedWebPIsRefusedAsFormatAsWithoutAResize(depth: ValidationDepth) throws {
        let rules = ValidationRules(minWidth: 1, minHeight: 1, depth: depth)
        let rejection = try #require(ImageValidator(rules: rules).validate(WebPTests.animatedWebP(), resize: Self.spec).rejection)
        #expect(rejection.category == .format)
    }
}
