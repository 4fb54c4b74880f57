import PixCore
import PixDemo
import PixExport
import PixFixtures
import PixTestSupport
import PixValidate
import Testing

/// Resizing within the decoders' memory cap: interlaced PNGs in bands of rows, lossless WebPs only when their
/// whole frame fits.
@Suite("Resizing within the decoder memory cap")
struct ResizeMemoryTests {
    /// The same picture as a plain and an Adam7 PNG, landscape and portrait (a portrait center crop skips bands).
    static func pngs(width: Int, height: Int) -> (plain: [UInt8], interlaced: [UInt8]) {
        let pixels = FixtureImages.rgbPixels(seed: 31, width: width, height: height)
        return (
            SyntheticImages.png(width: width, height: height, interlaced: false, pixels: pixels),
            SyntheticImages.png(width: width, height: height, interlaced: true, pixels: pixels)
        )
    }

    @Test(
        "an interlaced PNG decoded band by band resizes to the same bytes as the same picture not interlaced",
        arguments: [(61, 47), (37, 90)], [nil, 37 * 4 * 5, 1])
    func interlacedInBands(size: (width: Int, height: Int), maxDecoderMemory: Int?) throws {
        let (plain, interlaced) = Self.pngs(width: size.width, height: size.height)
        for (target, mode) in [(24, ResizeMode.centerCrop), (100, .keepRatio), (30, .keepRatioLargest), (8, .no)] {
            let options = ResizeOptions(size: target, mode: mode, encoding: .png)
            let expected = try ImageResizer.resize(plain, format: .png, options: options)
            let banded = try ImageResizer.resize(
                interlaced, format: .png, options: options, maxDecoderMemory: maxDecoderMemory)
            #expect(banded.bytes == expected.bytes, "\(mode) \(target) in bands of \(maxDecoderMemory ?? 0) bytes")
            #expect((banded.width, banded.height) == (expected.width, expected.height))
        }
    }

    @Test("a lossless WebP resizes when its whole frame fits the decoder memory cap, and is refused when not")
    func losslessWebPWithinTheCap() throws {
        let webp = SyntheticImages.solidLosslessWebP(width: 300, height: 200, red: 200, green: 120, blue: 40)
        let options = ResizeOptions(size: 64, mode: .centerCrop, encoding: .png)
        let resized = try ImageResizer.resize(webp, format: .webp, options: options, maxDecoderMemory: 300 * 200 * 4)
        #expect((resized.width, resized.height) == (64, 64))
        #expect((resized.originalWidth, resized.originalHeight) == (300, 200))
        #expect {
            try ImageResizer.resize(webp, format: .webp, options: options, maxDecoderMemory: 300 * 200 * 4 - 1)
        } throws: { error in
            "\(error)".contains("lossless WebP needs 240000 bytes of decoder memory, more than the cap of 239999 bytes")
        }
    }

    @Test("by default a lossless WebP whose frame is over 64 MiB is refused from its header")
    func losslessWebPOverTheDefaultCap() throws {
        // 4096 × 4097 × 4 bytes is just over 64 MiB; 4096 × 4096 is exactly the cap.
        let over = SyntheticImages.solidLosslessWebP(width: 4096, height: 4097)
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(over, format: .webp, options: ResizeOptions(size: 16, mode: .centerCrop))
        }
    }

    @Test("the synthetic lossless WebP decodes to its declared size and colour")
    func syntheticWebPDecodes() throws {
        let webp = SyntheticImages.solidLosslessWebP(width: 40, height: 30, red: 10, green: 200, blue: 90)
        let resized = try ImageResizer.resize(
            webp, format: .webp, options: ResizeOptions(size: 40, mode: .no, encoding: .png))
        #expect((resized.width, resized.height) == (40, 30))
        let header = try ImageDecoder.readHeader(webp, format: .webp)
        #expect((header.width, header.height) == (40, 30))
    }
}
