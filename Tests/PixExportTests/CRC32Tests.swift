import Testing

@testable import PixExport

@Suite("CRC-32")
struct CRC32Tests {
    /// Deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    @Test("the check value of \"123456789\" is CBF43926")
    func checkValue() {
        let value = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
        #expect(value == 0xCBF4_3926)
    }

    @Test("every length from 0 to 300 and some large ones equal zlib's CRC", arguments: [1, 2, 3])
    func matchesZlib(seed: UInt64) {
        let data = Self.bytes(70_000, seed: seed)
        data.withUnsafeBytes { all in
            for length in Array(0...300) + [1023, 1024, 4096, 65_536, 69_999] {
                for offset in [0, 1, 7] where offset + length <= all.count {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    #expect(CRC32.checksum(slice) == CRC32.zlibChecksum(slice), "length \(length) offset \(offset)")
                }
            }
        }
    }

    @Test("incremental updates in uneven pieces equal one pass")
    func incremental() {
        let data = Self.bytes(200_003, seed: 9)
        data.withUnsafeBytes { all in
            var crc = CRC32()
            var position = 0
            var size = 1
            while position < all.count {
                let end = min(all.count, position + size)
                crc.update(UnsafeRawBufferPointer(rebasing: all[position..<end]))
                position = end
                size = size * 3 % 9_973 + 1
            }
            #expect(crc.value == CRC32.zlibChecksum(all))
        }
    }
}
