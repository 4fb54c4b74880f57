import PixCore
import PixDemo
import PixFixtures
import PixValidate
import Testing

@Suite struct WebPTests {
    func rejection(_ bytes: [UInt8], _ rules: ValidationRules = ValidationRules()) -> ValidationRejection? {
        ImageValidator(rules: rules).validate(bytes).rejection
    }

    @Test(arguments: [ValidationDepth.header, .full, .pixels])
    func acceptsAGoodLossyWebP(depth: ValidationDepth) throws {
        let webp = FixtureImages.webp(seed: 1, width: 320, height: 240)
        let image = try #require(ImageValidator(rules: ValidationRules(depth: depth)).validate(webp).image)
        #expect((image.format, image.width, image.height, image.byteCount) == (.webp, 320, 240, webp.count))
        #expect((image.perceptualHash == nil) == (depth == .header))
    }

    @Test func acceptsAGoodLosslessWebP() throws {
        let webp = FixtureImages.losslessWebP(seed: 2, width: 200, height: 150)
        let image = try #require(ImageValidator().validate(webp).image)
        #expect((image.format, image.width, image.height) == (.webp, 200, 150))
    }

    @Test func theDefaultRulesAllowWebP() {
        #expect(ValidationRules().formats == [.jpeg, .png, .webp])
        #expect(ImageFormat.decodable.contains(.webp))
    }

    @Test func readsTheHeaderWithoutDecoding() throws {
        let header = try ImageDecoder.readHeader(FixtureImages.webp(seed: 3, width: 97, height: 65), format: .webp)
        #expect((header.width, header.height, header.components) == (97, 65, 3))
    }

    @Test func hashesLikeTheSameJPEG() throws {
        // The hash grid is an area average in both decoders: the same picture gives nearly the same hash.
        let webp = try ImageDecoder.decode(FixtureImages.webp(seed: 4, width: 320, height: 240, quality: 95), format: .webp)
        let jpeg = try ImageDecoder.decode(
            FixtureImages.jpeg(seed: 4, width: 320, height: 240, quality: 95), format: .jpeg, mode: .fullSize)
        #expect((webp.differenceHash ^ jpeg.differenceHash).nonzeroBitCount <= 4)
    }

    @Test func rejectsATruncatedWebPAsDecode() throws {
        let rejected = try #require(rejection(FixtureImages.truncatedWebP(seed: 5)))
        #expect(rejected.category == .decode)
        #expect(rejected.reason.contains("truncated"))
    }

    @Test func rejectsACorruptWebPAsDecode() throws {
        let rejected = try #require(rejection(FixtureImages.corruptWebP(seed: 6)))
        #expect(rejected.category == .decode)
    }

    @Test func rejectsADeclaredBombFromItsHeader() throws {
        let rejected = try #require(rejection(FixtureImages.webpDeclaring(width: 16_384, height: 16_384)))
        #expect(rejected.category == .tooLarge)
        #expect(rejected.stage == .header)
    }

    @Test func capsTheLosslessDecoderMemory() throws {
        // Lossless WebP keeps 4 bytes a pixel: 200×150 needs 120,000 bytes, above a 100,000-byte cap.
        let validator = ImageValidator(maxDecoderMemory: 100_000)
        let rejected = try #require(validator.validate(FixtureImages.losslessWebP(seed: 7, width: 200, height: 150)).rejection)
        #expect(rejected.category == .tooLarge)
        #expect(validator.validate(FixtureImages.webp(seed: 7, width: 200, height: 150)).image != nil)
    }

    @Test func sniffsAWebPServedAsJPEG() throws {
        let webp = FixtureImages.webp(seed: 8)
        #expect(ImageSniffer.format(of: webp) == .webp)
        #expect(ImageValidator().validate(webp).image?.format == .webp)
    }

    @Test func refusesWebPWhenTheJobAllowsOnlyJPEG() throws {
        let rejected = try #require(rejection(FixtureImages.webp(seed: 9), ValidationRules(formats: [.jpeg])))
        #expect(rejected.reason == "FORMAT: webp not allowed")
    }

    @Test func refusesAnAnimatedWebPAsFormat() throws {
        let rejected = try #require(rejection(Self.animatedWebP(), ValidationRules(minWidth: 1, minHeight: 1)))
        #expect(rejected.category == .format)
        #expect(rejected.reason.contains("animated"))
    }

    /// A VP8X container with the animation flag, an ANIM chunk and one ANMF frame holding a real bitstream.
    static func animatedWebP() -> [UInt8] {
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(value >> (8 * $0) & 0xff) } }
        func chunk(_ tag: String, _ payload: [UInt8]) -> [UInt8] {
            Array(tag.utf8) + le(payload.count, 4) + payload + (payload.count % 2 == 1 ? [0] : [])
        }
        let still = FixtureImages.webp(seed: 10, width: 16, height: 16)
        let frameBitstream = Array(still[12...])  // the VP8 chunk of the still image
        let vp8x = chunk("VP8X", [0x02, 0, 0, 0] + le(15, 3) + le(15, 3))
        let anim = chunk("ANIM", le(0, 4) + le(0, 2))
        let anmf = chunk("ANMF", le(0, 3) + le(0, 3) + le(15, 3) + le(15, 3) + le(100, 3) + [0] + frameBitstream)
        let body = Array("WEBP".utf8) + vp8x + anim + anmf
        return Array("RIFF".utf8) + le(body.count, 4) + body
    }
}
