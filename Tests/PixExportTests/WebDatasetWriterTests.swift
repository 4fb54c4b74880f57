import Foundation
import PixExport
import Testing

/// A WebDataset read back the way `webdataset` loaders do: members grouped by the name before the first dot.
private struct WebDatasetReadBack: Decodable {
    struct Shard: Decodable {
        var file: String
        var size: Int
        var sha256: String
        var samples: [Sample]
    }

    struct Sample: Decodable {
        var key: String
        var extensions: [String]
        var imageSHA256: String
        var metadata: [String: JSONValue]
        var caption: String
    }

    var index: Index
    var shards: [Shard]

    struct Index: Decodable {
        var kind: String
        var widsVersion: Int
        var name: String
        var samplesPerShard: Int
        var totalSamples: Int
        var totalBytes: Int
        var shardlist: [Entry]

        struct Entry: Decodable {
            var url: String
            var nsamples: Int
            var filesize: Int
            var sha256: String
            var firstKey: String
            var lastKey: String

            enum CodingKeys: String, CodingKey {
                case url, nsamples, filesize, sha256
                case firstKey = "first_key"
                case lastKey = "last_key"
            }
        }

        enum CodingKeys: String, CodingKey {
            case kind = "__kind__"
            case widsVersion = "wids_version"
            case name
            case samplesPerShard = "samples_per_shard"
            case totalSamples = "total_samples"
            case totalBytes = "total_bytes"
            case shardlist
        }
    }
}

enum JSONValue: Decodable, Equatable {
    case string(String)
    case number(Double)
    case null
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .other
        }
    }
}

private let readBackScript = """
    import hashlib, json, os, sys, tarfile
    directory, index_name = sys.argv[1], sys.argv[2]
    index = json.load(open(os.path.join(directory, index_name)))
    shards = []
    for entry in index["shardlist"]:
        path = os.path.join(directory, entry["url"])
        samples, current = [], None
        with tarfile.open(path, "r:") as archive:
            for member in archive:
                key, extension = member.name.split(".", 1)   # webdataset: the key ends at the FIRST dot
                data = archive.extractfile(member).read()
                if current is None or current["key"] != key:
                    current = {"key": key, "extensions": [], "files": {}}
                    samples.append(current)
                current["extensions"].append(extension)
                current["files"][extension] = data
        out = []
        for sample in samples:
            files = sample["files"]
            image = next(files[e] for e in ("jpg", "png") if e in files)
            out.append({"key": sample["key"], "extensions": sample["extensions"],
                        "imageSHA256": hashlib.sha256(image).hexdigest(),
                        "metadata": json.loads(files["json"]), "caption": files["txt"].decode()})
        keys = [s["key"] for s in samples]
        assert len(keys) == len(set(keys)), "a key's members are not adjacent or a key repeats"
        shards.append({"file": entry["url"], "size": os.path.getsize(path),
                       "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(), "samples": out})
    print(json.dumps({"index": index, "shards": shards}))
    """

@Suite struct WebDatasetWriterTests {
    private func row(_ index: Int, key: String, format: String) -> ManifestRow {
        ManifestRow(
            path: "\(key).\(format == "png" ? "png" : "jpg")", imageID: Int64(1000 + index),
            originalURL: "https://example.org/\(index).img", landingURL: nil, source: "openverse", license: "by 4.0",
            creator: "Créatrice \(index)", keyword: index.isMultiple(of: 2) ? "red fox" : "snow owl 🦉", split: .train,
            width: 640, height: 480, bytes: 0, format: format, sha256: String(repeating: "a", count: 64),
            dhash: UInt64(index))
    }

    @Test func samplesReadBackGroupedByBasenameAndTheIndexDescribesEachShard() throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("wds")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        let writer = try WebDatasetWriter(directory: output, prefix: "train", samplesPerShard: 10)
        var expectedImages: [String: [UInt8]] = [:]
        var expectedRows: [String: ManifestRow] = [:]
        for index in 0..<25 {
            let key = WebDatasetKey.make(position: index, imageID: Int64(1000 + index))
            let isPNG = index % 3 == 0
            let bytes = Fixtures.bytes(count: 1_000 + index * 137, seed: UInt64(index))
            let image: WebDatasetSample.Image
            if isPNG {
                image = .bytes(bytes)
            } else {
                try Data(bytes).write(to: directory.file("img-\(index)"))
                image = .file(directory.file("img-\(index)"), size: bytes.count)
            }
            let row = row(index, key: key, format: isPNG ? "png" : "jpeg")
            try writer.addSample(
                WebDatasetSample(
                    key: key, image: image, imageExtension: isPNG ? "png" : "jpg", metadataJSON: row.jsonObject(),
                    caption: row.keyword, modified: Fixtures.referenceDate))
            expectedImages[key] = bytes
            expectedRows[key] = row
        }
        let summary = try writer.finish()
        #expect(summary.index.shards.map(\.url) == ["train-000000.tar", "train-000001.tar", "train-000002.tar"])
        #expect(summary.index.shards.map(\.sampleCount) == [10, 10, 5])
        #expect(summary.indexFile.url.lastPathComponent == "train-index.json")

        let readBack = try ExternalTools.python(
            readBackScript, [output.path, "train-index.json"], as: WebDatasetReadBack.self)
        #expect(readBack.index.kind == "wids-shard-index-v1")
        #expect(readBack.index.widsVersion == 1)
        #expect(readBack.index.totalSamples == 25)
        #expect(readBack.index.samplesPerShard == 10)
        #expect(readBack.index.totalBytes == readBack.shards.reduce(0) { $0 + $1.size })
        for (entry, shard) in zip(readBack.index.shardlist, readBack.shards) {
            #expect(entry.nsamples == shard.samples.count)
            #expect(entry.filesize == shard.size)
            #expect(entry.sha256 == shard.sha256)
            #expect(entry.firstKey == shard.samples.first?.key)
            #expect(entry.lastKey == shard.samples.last?.key)
        }

        let samples = readBack.shards.flatMap(\.samples)
        #expect(samples.map(\.key) == expectedImages.keys.sorted(), "every key once, in sorted order")
        let hashFiles = try samples.enumerated().map { offset, sample -> URL in
            let url = directory.file("expected-\(offset)")
            try Data(expectedImages[sample.key]!).write(to: url)
            return url
        }
        #expect(try Fixtures.sha256(of: hashFiles) == samples.map(\.imageSHA256))
        for sample in samples {
            let row = try #require(expectedRows[sample.key])
            #expect(!sample.key.contains("."))
            #expect(sample.extensions == [row.format == "png" ? "png" : "jpg", "json", "txt"])
            #expect(sample.caption == row.keyword)
            #expect(sample.metadata["image_id"] == .number(Double(row.imageID)))
            #expect(sample.metadata["creator"] == .string(row.creator!))
            #expect(sample.metadata["landing_url"] == .null)
        }
    }

    @Test func keysAreSortableUniqueAndFreeOfDots() throws {
        let keys = (0..<2_000).map { WebDatasetKey.make(position: $0, id: "img.\($0)/x") }
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
        #expect(keys.allSatisfy { !$0.contains(".") && !$0.contains("/") })
        #expect(WebDatasetKey.make(position: 42, imageID: 1234) == "000000042_1234")
        for key in keys { try WebDatasetKey.validate(key) }
        for bad in ["", "a.b", "a/b", "ключ", String(repeating: "k", count: 129)] {
            #expect(throws: ExportError.self) { try WebDatasetKey.validate(bad) }
        }
    }

    @Test func aRepeatedOrDecreasingKeyIsRefusedAndTheWriterGoesOn() throws {
        let directory = try TemporaryDirectory()
        let writer = try WebDatasetWriter(directory: directory.url, prefix: "s", samplesPerShard: 100)
        func sample(_ key: String) -> WebDatasetSample {
            WebDatasetSample(
                key: key, image: .bytes([1, 2, 3]), imageExtension: "jpg", metadataJSON: "{}", caption: "c",
                modified: Fixtures.referenceDate)
        }
        try writer.addSample(sample("000000002_b"))
        for bad in ["000000002_b", "000000001_a"] {
            let error = try #require(throws: ExportError.self) { try writer.addSample(sample(bad)) }
            #expect(error.code == .invalidSampleKey)
        }
        let badExtension = try #require(throws: ExportError.self) {
            var withDot = sample("000000003_c")
            withDot.imageExtension = "tar.gz"
            try writer.addSample(withDot)
        }
        #expect(badExtension.code == .invalidOption)
        try writer.addSample(sample("000000003_c"))
        #expect(try writer.finish().index.totalSamples == 2)
    }

    @Test func aMissingImageIsSkippedWithoutAnEmptyShard() throws {
        let directory = try TemporaryDirectory()
        let writer = try WebDatasetWriter(directory: directory.url, prefix: "s", samplesPerShard: 2)
        func sample(_ position: Int, _ image: WebDatasetSample.Image) -> WebDatasetSample {
            WebDatasetSample(
                key: WebDatasetKey.make(position: position, id: "x"), image: image, imageExtension: "jpg",
                metadataJSON: "{}", caption: "c", modified: Fixtures.referenceDate)
        }
        try writer.addSample(sample(0, .bytes([1])))
        try writer.addSample(sample(1, .bytes([2])))
        let error = try #require(throws: ExportError.self) {
            try writer.addSample(sample(2, .file(directory.file("absent.jpg"), size: nil)))
        }
        #expect(error.code == .fileSystem)
        let summary = try writer.finish()
        #expect(summary.index.shards.map(\.sampleCount) == [2])
        #expect(try directory.contents() == ["s-000000.tar", "s-index.json"])
    }

    @Test func cancellingRemovesPublishedShardsAndTheShardInProgress() throws {
        let directory = try TemporaryDirectory()
        let writer = try WebDatasetWriter(directory: directory.url, prefix: "s", samplesPerShard: 3)
        for position in 0..<7 {
            try writer.addSample(
                WebDatasetSample(
                    key: WebDatasetKey.make(position: position, id: "x"), image: .bytes([UInt8(position)]),
                    imageExtension: "png", metadataJSON: "{}", caption: "c", modified: Fixtures.referenceDate))
        }
        #expect(try directory.contents().count == 3, "two published shards and one in progress")
        writer.cancel()
        #expect(try directory.contents().isEmpty)
        #expect(throws: ExportError.self) { try writer.finish() }
    }

    @Test func anEmptyDatasetHasAnIndexWithoutShards() throws {
        let directory = try TemporaryDirectory()
        let summary = try WebDatasetWriter(directory: directory.url, prefix: "empty").finish()
        #expect(summary.index.shards.isEmpty)
        #expect(summary.index.totalSamples == 0)
        #expect(try directory.contents() == ["empty-index.json"])
    }

    @Test func splitsStagedTogetherAppearAtOnce() throws {
        let directory = try TemporaryDirectory()
        let destination = directory.file("export-7")
        let staging = try StagingDirectory(destination: destination)
        for split in ["train", "val"] {
            let writer = try WebDatasetWriter(directory: staging.url, prefix: split, samplesPerShard: 2)
            for position in 0..<3 {
                try writer.addSample(
                    WebDatasetSample(
                        key: WebDatasetKey.make(position: position, id: split), image: .bytes([1]),
                        imageExtension: "jpg", metadataJSON: "{}", caption: split, modified: Fixtures.referenceDate))
            }
            _ = try writer.finish()
        }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        try staging.publish()
        #expect(try directory.contents() == ["export-7"])
        let published = try FileManager.default.contentsOfDirectory(atPath: destination.path).sorted()
        #expect(
            published == [
                "train-000000.tar", "train-000001.tar", "train-index.json",
                "val-000000.tar", "val-000001.tar", "val-index.json",
            ])

        let abandoned = try StagingDirectory(destination: directory.file("export-8"))
        try Data("x".utf8).write(to: abandoned.url.appendingPathComponent("partial.tar"))
        abandoned.discard()
        #expect(try directory.contents() == ["export-7"])
    }
}
