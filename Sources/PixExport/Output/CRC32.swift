import CPixChecksum
import CZlib

/// CRC-32 (ISO 3309, as ZIP and gzip use it), computed incrementally: by carry-less multiplication folding where
/// the CPU has it (PCLMULQDQ), with zlib for the rest.
struct CRC32: Sendable {
    private(set) var value: UInt32 = 0

    /// Whether the folding path is used on this machine.
    static let folds = cpix_crc32_folded_available() != 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = bytes.count
        var crc = value
        if Self.folds && remaining >= 64 {
            let folded = remaining & ~15
            crc = cpix_crc32_folded(crc, base, folded)
            base += folded
            remaining -= folded
        }
        var zlibCRC = uLong(crc)
        while remaining > 0 {
            let chunk = min(remaining, 1 << 30)
            zlibCRC = crc32(zlibCRC, base, uInt(chunk))
            base += chunk
            remaining -= chunk
        }
        value = UInt32(truncatingIfNeeded: zlibCRC)
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32 computed by zlib alone (the reference the folding path is tested against).
    static func zlibChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
        return UInt32(truncatingIfNeeded: crc32(0, base, uInt(bytes.count)))
    }
}
