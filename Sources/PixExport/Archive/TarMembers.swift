import Foundation

/// The members of a POSIX tar archive (ustar, with pax `path` records), found by reading its headers only.
///
/// A WebDataset export is one uncompressed tar whose shards are members: each shard is a contiguous byte range of
/// the archive, so it can be served or copied out without unpacking anything else.
public struct TarMembers: Sendable, Hashable {
    /// One regular file in the archive.
    public struct Member: Sendable, Hashable {
        /// Its path inside the archive.
        public var name: String
        /// Where its bytes start in the archive.
        public var offset: Int64
        /// Its size in bytes.
        public var size: Int64
    }

    /// Every regular file, in archive order.
    public var members: [Member]

    /// The member named `name`, if any.
    public func member(named name: String) -> Member? { members.first { $0.name == name } }

    /// True for the members of a WebDataset export that are served on their own: a top-level shard (`.tar`) or
    /// shard index (`-index.json`).
    public static func isServedShard(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && (name.hasSuffix(".tar") || name.hasSuffix("-index.json"))
    }

    /// Copies the bytes of `member` of the archive at `path` into a new file `destination`.
    static func extract(_ member: Member, of path: String, to destination: URL) throws {
        let input = try POSIXFile.openFile(path, flags: O_RDONLY, operation: "open the archive")
        defer { POSIXFile.closeFile(input) }
        let output = try POSIXFile.openFile(
            destination.path, flags: O_WRONLY | O_CREAT | O_TRUNC, operation: "create a shard file")
        defer { POSIXFile.closeFile(output) }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { block.deallocate() }
        var copied: Int64 = 0
        while copied < member.size {
            let want = Int(min(Int64(block.count), member.size - copied))
            let got = try POSIXFile.readFully(
                input, into: UnsafeMutableRawBufferPointer(rebasing: block[0..<want]),
                at: UInt64(member.offset + copied), path: path)
            guard got == want else { throw ExportError.fileSystem("read a shard of", path, errno: EIO) }
            try POSIXFile.writeAll(output, UnsafeRawBufferPointer(rebasing: block[0..<got]), path: destination.path)
            copied += Int64(got)
        }
    }

    /// Reads the headers of the tar archive at `path`.
    /// - Throws: ``ExportError`` when the file cannot be read or a header is malformed.
    public init(path: String) throws {
        let fd = try POSIXFile.openFile(path, flags: O_RDONLY, operation: "open the archive")
        defer { POSIXFile.closeFile(fd) }
        var members: [Member] = []
        var offset: UInt64 = 0
        var paxPath: String?
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        while true {
            let got = try block.withUnsafeMutableBytes {
                try POSIXFile.readFully(fd, into: $0, at: offset, path: path)
            }
            guard got == TarHeader.blockSize, block.contains(where: { $0 != 0 }) else { break }
            guard let size = Self.octal(block[124..<136]) else {
                throw ExportError.fileSystem("read a tar header of", path, errno: EINVAL)
            }
            let dataOffset = offset + UInt64(TarHeader.blockSize)
            let type = block[156]
            if type == UInt8(ascii: "x") {
                var records = [UInt8](repeating: 0, count: Int(size))
                _ = try records.withUnsafeMutableBytes {
                    try POSIXFile.readFully(fd, into: $0, at: dataOffset, path: path)
                }
                paxPath = Self.paxPath(records)
            } else {
                if type == UInt8(ascii: "0") || type == 0 {
                    let name = paxPath ?? Self.ustarName(block)
                    members.append(Member(name: name, offset: Int64(dataOffset), size: Int64(size)))
                }
                paxPath = nil
            }
            offset = dataOffset + (size + 511) / 512 * 512
        }
        self.members = members
    }

    private static func octal(_ field: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == 0x20 {
                if digits > 0 { break } else { continue }
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) else { return nil }
            value = value * 8 + UInt64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func ustarName(_ block: [UInt8]) -> String {
        let name = text(block[0..<100])
        let prefix = text(block[345..<500])
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// The `path` of pax extended-header records (`LENGTH path=VALUE\n`).
    private static func paxPath(_ records: [UInt8]) -> String? {
        var index = 0
        while index < records.count {
            guard let space = records[index...].firstIndex(of: 0x20), let length = Int(text(records[index..<space])),
                length > 0, index + length <= records.count
            else { return nil }
            let record = String(decoding: records[(space + 1)..<(index + length - 1)], as: UTF8.self)
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
            index += length
        }
        return nil
    }
}
