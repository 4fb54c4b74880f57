import Foundation
import Testing

@testable import PixExport

/// What Python's tarfile sees in an archive.
struct TarListing: Decodable {
    struct Member: Decodable {
        var name: String
        var size: Int
        var type: String
        var mtime: Double
        var mode: Int
        var pax: [String]
        var sha256: String
    }

    var members: [Member]
    var archiveSHA256: String
}

private let tarListingScript = """
    import gzip, hashlib, json, sys, tarfile
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "r:gz":
        gzip.decompress(open(path, "rb").read())  # checks the gzip CRC-32 and length trailer
    members = []
    with tarfile.open(path, mode) as archive:
        for member in archive.getmembers():
            data = archive.extractfile(member).read() if member.isfile() else b""
            members.append({
                "name": member.name, "size": member.size, "type": member.type.decode(),
                "mtime": member.mtime, "mode": member.mode, "pax": sorted(member.pax_headers),
                "sha256": hashlib.sha256(data).hexdigest()})
    print(json.dumps({"members": members,
                      "archiveSHA256": hashlib.sha256(open(path, "rb").read()).hexdigest()}))
    """

func listTar(_ url: URL, gzip: Bool = false) throws -> TarListing {
    try ExternalTools.python(tarListingScript, [url.path, gzip ? "r:gz" : "r:"], as: TarListing.self)
}

@Suite struct TarWriterTests {
    private static let longSplittable =
        String(repeating: "a", count: 60) + "/" + String(repeating: "b", count: 80) + ".jpg"
    private static let longUnsplittable = String(repeating: "c", count: 120) + ".jpg"
    private static let veryLong =
        (0..<30).map { "dir\($0)" }.joined(separator: "/") + "/" + String(repeating: "d", count: 90) + ".png"
    private static let nonASCII = "ünïcödé/猫/🐱 cat.png"

    /// Writes the same entries through a tar writer and returns them by name.
    private func writeSample(
        to url: URL, compression: TarWriter.Compression, directory: TemporaryDirectory
    ) throws
        -> (ArchiveSummary, [String: [UInt8]])
    {
        var expected: [String: [UInt8]] = [:]
        let writer = try TarWriter(destination: url, compression: compression, options: .init(blockSize: 64 << 10))
        for (index, size) in [0, 1, 511, 512, 513, 200_000].enumerated() {
            let name = "train/cat/\(index).jpg"
            expected[name] = try directory.makeFile("src-\(index)", size: size, seed: UInt64(index + 1))
            try writer.addFile(
                path: name, from: directory.file("src-\(index)"), size: size, modified: Fixtures.referenceDate)
        }
        for (offset, name) in [Self.longSplittable, Self.longUnsplittable, Self.veryLong, Self.nonASCII].enumerated() {
            expected[name] = Fixtures.bytes(count: 1000 + offset, seed: 50 + UInt64(offset))
            try writer.addData(path: name, bytes: expected[name]!, modified: Fixtures.referenceDate)
        }
        let streamed = Fixtures.bytes(count: 150_000, seed: 77)
        var source = ChunkedSource(bytes: streamed, readSize: 9_999)
        try writer.addEntry(path: "stream.bin", size: streamed.count, modified: Fixtures.referenceDate, from: &source)
        expected["stream.bin"] = streamed
        return (try writer.finish(), expected)
    }

    @Test(arguments: [TarWriter.Compression.none, .gzip(level: 1), .gzip()])
    func entriesReadBackByPythonTarfile(compression: TarWriter.Compression) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file(compression == .none ? "out.tar" : "out.tar.gz")
        let (summary, expected) = try writeSample(to: url, compression: compression, directory: directory)
        let listing = try listTar(url, gzip: compression != .none)

        #expect(summary.sha256 == listing.archiveSHA256)
        #expect(summary.entryCount == expected.count)
        #expect(Set(listing.members.map(\.name)) == Set(expected.keys))
        #expect(listing.members.count == expected.count)
        let order = listing.members.map(\.name)
        let files = try order.enumerated().map { index, name -> URL in
            let url = directory.file("expected-\(index)")
            try Data(expected[name]!).write(to: url)
            return url
        }
        #expect(try Fixtures.sha256(of: files) == listing.members.map(\.sha256))
        for member in listing.members {
            #expect(member.type == "0", "\(member.name) is a regular file")
            #expect(member.size == expected[member.name]!.count)
            #expect(member.mtime == Fixtures.referenceDate.timeIntervalSince1970)
            #expect(member.mode == 0o644)
        }
        let pax = Dictionary(uniqueKeysWithValues: listing.members.map { ($0.name, $0.pax) })
        #expect(pax["train/cat/0.jpg"] == [])
        #expect(pax[Self.longSplittable] == [], "a 145-byte ASCII path fits ustar's prefix and name fields")
        #expect(pax[Self.longUnsplittable] == ["path"])
        #expect(pax[Self.veryLong] == ["path"])
        #expect(pax[Self.nonASCII] == ["path"])
    }

    @Test func gnuTarListsTheSameNames() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("out.tar.gz")
        let (_, expected) = try writeSample(to: url, compression: .gzip(level: 1), directory: directory)
        let output = try ExternalTools.run("/usr/bin/env", ["tar", "--quoting-style=literal", "-tzf", url.path])
        let names = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(Set(names) == Set(expected.keys))
        #expect(names.count == expected.count)
    }

    @Test func timesBeforeTheEpochAndHugeSizesGoToPaxRecords() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("old.tar")
        let writer = try TarWriter(destination: url)
        let old = Date(timeIntervalSince1970: -315_619_200)  // 1960-01-01
        try writer.addData(path: "old.txt", bytes: Array("old".utf8), modified: old)
        _ = try writer.finish()
        let member = try #require(try listTar(url).members.first)
        #expect(member.pax == ["mtime"])
        #expect(member.mtime == old.timeIntervalSince1970)

        // A 9 GiB size cannot be written in a test; check the header, then let Python parse it without data.
        let size: UInt64 = 9 << 30
        let header = TarHeader.fileHeader(name: Array("huge.bin".utf8), size: size, modified: Fixtures.referenceDate)
        #expect(header.count == 3 * 512, "pax header, its records, then the ustar header")
        #expect(header[156] == UInt8(ascii: "x"))
        let records = String(decoding: header[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records == "19 size=\(size)\n")
        let forged = directory.file("huge.tar")
        try Data(header).write(to: forged)
        let parsed = try ExternalTools.python(
            """
            import json, sys, tarfile
            member = tarfile.open(sys.argv[1], "r:").next()
            print(json.dumps([member.name, member.size]))
            """, [forged.path], as: [HugeValue].self)
        #expect(parsed == [.text("huge.bin"), .number(Int(size))])
    }

    private enum HugeValue: Decodable, Equatable {
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

    @Test func paxRecordLengthsCountThemselvesAcrossDigitBoundaries() {
        for valueLength in 0..<1_100 {
            let value = String(repeating: "v", count: valueLength)
            let record = TarHeader.paxRecords([("path", value)])
            let declared = Int(String(decoding: record.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self))
            #expect(declared == record.count, "value of \(valueLength) bytes")
        }
    }

    @Test func ustarSplitUsesPrefixOnlyWhenBothPartsFit() {
        #expect(TarHeader.splitUstar(Array(String(repeating: "x", count: 100).utf8))?.prefix == [])
        #expect(TarHeader.splitUstar(Array(String(repeating: "x", count: 101).utf8)) == nil)
        let path = Array((String(repeating: "p", count: 155) + "/" + String(repeating: "n", count: 100)).utf8)
        let split = TarHeader.splitUstar(path)
        #expect(split?.prefix.count == 155)
        #expect(split?.name.count == 100)
        let tooLongPrefix = Array((String(repeating: "p", count: 156) + "/n").utf8)
        #expect(TarHeader.splitUstar(tooLongPrefix) == nil)
    }

    @Test func gzipLevelOutOfRangeIsRefusedAndLeavesNoFile() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: ExportError.self) {
            _ = try TarWriter(destination: directory.file("x.tar.gz"), compression: .gzip(level: 12))
        }
        #expect(error.code == .invalidOption)
        #expect(try directory.contents().isEmpty)
    }
}
