import PixCore
import PixValidate
import Testing

@Suite struct DifferenceHashTests {
    func hash(_ bytes: [UInt8], depth: ValidationDepth = .full) throws -> UInt64 {
        try #require(ImageValidator(rules: ValidationRules(depth: depth)).validate(bytes).image?.perceptualHash)
    }

    @Test func samePictureAsPNGAndJPEGHashesAlike() throws {
        let (width, height) = (480, 360)
        let pixels = TestImages.waves(width: width, height: height)
        let png = try hash(TestImages.png(pixels, width: width, height: height))
        let jpeg = try hash(TestImages.jpeg(pixels, width: width, height: height, quality: 85))
        let jpegPixels = try hash(TestImages.jpeg(pixels, width: width, height: height, quality: 85), depth: .pixels)
        #expect(DifferenceHash.hammingDistance(png, jpeg) <= 3)
        #expect(DifferenceHash.hammingDistance(png, jpegPixels) <= 3)
    }

    @Test func samePictureAtAnotherSizeHashesAlike() throws {
        let large = try hash(TestImages.png(TestImages.waves(width: 640, height: 480), width: 640, height: 480))
        let small = try hash(TestImages.jpeg(TestImages.waves(width: 160, height: 120), width: 160, height: 120))
        #expect(DifferenceHash.hammingDistance(large, small) <= 4)
    }

    @Test func differentPicturesHashFarApart() throws {
        let (width, height) = (320, 240)
        let waves = try hash(TestImages.png(TestImages.waves(width: width, height: height), width: width, height: height))
        let bands = try hash(TestImages.png(TestImages.bands(width: width, height: height), width: width, height: height))
        #expect(DifferenceHash.hammingDistance(waves, bands) >= 20)
    }

    @Test func sameFileHashesIdentically() throws {
        let png = try TestImages.wavesPNG()
        #expect(try hash(png) == hash(png))
    }

    @Test func bitsAreSetWhereTheRightNeighbourIsBrighter() {
        var grid = [UInt8](repeating: 100, count: 72)
        grid[1] = 101  // row 0: cell 1 > cell 0 → most significant bit
        grid[71] = 200  // row 7: cell 8 > cell 7 → least significant bit
        #expect(DifferenceHash.hash(grid: grid) == UInt64(1) << 63 | 1)
        let rising = (0..<72).map { UInt8($0 % 9 * 20) }
        #expect(DifferenceHash.hash(grid: rising) == .max)
        #expect(DifferenceHash.hash(grid: rising.reversed()) == 0)
    }

    @Test func averagingA9x8ImageLeavesItUnchanged() {
        let gray = (0..<72).map { UInt8($0 * 3) }
        #expect(DifferenceHash.averageGrid(gray: gray, width: 9, height: 8) == gray)
        #expect(DifferenceHash.hash(gray: gray, width: 9, height: 8) == DifferenceHash.hash(grid: gray))
    }

    @Test func hammingDistanceCountsDifferingBits() {
        #expect(DifferenceHash.hammingDistance(0, 0) == 0)
        #expect(DifferenceHash.hammingDistance(0, .max) == 64)
        #expect(DifferenceHash.hammingDistance(0b1011, 0b0110) == 3)
    }
}

@Suite struct SHA256HasherTests {
    @Test func matchesKnownVectors() {
        #expect(SHA256Hasher.hex(of: [UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256Hasher()
        var offset = 0
        for size in [1, 63, 64, 65, 4096, 30_000] {
            hasher.update(Array(bytes[offset..<(offset + size)]))
            offset += size
        }
        hasher.update(Array(bytes[offset...]))
        #expect(hasher.byteCount == bytes.count)
        #expect(hasher.finalizeHex() == SHA256Hasher.hex(of: bytes))
    }
}
