import Foundation
import Testing

@testable import PixExport

/// What Python's zipfile sees in an archive.
private struct ZipListing: Decodable {
    struct Entry: Decodable {
        var name: String
        var size: Int
        var compressType: Int
        var flagBits: Int
        var dateTime: [Int]
        var sha256: String
    }

    var bad: String?
    var count: Int
    var entries: [Entry]
    var archiveSHA256: String
}

private let zipListingScript = """
    import hashlib, json, sys, zipfile
    path, limit = sys.argv[1], int(sys.argv[2])
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        infos = archive.infolist()
        entries = []
        for info in infos[:limit]:
            entries.append({
                "name": info.filename, "size": info.file_size, "compressType": info.compress_type,
                "flagBits": info.flag_bits, "dateTime": list(info.date_time),
                "sha256": hashlib.sha256(archive.read(info)).hexdigest()})
    print(json.dumps({"bad": bad, "count": len(infos), "entries": entries,
                      "archiveSHA256": hashlib.sha256(open(path, "rb").read()).hexdigest()}))
    """

private func listZip(_ url: URL, limit: Int = Int.max) throws -> ZipListing {
    try ExternalTools.python(zipListingScript, [url.path, String(min(limit, 1 << 30))], as: ZipListing.self)
}

@Suite struct ZipWriterTests {
    @Test func entriesReadBackByPythonMatchTheirBytesAndCRCs() throws {
        let directory = try TemporaryDirectory()
        let sizes = [0, 1, 100, 65_535, 65_536, 65_537, 200_000]
        var expected: [String: [UInt8]] = [:]
        let archiveURL = directory.file("out.zip")
        let writer = try ZipWriter(destination: archiveURL, options: .init(blockSize: 64 << 10))

        for (index, size) in sizes.enumerated() {
            let name = "images/cat/\(index).jpg"
            expected[name] = try directory.makeFile("src-\(index)", size: size, seed: UInt64(index + 1))
            try writer.addFile(
                path: name, from: directory.file("src-\(index)"), size: size, modified: Fixtures.referenceDate)
        }
        let unicodeName = "ünïcödé/猫/🐱 cat.png"
        expected[unicodeName] = Array("non-ascii".utf8)
        try writer.addData(path: unicodeName, bytes: expected[unicodeName]!, modified: Fixtures.referenceDate)

        let smallStream = Fixtures.bytes(count: 50_000, seed: 99)
        var smallSource = ChunkedSource(bytes: smallStream, readSize: 7_000)
        try writer.addEntry(
            path: "stream/small.bin", size: smallStream.count, modified: Fixtures.referenceDate, from: &smallSource)
        expected["stream/small.bin"] = smallStream

        let largeStream = Fixtures.bytes(count: 300_000, seed: 100)
        var largeSource = ChunkedSource(bytes: largeStream, readSize: 10_000)
        try writer.addEntry(
            path: "stream/large.bin", size: largeStream.count, modified: Fixtures.referenceDate, from: &largeSource)
        expected["stream/large.bin"] = largeStream

        let summary = try writer.finish()
        let listing = try listZip(archiveURL)

        #expect(listing.bad == nil)
        #expect(listing.count == expected.count)
        #expect(summary.entryCount == expected.count)
        #expect(summary.sha256 == listing.archiveSHA256)
        #expect(summary.size == (try FileManager.default.attributesOfItem(atPath: archiveURL.path)[.size] as? Int))
        for entry in listing.entries {
            let bytes = try #require(expected[entry.name], "unexpected entry \(entry.name)")
            #expect(entry.size == bytes.count, "\(entry.name)")
            #expect(entry.compressType == 0, "\(entry.name) must be stored")
            #expect(entry.dateTime == [2023, 11, 14, 22, 13, 20], "\(entry.name)")
        }
        let hashes = Dictionary(uniqueKeysWithValues: listing.entries.map { ($0.name, $0.sha256) })
        let order = expected.keys.sorted()
        let sourceFiles = try order.map { name -> URL in
            let url = directory.file("expected-\(order.firstIndex(of: name)!)")
            try Data(expected[name]!).write(to: url)
            return url
        }
        #expect(try Fixtures.sha256(of: sourceFiles) == order.map { hashes[$0] })

        let flags = Dictionary(uniqueKeysWithValues: listing.entries.map { ($0.name, $0.flagBits) })
        #expect(flags[unicodeName]! & 0x800 != 0, "non-ASCII names carry the UTF-8 flag")
        #expect(flags["images/cat/0.jpg"]! & 0x800 == 0)
        #expect(flags["stream/large.bin"]! & 0x8 != 0, "a source larger than a block uses a data descriptor")
        #expect(flags["stream/small.bin"]! & 0x8 == 0)
        #expect(flags["images/cat/6.jpg"]! & 0x8 == 0, "a large file is read twice, not described after its data")

        let archive = try [UInt8](Data(contentsOf: archiveURL))
        #expect(!containsSignature(archive, ZipRecords.zip64LocatorSignature), "a small archive has no ZIP64 records")
    }

    @Test(.enabled(if: ExternalTools.isInstalled("unzip"))) func unzipTestsTheArchiveClean() throws {
        let directory = try TemporaryDirectory()
        try directory.makeFile("a", size: 123_456, seed: 7)
        let writer = try ZipWriter(destination: directory.file("out.zip"))
        try writer.addFile(path: "train/dog/a.jpg", from: directory.file("a"))
        try writer.addData(
            path: "ATTRIBUTION.md", bytes: Array("# Attribution\n".utf8), modified: Fixtures.referenceDate)
        _ = try writer.finish()
        let output = try ExternalTools.run("/usr/bin/env", ["unzip", "-t", directory.file("out.zip").path])
        #expect(String(decoding: output, as: UTF8.self).contains("No errors detected"))
    }

    @Test func moreThan65535EntriesUseZip64EndRecords() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("many.zip")
        let writer = try ZipWriter(destination: url, options: .init(synchronizeOnFinish: false))
        let count = 70_000
        for index in 0..<count {
            try writer.addData(
                path: "e/\(index).txt", bytes: Array(String(index).utf8), modified: Fixtures.referenceDate)
        }
        let summary = try writer.finish()
        #expect(summary.entryCount == count)

        let check = try ExternalTools.python(
            """
            import json, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as archive:
                infos = archive.infolist()
                bad = archive.testzip()
                samples = {i.filename: archive.read(i).decode() for i in (infos[0], infos[65535], infos[-1])}
            print(json.dumps({"count": len(infos), "bad": bad, "samples": samples}))
            """, [url.path], as: ManyCheck.self)
        #expect(check.count == count)
        #expect(check.bad == nil)
        #expect(check.samples == ["e/0.txt": "0", "e/65535.txt": "65535", "e/69999.txt": "69999"])

        let archive = try [UInt8](Data(contentsOf: url))
        let end = archive.count - 22
        #expect(readU32(archive, end) == ZipRecords.endSignature)
        #expect(readU16(archive, end + 10) == 0xffff, "the classic entry count says 'see ZIP64'")
        #expect(readU32(archive, end - 20) == ZipRecords.zip64LocatorSignature)
        #expect(readU32(archive, end - 20 - 56) == ZipRecords.zip64EndSignature)
        #expect(readU64(archive, end - 20 - 56 + 32) == UInt64(count))
    }

    private struct ManyCheck: Decodable {
        var count: Int
        var bad: String?
        var samples: [String: String]
    }

    @Test func forgedLargeSizeAndOffsetGoToTheZip64ExtraField() throws {
        let size: UInt64 = 5 << 30
        let offset: UInt64 = 6 << 30
        let name = Array("big.bin".utf8)

        let local = ZipRecords.localFileHeader(
            name: name, crc: 0x1234_5678, size: size, modified: Fixtures.referenceDate, dataDescriptor: false)
        #expect(readU16(local, 4) == 45, "version needed for ZIP64")
        #expect(readU32(local, 18) == 0xffff_ffff)
        #expect(readU32(local, 22) == 0xffff_ffff)
        let localExtra = 30 + name.count
        #expect(readU16(local, localExtra) == 0x0001)
        #expect(readU16(local, localExtra + 2) == 16)
        #expect(readU64(local, localExtra + 4) == size)
        #expect(readU64(local, localExtra + 12) == size)

        let entry = ZipEntry(
            name: name, crc: 0x1234_5678, size: size, localHeaderOffset: offset, modified: Fixtures.referenceDate,
            usesDataDescriptor: false)
        let central = ZipRecords.centralDirectoryHeader(entry)
        #expect(readU32(central, 20) == 0xffff_ffff)
        #expect(readU32(central, 24) == 0xffff_ffff)
        #expect(readU32(central, 42) == 0xffff_ffff)
        let centralExtra = 46 + name.count
        #expect(readU16(central, centralExtra) == 0x0001)
        #expect(readU16(central, centralExtra + 2) == 24)
        #expect(readU64(central, centralExtra + 4) == size)
        #expect(readU64(central, centralExtra + 12) == size)
        #expect(readU64(central, centralExtra + 20) == offset)

        // Python's zipfile reads the forged central directory (it only touches data when an entry is opened).
        let directory = try TemporaryDirectory()
        let url = directory.file("forged.zip")
        let end = ZipRecords.endOfCentralDirectory(
            entryCount: 1, directorySize: UInt64(central.count), directoryOffset: 0)
        try Data(central + end).write(to: url)
        let info = try ExternalTools.python(
            """
            import json, sys, zipfile
            info = zipfile.ZipFile(sys.argv[1]).infolist()[0]
            print(json.dumps([info.filename, info.file_size, info.compress_size, info.header_offset, info.CRC]))
            """, [url.path], as: [ForgedValue].self)
        #expect(
            info == [
                .text("big.bin"), .number(Int(size)), .number(Int(size)), .number(Int(offset)), .number(0x1234_5678),
            ])

        let zip64End = ZipRecords.endOfCentralDirectory(entryCount: 3, directorySize: 300, directoryOffset: offset)
        #expect(readU32(zip64End, 0) == ZipRecords.zip64EndSignature)
        #expect(readU64(zip64End, 48) == offset)
        #expect(readU32(zip64End, 56) == ZipRecords.zip64LocatorSignature)
        #expect(readU64(zip64End, 64) == offset + 300, "the locator points right after the central directory")
        #expect(readU32(zip64End, 76 + 16) == 0xffff_ffff, "the classic offset says 'see ZIP64'")
    }

    private enum ForgedValue: Decodable, Equatable {
        case text(String)
        case number(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .text(try container.decode(String.self))
            }
        }
    }

    @Test(arguments: ["", "/abs.jpg", "a/../b.jpg", "./a.jpg", "a//b.jpg", "a\\b.jpg", "dir/", "tab\there.jpg"])
    func invalidEntryPathsAreRejectedAndTheWriterStaysOpen(path: String) throws {
        let directory = try TemporaryDirectory()
        let writer = try ZipWriter(destination: directory.file("out.zip"))
        let error = try #require(throws: ExportError.self) {
            try writer.addData(path: path, bytes: [1, 2, 3], modified: Fixtures.referenceDate)
        }
        #expect(error.code == .invalidEntryPath)
        try writer.addData(path: "ok.txt", bytes: [1], modified: Fixtures.referenceDate)
        #expect(try writer.finish().entryCount == 1)
    }

    @Test func aMissingOrResizedFileCanBeSkipped() throws {
        let directory = try TemporaryDirectory()
        try directory.makeFile("present", size: 1000, seed: 1)
        let writer = try ZipWriter(destination: directory.file("out.zip"))

        let missing = try #require(throws: ExportError.self) {
            try writer.addFile(path: "missing.jpg", from: directory.file("absent"))
        }
        #expect(missing.code == .fileSystem)
        let resized = try #require(throws: ExportError.self) {
            try writer.addFile(path: "resized.jpg", from: directory.file("present"), size: 999, modified: nil)
        }
        #expect(resized.code == .sizeMismatch)

        try writer.addFile(path: "present.jpg", from: directory.file("present"))
        _ = try writer.finish()
        let listing = try listZip(directory.file("out.zip"))
        #expect(listing.entries.map(\.name) == ["present.jpg"])
    }

    @Test func aSourceDeliveringMoreThanDeclaredDiscardsTheArchive() throws {
        let directory = try TemporaryDirectory()
        let writer = try ZipWriter(destination: directory.file("out.zip"), options: .init(blockSize: 64 << 10))
        var source = ChunkedSource(bytes: Fixtures.bytes(count: 200_000, seed: 3))
        let error = try #require(throws: ExportError.self) {
            try writer.addEntry(path: "x.bin", size: 150_000, modified: Fixtures.referenceDate, from: &source)
        }
        #expect(error.code == .sizeMismatch)
        #expect(try directory.contents().isEmpty)
        #expect(throws: ExportError.self) { try writer.finish() }
    }
}

private func containsSignature(_ bytes: [UInt8], _ signature: UInt32) -> Bool {
    guard bytes.count >= 4 else { return false }
    return (0...(bytes.count - 4)).contains { readU32(bytes, $0) == signature }
}

func readU16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func readU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

func readU64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
}
