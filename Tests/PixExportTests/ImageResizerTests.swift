import CPixImage
import Foundation
import PixCore
import PixDemo
import PixExport
import PixFixtures
import PixValidate
import Testing

@Suite("Image resizer")
struct ImageResizerTests {
    static let photo = FixtureImages.jpeg(seed: 21, width: 640, height: 480, quality: 90)

    @Test(
        "each mode gives img2dataset's output size",
        arguments: [
            (ResizeMode.centerCrop, 256, 256), (.keepRatio, 341, 256), (.keepRatioLargest, 256, 192), (.border, 256, 256),
            (.no, 640, 480),
        ])
    func outputSize(mode: ResizeMode, width: Int, height: Int) throws {
        let resized = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 256, mode: mode))
        #expect((resized.width, resized.height) == (width, height))
        #expect((resized.originalWidth, resized.originalHeight) == (640, 480))
        let header = try ImageDecoder.readHeader(resized.bytes, format: .jpeg)
        #expect((header.width, header.height) == (width, height), "the encoded JPEG has the reported size")
    }

    @Test("a JPEG is decoded at the smallest power-of-two DCT scale still at least 1.25 times the target")
    func dctScale() throws {
        // A 480-pixel square crop to 256 needs 320: 4/8 gives 240, so full size.
        let crop = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 256, mode: .centerCrop))
        #expect(crop.jpegScaleEighths == 8)
        // To 180, which needs 225: 4/8 gives 240.
        let half = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 180, mode: .centerCrop))
        #expect(half.jpegScaleEighths == 4)
        // To 64, which needs 80: 2/8 gives 120; 1/8 would give 60.
        let small = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 64, mode: .centerCrop))
        #expect(small.jpegScaleEighths == 2)
        // To 32, which needs 40: 1/8 gives 60.
        let tiny = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 32, mode: .centerCrop))
        #expect(tiny.jpegScaleEighths == 1)
        let none = try ImageResizer.resize(Self.photo, format: .jpeg, options: ResizeOptions(size: 64, mode: .no))
        #expect(none.jpegScaleEighths == 8)
    }

    @Test(
        "a JPEG's window decoded alone (columns cropped, rows above skipped) gives the pixels of the whole decode",
        arguments: [(640, 480), (480, 640), (1000, 300)])
    func croppedDecode(width: Int, height: Int) throws {
        let photo = FixtureImages.jpeg(seed: 23, width: width, height: height, quality: 90)
        // `no` decodes the whole frame at full size; as PNG its pixels are kept exactly.
        let whole = try ImageResizer.resize(
            photo, format: .jpeg, options: ResizeOptions(size: 16_384, mode: .no, encoding: .png))
        #expect((whole.width, whole.height) == (width, height))
        // A centre crop to 256 decodes at full size too (the crop is under 512), but only the window.
        let options = ResizeOptions(size: 256, mode: .centerCrop, encoding: .png)
        let direct = try ImageResizer.resize(photo, format: .jpeg, options: options)
        #expect(direct.jpegScaleEighths == 8)
        let fromWhole = try ImageResizer.resize(whole.bytes, format: .png, options: options)
        #expect(direct.sha256 == fromWhole.sha256, "the same 256 × 256 pixels")
    }

    @Test(
        "a small RGB or RGBA PNG inflated in one call gives the bytes of libpng's streamed decode", arguments: [3, 4])
    func pngInflatedAtOnce(channels: Int) throws {
        let (width, height) = (500, 300)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        var state: UInt32 = 2_463_534_242
        for y in 0..<height {
            for x in 0..<width {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                for c in 0..<channels {
                    // Gradients with a little noise: libpng picks different filters for different rows.
                    let smooth = (x * (c + 1) + y * (3 - min(c, 2))) / 3 + Int(state >> 29)
                    pixels[(y * width + x) * channels + c] = UInt8(truncatingIfNeeded: c == 3 ? 128 + x % 128 : smooth)
                }
            }
        }
        let png = try #require(Self.encodePNG(pixels, width: width, height: height, channels: channels))
        let options = ResizeOptions(size: 128, mode: .centerCrop, encoding: .png)
        let inflated = try ImageResizer.resize(png, format: .png, options: options)
        // Under a decoder memory cap below the inflated size (450 kB), libpng streams the rows instead.
        let streamed = try ImageResizer.resize(png, format: .png, options: options, maxDecoderMemory: 200_000)
        #expect(inflated.sha256 == streamed.sha256)
    }

    private static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = cpix_status()
        guard cpix_png_encode(pixels, UInt32(width), UInt32(height), Int32(channels), &out, &length, &status) == CPIX_OK,
            let out
        else { return nil }
        defer { cpix_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    @Test("the same input and options give the same bytes")
    func deterministic() throws {
        for encoding in ResizeEncoding.allCases {
            let options = ResizeOptions(size: 200, mode: .keepRatioLargest, encoding: encoding, quality: 90)
            let first = try ImageResizer.resize(Self.photo, format: .jpeg, options: options)
            let second = try ImageResizer.resize(Self.photo, format: .jpeg, options: options)
            #expect(first.bytes == second.bytes)
            #expect(first.sha256 == second.sha256)
        }
    }

    @Test("--resize-only-if-bigger never enlarges, and center_crop still crops")
    func onlyIfBigger() throws {
        let small = FixtureImages.jpeg(seed: 22, width: 200, height: 100)
        let kept = try ImageResizer.resize(
            small, format: .jpeg, options: ResizeOptions(size: 400, mode: .keepRatio, onlyIfBigger: true))
        #expect((kept.width, kept.height) == (200, 100))
        let cropped = try ImageResizer.resize(
            small, format: .jpeg, options: ResizeOptions(size: 400, mode: .centerCrop, onlyIfBigger: true))
        #expect((cropped.width, cropped.height) == (100, 100))
        let enlarged = try ImageResizer.resize(small, format: .jpeg, options: ResizeOptions(size: 400, mode: .keepRatio))
        #expect((enlarged.width, enlarged.height) == (800, 400))
    }

    @Test("EXIF orientation is applied: a 6 (rotate 90°) turns 640×480 into 480×640")
    func exifOrientation() throws {
        let rotated = Self.withOrientation(6, Self.photo)
        let resized = try ImageResizer.resize(
            rotated, format: .jpeg, options: ResizeOptions(size: 320, mode: .keepRatioLargest))
        #expect(resized.orientation == 6)
        #expect((resized.originalWidth, resized.originalHeight) == (480, 640))
        #expect((resized.width, resized.height) == (240, 320))
    }

    @Test("PNG and WebP sources resize too, and WebP and PNG outputs decode at the reported size")
    func otherFormats() throws {
        let sources: [(ImageFormat, [UInt8])] = [
            (.png, FixtureImages.png(seed: 23, width: 300, height: 200)),
            (.webp, FixtureImages.webp(seed: 23, width: 300, height: 200)),
        ]
        for (format, bytes) in sources {
            for encoding in [ResizeEncoding.webp, .png] {
                let resized = try ImageResizer.resize(
                    bytes, format: format, options: ResizeOptions(size: 64, mode: .border, encoding: encoding))
                let outputFormat: ImageFormat = encoding == .webp ? .webp : .png
                #expect(ImageSniffer.format(of: resized.bytes) == outputFormat)
                let header = try ImageDecoder.readHeader(resized.bytes, format: outputFormat)
                #expect((header.width, header.height) == (64, 64))
            }
        }
    }

    @Test(
        "a WebP's centre crop is the planned window, also from an odd origin, decoded whole or cropped by libwebp",
        arguments: [(203, 120), (120, 203), (202, 120)], [0, 200_000])
    func webpCropWindow(size: (width: Int, height: Int), memory: Int) throws {
        let (width, height) = size
        // The same pixels as a lossless WebP and as a PNG resize to the same bytes: libwebp would otherwise move an
        // odd crop origin one pixel (203 × 120 crops from x = 41). Under a 200 kB cap the whole frame and its
        // lossless working copy do not fit, so libwebp decodes only the window.
        let options = ResizeOptions(size: 64, mode: .centerCrop, encoding: .png)
        let fromWebP = try ImageResizer.resize(
            FixtureImages.losslessWebP(seed: 29, width: width, height: height), format: .webp, options: options,
            maxDecoderMemory: memory == 0 ? nil : memory)
        let fromPNG = try ImageResizer.resize(
            FixtureImages.png(seed: 29, width: width, height: height), format: .png, options: options)
        #expect(fromWebP.sha256 == fromPNG.sha256)
    }

    @Test("a WebP resize that is also the validation decodes it once: the plain resize's bytes, a PNG's grid")
    func validatingWebP() throws {
        // The same pixels as a lossless WebP and as a PNG: the same resized bytes and the same gray grid, which
        // the WebP's rows gave while they were resampled.
        let options = ResizeOptions(size: 256, mode: .centerCrop)
        let webp = FixtureImages.losslessWebP(seed: 27, width: 600, height: 400)
        let png = FixtureImages.png(seed: 27, width: 600, height: 400)
        let plain = try ImageResizer.resize(webp, format: .webp, options: options)
        let validated = try ImageResizer.resize(webp, format: .webp, options: options, validating: true)
        let fromPNG = try ImageResizer.resize(png, format: .png, options: options, validating: true)
        #expect(plain.validationGrid == nil)
        #expect(validated.sha256 == plain.sha256)
        #expect(validated.sha256 == fromPNG.sha256)
        #expect(validated.validationGrid != nil)
        #expect(validated.validationGrid == fromPNG.validationGrid)
        // A lossy one: the same bytes with and without validation; cut short, it is refused either way.
        let lossy = FixtureImages.webp(seed: 27, width: 600, height: 400)
        let lossyPlain = try ImageResizer.resize(lossy, format: .webp, options: options)
        let lossyValidated = try ImageResizer.resize(lossy, format: .webp, options: options, validating: true)
        #expect(lossyValidated.sha256 == lossyPlain.sha256)
        let cut = Array(lossy.prefix(lossy.count - 200))
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(cut, format: .webp, options: options, validating: true)
        }
    }

    @Test("a truncated image cannot be resized")
    func truncated() {
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(
                FixtureImages.truncatedWebP(seed: 24), format: .webp, options: ResizeOptions(size: 32))
        }
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(
                Array(FixtureImages.png(seed: 24).prefix(400)), format: .png, options: ResizeOptions(size: 32))
        }
    }

    @Test("a resize that is also the validation reads to the end: damage below a centre crop is caught")
    func validatingReadsEverything() throws {
        // A portrait picture whose crop window ends at row 560 of 640, cut short in its last rows.
        let photo = FixtureImages.jpeg(seed: 25, width: 480, height: 640, quality: 90)
        let cut = Array(photo.prefix(photo.count - 600))
        let options = ResizeOptions(size: 256, mode: .centerCrop)
        _ = try ImageResizer.resize(cut, format: .jpeg, options: options)  // the window alone is intact
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(cut, format: .jpeg, options: options, validating: true)
        }
        #expect(throws: ImageDecodeError.self) { try ImageDecoder.decode(cut, format: .jpeg) }
        let png = FixtureImages.png(seed: 25, width: 240, height: 320)
        // IEND's CRC damaged: only a decode that reads past the last row sees it.
        var damaged = png
        damaged[damaged.count - 1] ^= 0xFF
        _ = try ImageResizer.resize(damaged, format: .png, options: options)
        #expect(throws: ImageResizeError.self) {
            try ImageResizer.resize(damaged, format: .png, options: options, validating: true)
        }
    }

    @Test("a progressive JPEG whose scans leave coefficients out is decoded whole: the same bytes with validation")
    func progressiveWithoutAllScans() throws {
        // A 37 × 16 progressive JPEG (found by the fuzzer) whose scans leave AC coefficients out, so libjpeg-turbo
        // smooths its blocks from their neighbours: a decode cropped to the centre square differed at the edges.
        let encoded =
            "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0o"
            + "MCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wgARCAAQACUD"
            + "AREAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABQb/xAAYAQEAAwEAAAAAAAAAAAAAAAAGAAMFAv/aAAwDAQACEAMQAAABj5HrkJe8YrSuG9ci"
            + "C5OSkpKLkpKSJi8iDVRZ/9k="
        let photo = try #require(Data(base64Encoded: encoded)).map { $0 }
        let options = ResizeOptions(size: 24, mode: .centerCrop, encoding: .png)
        let plain = try ImageResizer.resize(photo, format: .jpeg, options: options)
        let validated = try ImageResizer.resize(photo, format: .jpeg, options: options, validating: true)
        #expect(plain.sha256 == validated.sha256)
    }

    @Test(
        "a validating resize gives the plain resize's bytes and the full-size validation decode's gray grid",
        arguments: [ImageFormat.jpeg, .png])
    func validatingMatchesValidation(format: ImageFormat) throws {
        let picture =
            format == .jpeg
            ? FixtureImages.jpeg(seed: 26, width: 600, height: 400, quality: 90)
            : FixtureImages.png(seed: 26, width: 600, height: 400)
        let options = ResizeOptions(size: 256, mode: .centerCrop)
        let plain = try ImageResizer.resize(picture, format: format, options: options)
        let validated = try ImageResizer.resize(picture, format: format, options: options, validating: true)
        #expect(plain.validationGrid == nil)
        #expect(validated.sha256 == plain.sha256)
        // Both decode this picture at full size (a 400-pixel crop to 256), so the grids agree exactly.
        let decoded = try ImageDecoder.decode(picture, format: format, mode: .fullSize)
        #expect(validated.validationGrid == decoded.hashGrid)
    }

    @Test("resize options that make no sense are refused before anything runs", arguments: [0, -1, 16_385])
    func invalidSize(size: Int) {
        var options = ExportOptions()
        options.resize = ResizeOptions(size: size)
        #expect(throws: ExportJobError.self) { try options.validate(for: .zip) }
    }

    @Test("an unknown resize mode in stored options is refused")
    func unknownMode() {
        #expect(throws: ExportJobError.self) {
            try ExportOptions(json: #"{"layout":"flat","resize":{"size":256,"mode":"stretch"}}"#)
        }
    }

    @Test("resize options survive the stored JSON")
    func roundTrip() throws {
        var options = ExportOptions()
        options.resize = ResizeOptions(size: 256, mode: .centerCrop, onlyIfBigger: true, encoding: .webp, quality: 80)
        #expect(try ExportOptions(json: try options.jsonText()) == options)
    }

    /// The JPEG with an APP1 Exif segment (big-endian TIFF, one IFD0 entry: Orientation) after its SOI.
    static func withOrientation(_ orientation: UInt8, _ jpeg: [UInt8]) -> [UInt8] {
        let tiff: [UInt8] =
            [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]
            + [0, 0, 0, 0]
        let body = Array("Exif".utf8) + [0, 0] + tiff
        let length = body.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + body + jpeg.dropFirst(2)
    }
}
