import PixCore
import PixValidate
import Testing

@Suite struct SnifferTests {
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let bmpHeader: [UInt8] =
        bytes("BM") + [0x46, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0] + [40, 0, 0, 0] + [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0]

    static let samples: [(name: String, bytes: [UInt8], format: ImageFormat?)] = [
        ("gif87a", bytes("GIF87a") + [1, 0, 1, 0, 0x80, 0, 0], .gif),
        ("gif89a", bytes("GIF89a") + [1, 0, 1, 0, 0x80, 0, 0], .gif),
        ("webp", bytes("RIFF") + [0x24, 0, 0, 0] + bytes("WEBPVP8 ") + [0x18, 0, 0, 0], .webp),
        ("bmp", bmpHeader, .bmp),
        ("tiff little-endian", [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], .tiff),
        ("tiff big-endian", [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8], .tiff),
        ("avif", [0, 0, 0, 0x1C] + bytes("ftypavif") + [0, 0, 0, 0] + bytes("avifmif1miaf"), .avif),
        ("heic reported as avif", [0, 0, 0, 0x18] + bytes("ftypheic") + [0, 0, 0, 0] + bytes("mif1heic"), .avif),
        ("svg", bytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\"/>"), .svg),
        ("svg after xml prologue", bytes("<?xml version=\"1.0\"?>\n<!-- drawn -->\n<svg viewBox=\"0 0 1 1\"/>"), .svg),
        ("svg with BOM and whitespace", bom + bytes("\n\t  <SVG width=\"1\"/>"), .svg),
        ("svg doctype", bytes("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\">"), .svg),
        ("html doctype", bytes("<!DOCTYPE html><html><body>not an image</body></html>"), .html),
        ("html with BOM and whitespace", bom + bytes("\r\n  <html lang=\"en\">"), .html),
        ("html lowercase doctype", bytes("<!doctype html>"), .html),
        ("xhtml after xml prologue", bytes("<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">"), .html),
        ("plain text", bytes("just some text"), nil),
        ("json", bytes("{\"error\": \"not found\"}"), nil),
        ("mp4 video", [0, 0, 0, 0x18] + bytes("ftypisom") + [0, 0, 2, 0] + bytes("isomiso2"), nil),
        ("BM text", bytes("BMW owners club newsletter"), nil),
        ("empty", [], nil),
        ("jpeg prefix only", [0xFF, 0xD8], nil),
    ]

    @Test(arguments: samples.indices)
    func sniffsFormatFromMagicBytes(_ index: Int) {
        let sample = Self.samples[index]
        #expect(ImageSniffer.format(of: sample.bytes) == sample.format, "\(sample.name)")
    }

    @Test func sniffsRealJPEGAndPNG() throws {
        let pixels = TestImages.waves(width: 16, height: 16)
        #expect(ImageSniffer.format(of: try TestImages.jpeg(pixels, width: 16, height: 16)) == .jpeg)
        #expect(ImageSniffer.format(of: try TestImages.png(pixels, width: 16, height: 16)) == .png)
    }

    @Test func looksOnlyAtThePrefix() {
        // An HTML page whose first kilobyte holds no root element is not guessed at from later bytes.
        let page = Self.bytes("<!-- " + String(repeating: "x", count: 2000) + " --><svg/>")
        #expect(ImageSniffer.format(of: page) == nil)
    }
}
