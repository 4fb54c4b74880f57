import Foundation

/// Encoders of POSIX.1-2001 tar headers: a ustar header, preceded by a pax extended header (`x`) when a
/// value does not fit ustar: a path that is not ASCII or cannot be split into prefix (155) + name (100),
/// a size of 8 GiB or more, or a modification time outside 0 … 8^11 − 1 seconds.
enum TarHeader {
    static let blockSize = 512
    static let maximumOctal11: UInt64 = 0o77_777_777_777
    static let zeroBlocks = [UInt8](repeating: 0, count: 1024)

    private static let typeRegular = UInt8(ascii: "0")
    private static let typePaxExtended = UInt8(ascii: "x")
    private static let paxHeaderName = Array("././@PaxHeader".utf8)

    /// The header block(s) of a regular file entry of `size` bytes.
    static func fileHeader(name: [UInt8], size: UInt64, modified: Date) -> [UInt8] {
        var pax: [(key: String, value: String)] = []

        let nameField: [UInt8]
        let prefixField: [UInt8]
        if name.allSatisfy({ $0 < 0x80 }), let split = splitUstar(name) {
            (prefixField, nameField) = split
        } else {
            pax.append(("path", String(decoding: name, as: UTF8.self)))
            nameField = Array(name.prefix(100).map { $0 < 0x80 ? $0 : UInt8(ascii: "_") })
            prefixField = []
        }

        var sizeField = size
        if size > maximumOctal11 {
            pax.append(("size", String(size)))
            sizeField = 0
        }

        let seconds = Int64(modified.timeIntervalSince1970.rounded(.down))
        var mtimeField = UInt64(clamping: seconds)
        if seconds < 0 || UInt64(seconds) > maximumOctal11 {
            pax.append(("mtime", String(seconds)))
            mtimeField = seconds < 0 ? 0 : maximumOctal11
        }

        var out: [UInt8] = []
        if !pax.isEmpty {
            let records = paxRecords(pax)
            out.reserveCapacity(blockSize * 3 + records.count)
            out += ustarBlock(
                name: paxHeaderName, prefix: [], size: UInt64(records.count), mtime: mtimeField, type: typePaxExtended)
            out += records
            out += padding(for: UInt64(records.count))
        }
        out += ustarBlock(name: nameField, prefix: prefixField, size: sizeField, mtime: mtimeField, type: typeRegular)
        return out
    }

    /// Zero bytes that complete an entry of `size` bytes to a whole 512-byte block.
    static func padding(for size: UInt64) -> ArraySlice<UInt8> {
        let remainder = Int(size % UInt64(blockSize))
        return remainder == 0 ? [] : zeroBlocks[0..<(blockSize - remainder)]
    }

    /// Splits an ASCII path into ustar's prefix and name fields, or `nil` when it cannot fit.
    static func splitUstar(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if path.count <= 100 { return ([], path) }
        guard path.count <= 256 else { return nil }
        for index in path.indices where path[index] == UInt8(ascii: "/") {
            let nameLength = path.count - index - 1
            if index <= 155 && nameLength <= 100 && nameLength > 0 {
                return (Array(path[..<index]), Array(path[(index + 1)...]))
            }
        }
        return nil
    }

    /// pax records, each `"LENGTH key=value\n"` where LENGTH counts the whole record including itself.
    static func paxRecords(_ records: [(key: String, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in records {
            let body = key.utf8.count + value.utf8.count + 3  // space, '=', newline
            var length = body + 1
            while String(length).utf8.count + body != length { length = String(length).utf8.count + body }
            out += Array("\(length) \(key)=".utf8)
            out += Array(value.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    private static func ustarBlock(name: [UInt8], prefix: [UInt8], size: UInt64, mtime: UInt64, type: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        put(name, into: &block, at: 0, width: 100)
        putOctal(0o644, into: &block, at: 100, width: 8)  // mode
        putOctal(0, into: &block, at: 108, width: 8)  // uid
        putOctal(0, into: &block, at: 116, width: 8)  // gid
        putOctal(size, into: &block, at: 124, width: 12)
        putOctal(mtime, into: &block, at: 136, width: 12)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }  // checksum counts as spaces
        block[156] = type
        put(Array("ustar\0".utf8), into: &block, at: 257, width: 6)
        put(Array("00".utf8), into: &block, at: 263, width: 2)
        putOctal(0, into: &block, at: 329, width: 8)  // devmajor
        putOctal(0, into: &block, at: 337, width: 8)  // devminor
        put(prefix, into: &block, at: 345, width: 155)
        let checksum = block.reduce(0) { $0 + UInt64($1) }
        putOctal(checksum, into: &block, at: 148, width: 7)  // six digits and a NUL …
        block[155] = UInt8(ascii: " ")  // … then a space
        return block
    }

    private static func put(_ bytes: [UInt8], into block: inout [UInt8], at offset: Int, width: Int) {
        for (index, byte) in bytes.prefix(width).enumerated() { block[offset + index] = byte }
    }

    /// `width - 1` zero-padded octal digits followed by a NUL.
    private static func putOctal(_ value: UInt64, into block: inout [UInt8], at offset: Int, width: Int) {
        var digits = Array(String(value, radix: 8).utf8)
        if digits.count < width - 1 {
            digits = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits
        }
        put(digits, into: &block, at: offset, width: width - 1)
        block[offset + width - 1] = 0
    }
}
