import CPixImage
import PixDemo
import PixTestSupport

extension FixtureImages {
    /// A lossless WebP of the seed's picture.
    public static func losslessWebP(seed: UInt64, width: Int = 320, height: Int = 240) -> [UInt8] {
        cached(Key(kind: 4, seed: seed, width: width, height: height, quality: 0)) {
            let pixels = rgbPixels(seed: seed, width: width, height: height)
            return encode { out, length, status in
                cpix_webp_encode_lossless(pixels, UInt32(max(1, width)), UInt32(max(1, height)), out, length, status)
            }
        }
    }

    /// The first part of a WebP, cut inside its bitstream.
    /// - Parameter keeping: the fraction of bytes kept (0…1).
    public static func truncatedWebP(seed: UInt64, width: Int = 320, height: Int = 240, keeping: Double = 0.6)
        -> [UInt8]
    {
        let full = webp(seed: seed, width: width, height: height)
        return Array(full.prefix(max(30, Int(Double(full.count) * min(max(keeping, 0), 1)))))
    }

    /// A WebP whose VP8 frame tag declares a first partition longer than the chunk (same length, valid RIFF
    /// framing). Lossy VP8 carries no checksum, so damage inside the token data is not detectable by any decoder;
    /// damage to the frame's structure is.
    public static func corruptWebP(seed: UInt64, width: Int = 320, height: Int = 240) -> [UInt8] {
        var bytes = webp(seed: seed, width: width, height: height)
        // RIFF(12) + "VP8 " + size(4) = 20: the 3-byte frame tag, first partition size in its top 19 bits.
        bytes[20] |= 0xE0
        bytes[21] = 0xFF
        bytes[22] = 0xFF
        return bytes
    }

    /// A tiny lossless WebP whose VP8L header declares `width`×`height` (at most 16384 a side): a
    /// decompression bomb a validator must reject from the header alone.
    public static func webpDeclaring(width: UInt32 = 16_384, height: UInt32 = 16_384) -> [UInt8] {
        let bits = (min(max(width, 1), 16_384) - 1) | (min(max(height, 1), 16_384) - 1) << 14
        var payload: [UInt8] = [0x2F] + SyntheticImages.littleEndian(bits)
        payload += [UInt8](repeating: 0, count: 27)
        var bytes = Array("RIFF".utf8) + SyntheticImages.littleEndian(UInt32(4 + 8 + payload.count)) + Array("WEBP".utf8)
        bytes += Array("VP8L".utf8) + SyntheticImages.littleEndian(UInt32(payload.count)) + payload
        return bytes
    }
}
