import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One entry as the central directory describes it.
struct ZipEntry: Hashable, Sendable {
    var name: [UInt8]
    var crc: UInt32
    var size: UInt64
    var localHeaderOffset: UInt64
    var modified: Date
    var usesDataDescriptor: Bool
}

/// Encoders of the ZIP records (APPNOTE 6.3.x): local file header, data descriptor, central directory
/// header, and the (ZIP64) end of central directory records. Entries are always stored (method 0).
enum ZipRecords {
    static let localFileHeaderSignature: UInt32 = 0x0403_4b50
    static let dataDescriptorSignature: UInt32 = 0x0807_4b50
    static let centralDirectorySignature: UInt32 = 0x0201_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let endSignature: UInt32 = 0x0605_4b50

    static let zip64ExtraTag: UInt16 = 0x0001
    static let extendedTimestampTag: UInt16 = 0x5455

    /// The marker value meaning "see the ZIP64 extra field".
    static let sentinel32: UInt32 = 0xffff_ffff
    static let sentinel16: UInt16 = 0xffff

    static let flagDataDescriptor: UInt16 = 1 << 3
    static let flagUTF8: UInt16 = 1 << 11

    static let versionDefault: UInt16 = 20
    static let versionZip64: UInt16 = 45
    /// "Made by" host 3 (Unix), so the external attributes carry a Unix mode.
    static let hostUnix: UInt16 = 3 << 8
    static let regularFileMode: UInt32 = 0o100644

    /// Whether a size needs the 8-byte ZIP64 fields.
    static func needsZip64(_ value: UInt64) -> Bool { value >= UInt64(sentinel32) }

    static func flags(name: [UInt8], dataDescriptor: Bool) -> UInt16 {
        var flags: UInt16 = 0
        if name.contains(where: { $0 >= 0x80 }) { flags |= flagUTF8 }
        if dataDescriptor { flags |= flagDataDescriptor }
        return flags
    }

    /// A local file header. With a data descriptor, the CRC and sizes are zero here (APPNOTE 4.4.4) and
    /// follow the data; a declared size of 4 GiB or more gets a ZIP64 extra field either way.
    static func localFileHeader(
        name: [UInt8], crc: UInt32, size: UInt64, modified: Date, dataDescriptor: Bool
    ) -> [UInt8] {
        let zip64 = needsZip64(size)
        let (time, date) = dosDateTime(modified)
        var extra = LittleEndianBytes()
        if zip64 {
            extra.u16(zip64ExtraTag)
            extra.u16(16)
            extra.u64(dataDescriptor ? 0 : size)  // uncompressed
            extra.u64(dataDescriptor ? 0 : size)  // compressed (stored: equal)
        }
        appendTimestamp(to: &extra, modified)

        var out = LittleEndianBytes(capacity: 30 + name.count + extra.bytes.count)
        out.u32(localFileHeaderSignature)
        out.u16(zip64 ? versionZip64 : versionDefault)
        out.u16(flags(name: name, dataDescriptor: dataDescriptor))
        out.u16(0)  // stored
        out.u16(time)
        out.u16(date)
        out.u32(dataDescriptor ? 0 : crc)
        let size32: UInt32 = zip64 ? sentinel32 : (dataDescriptor ? 0 : UInt32(size))
        out.u32(size32)
        out.u32(size32)
        out.u16(UInt16(name.count))
        out.u16(UInt16(extra.bytes.count))
        out.append(name)
        out.append(extra.bytes)
        return out.bytes
    }

    /// The data descriptor after an entry's data; 8-byte sizes when the local header had a ZIP64 field.
    static func dataDescriptor(crc: UInt32, size: UInt64, zip64: Bool) -> [UInt8] {
        var out = LittleEndianBytes(capacity: 24)
        out.u32(dataDescriptorSignature)
        out.u32(crc)
        if zip64 {
            out.u64(size)
            out.u64(size)
        } else {
            out.u32(UInt32(size))
            out.u32(UInt32(size))
        }
        return out.bytes
    }

    /// A central directory file header. Values that do not fit in 32 bits are replaced by 0xFFFFFFFF and
    /// carried, in the APPNOTE order (uncompressed, compressed, offset), in a ZIP64 extra field.
    static func centralDirectoryHeader(_ entry: ZipEntry) -> [UInt8] {
        let sizeOverflows = needsZip64(entry.size)
        let offsetOverflows = needsZip64(entry.localHeaderOffset)
        let zip64 = sizeOverflows || offsetOverflows
        let (time, date) = dosDateTime(entry.modified)

        var extra = LittleEndianBytes()
        if zip64 {
            extra.u16(zip64ExtraTag)
            extra.u16(UInt16((sizeOverflows ? 16 : 0) + (offsetOverflows ? 8 : 0)))
            if sizeOverflows {
                extra.u64(entry.size)
                extra.u64(entry.size)
            }
            if offsetOverflows { extra.u64(entry.localHeaderOffset) }
        }
        appendTimestamp(to: &extra, entry.modified)

        let version = zip64 ? versionZip64 : versionDefault
        var out = LittleEndianBytes(capacity: 46 + entry.name.count + extra.bytes.count)
        out.u32(centralDirectorySignature)
        out.u16(hostUnix | version)
        out.u16(version)
        out.u16(flags(name: entry.name, dataDescriptor: entry.usesDataDescriptor))
        out.u16(0)  // stored
        out.u16(time)
        out.u16(date)
        out.u32(entry.crc)
        out.u32(sizeOverflows ? sentinel32 : UInt32(entry.size))
        out.u32(sizeOverflows ? sentinel32 : UInt32(entry.size))
        out.u16(UInt16(entry.name.count))
        out.u16(UInt16(extra.bytes.count))
        out.u16(0)  // comment length
        out.u16(0)  // disk number start
        out.u16(0)  // internal attributes
        out.u32(regularFileMode << 16)
        out.u32(offsetOverflows ? sentinel32 : UInt32(entry.localHeaderOffset))
        out.append(entry.name)
        out.append(extra.bytes)
        return out.bytes
    }

    /// The end records: a ZIP64 end of central directory record and locator when the entry count or the
    /// directory's size or offset overflow the classic fields, then the classic end record.
    static func endOfCentralDirectory(entryCount: UInt64, directorySize: UInt64, directoryOffset: UInt64) -> [UInt8] {
        let zip64 =
            entryCount >= UInt64(sentinel16) || needsZip64(directorySize) || needsZip64(directoryOffset)
        var out = LittleEndianBytes(capacity: 22 + (zip64 ? 76 : 0))
        if zip64 {
            let zip64EndOffset = directoryOffset + directorySize
            out.u32(zip64EndSignature)
            out.u64(44)  // size of the rest of this record
            out.u16(hostUnix | versionZip64)
            out.u16(versionZip64)
            out.u32(0)  // this disk
            out.u32(0)  // disk with the central directory
            out.u64(entryCount)
            out.u64(entryCount)
            out.u64(directorySize)
            out.u64(directoryOffset)

            out.u32(zip64LocatorSignature)
            out.u32(0)  // disk with the ZIP64 end record
            out.u64(zip64EndOffset)
            out.u32(1)  // total disks
        }
        let count16 = entryCount >= UInt64(sentinel16) ? sentinel16 : UInt16(entryCount)
        out.u32(endSignature)
        out.u16(0)
        out.u16(0)
        out.u16(count16)
        out.u16(count16)
        out.u32(needsZip64(directorySize) ? sentinel32 : UInt32(directorySize))
        out.u32(needsZip64(directoryOffset) ? sentinel32 : UInt32(directoryOffset))
        out.u16(0)  // comment length
        return out.bytes
    }

    /// MS-DOS date and time in UTC, clamped to 1980-01-01 … 2107-12-31.
    static func dosDateTime(_ date: Date) -> (time: UInt16, date: UInt16) {
        var seconds = time_t(clamping: Int64(date.timeIntervalSince1970.rounded(.down)))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        if year < 1980 { return (0, (1 << 5) | 1) }
        if year > 2107 { return ((23 << 11) | (59 << 5) | 29, (127 << 9) | (12 << 5) | 31) }
        let time = (UInt16(parts.tm_hour) << 11) | (UInt16(parts.tm_min) << 5) | UInt16(parts.tm_sec / 2)
        let day = (UInt16(year - 1980) << 9) | (UInt16(parts.tm_mon + 1) << 5) | UInt16(parts.tm_mday)
        return (time, day)
    }

    /// The Info-ZIP extended timestamp field (0x5455) with the modification time in Unix seconds.
    private static func appendTimestamp(to extra: inout LittleEndianBytes, _ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        extra.u16(extendedTimestampTag)
        extra.u16(5)
        extra.u8(1)  // modification time present
        extra.u32(UInt32(bitPattern: Int32(clamping: seconds)))
    }
}

/// A little-endian byte appender for binary records.
struct LittleEndianBytes {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }
}
