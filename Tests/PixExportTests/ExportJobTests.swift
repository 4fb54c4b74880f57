import Foundation
import PixBlob
import PixCore
import PixExport
import PixStore
import PixTestSupport
import Testing

/// Six images over two keywords, both formats, a non-ASCII keyword and creator, one image marked invalid.
private let standardSpecs: [ImageSpec] = [
    ImageSpec(seed: 1, keyword: "red fox"),
    ImageSpec(seed: 2, keyword: "arctic fox", width: 40, height: 30, format: .png),
    ImageSpec(seed: 3, keyword: "red fox", license: nil, licenseVersion: nil, creator: nil),
    ImageSpec(seed: 4, keyword: "arctic fox", format: .png, license: "cc0", licenseVersion: "1.0"),
    ImageSpec(seed: 5, keyword: "renard roux, «été»", creator: "Zoë\nnew line"),
    ImageSpec(seed: 6, keyword: "red fox"),
]

/// Checks the manifest rows against the database rows of the exported images.
private func expectManifest(
    _ rows: [[String: String]], matches images: [ImageRecord], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(rows.count == images.count, sourceLocation: sourceLocation)
    let byID = Dictionary(uniqueKeysWithValues: images.map { ($0.id, $0) })
    for row in rows {
        guard let id = row["image_id"].flatMap({ Int64($0) }), let image = byID[id] else {
            Issue.record("manifest row for an image that was not exported: \(row)", sourceLocation: sourceLocation)
            continue
        }
        let license = image.license.map { license in image.licenseVersion.map { "\(license) \($0)" } ?? license }
        #expect(row["original_url"] == image.originalURL, sourceLocation: sourceLocation)
        #expect(row["landing_url"] == (image.landingURL ?? ""), sourceLocation: sourceLocation)
        #expect(row["source"] == image.source, sourceLocation: sourceLocation)
        #expect(row["license"] == (license ?? ""), sourceLocation: sourceLocation)
        #expect(row["creator"] == (image.creator ?? ""), sourceLocation: sourceLocation)
        #expect(row["keyword"] == image.keyword, sourceLocation: sourceLocation)
        #expect(row["width"] == String(image.width), sourceLocation: sourceLocation)
        #expect(row["height"] == String(image.height), sourceLocation: sourceLocation)
        #expect(row["bytes"] == String(image.fileSize), sourceLocation: sourceLocation)
        #expect(row["format"] == image.format.rawValue, sourceLocation: sourceLocation)
        #expect(row["sha256"] == image.sha256, sourceLocation: sourceLocation)
        #expect(
            row["dhash"] == image.perceptualHash.map { String(format: "%016llx", $0) }, sourceLocation: sourceLocation)
    }
}

@Suite("Export jobs")
struct ExportJobTests {
    @Test(
        "zip, tar and tar.gz exports open with Python: one entry per image plus manifests, bytes and rows match",
        arguments: Backend.allCases, [ExportFormat.zip, .tar, .tarGzip])
    func archiveFormats(backend: Backend, format: ExportFormat) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(standardSpecs)
        #expect(try await fixture.store.setImageValidity(imageID: images[2].id, isValid: false, reason: "test"))
        let valid = images.filter { $0.id != images[2].id }

        let outcome = try await fixture.export(format)
        let listing = try ArchiveReader.read(outcome.archive)

        #expect(outcome.exportedImages == valid.count)
        #expect(listing.entries.count == outcome.exportedImages + 3, "images + manifest.csv, manifest.jsonl, ATTRIBUTION.md")
        #expect(Set(listing.entries.map(\.name)).isSuperset(of: ["manifest.csv", "manifest.jsonl", "ATTRIBUTION.md"]))
        expectManifest(listing.csvRows, matches: valid)
        #expect(listing.jsonlRows.count == listing.csvRows.count)
        for row in listing.csvRows {
            let entry = try #require(listing.entry(row["path"] ?? ""), "manifest path \(row["path"] ?? "") in archive")
            #expect(entry.sha256 == row["sha256"], "entry bytes hash to the manifest's sha256")
            #expect(String(entry.size) == row["bytes"])
            #expect(row["path"]?.hasPrefix("images/") == true)
        }
        for (csv, json) in zip(listing.csvRows, listing.jsonlRows) {
            #expect(json["image_id"]?.int.map(String.init) == csv["image_id"])
            #expect(json["path"]?.string == csv["path"])
            #expect(json["creator"]?.string ?? "" == csv["creator"])
        }
        #expect(listing.attribution?.contains("CC BY-SA 4.0") == true)

        let stored = try #require(try await fixture.store.export(id: outcome.export.id))
        #expect(stored.status == .completed)
        #expect(stored.progress == 100)
        #expect(stored.exportedImages == valid.count)
        #expect(stored.totalImages == valid.count)
        #expect(stored.fileSize == Int64(listing.archiveSize))
        #expect(stored.sha256 == listing.archiveSHA256)
        #expect(stored.filePath == outcome.archive.path)
        #expect(stored.expiresAt != nil)
        #expect(stored.downloadURL?.contains(outcome.downloadToken.value) == false)
        #expect(outcome.archive.lastPathComponent == "export-\(stored.id)\(format.fileSuffix)")
        #expect(
            fixture.exportsContents() == ["job-\(fixture.job.id)", "job-\(fixture.job.id)/\(outcome.archive.lastPathComponent)"])
    }

    @Test("csv and jsonl exports are the manifest alone, matching the database rows", arguments: Backend.allCases)
    func manifestOnly(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(standardSpecs)

        let csv = try await fixture.export(.csv)
        let csvListing = try ArchiveReader.read(csv.archive)
        expectManifest(csvListing.csvRows, matches: images)

        let jsonl = try await fixture.export(.jsonl)
        let jsonlListing = try ArchiveReader.read(jsonl.archive)
        #expect(jsonlListing.jsonlRows.count == images.count)
        #expect(Set(jsonlListing.jsonlRows.compactMap { $0["sha256"]?.string }) == Set(images.map(\.sha256)))
        let stored = try #require(try await fixture.store.export(id: jsonl.export.id))
        #expect(stored.sha256 == jsonlListing.archiveSHA256)
        #expect(stored.fileSize == Int64(jsonlListing.archiveSize))
    }

    @Test(
        "a WebDataset export reads back by key grouping: jpg|png + json + txt per sample, index matches shards",
        arguments: Backend.allCases)
    func webDataset(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(standardSpecs + (7...12).map { ImageSpec(seed: UInt64($0)) })
        let options = ExportOptions(split: "train=0.7,val=0.3", seed: 11, shardSize: 2)
        let outcome = try await fixture.export(.webdataset, options)
        let listing = try WebDatasetListing.read(outcome.archive)

        #expect(listing.samples.count == images.count)
        #expect(outcome.exportedImages == images.count)
        #expect(listing.manifestRows == images.count)
        #expect(Set(listing.samples.map(\.key)).count == listing.samples.count, "keys are unique")
        #expect(listing.samples.allSatisfy { !$0.key.contains(".") })
        let byID = Dictionary(uniqueKeysWithValues: images.map { ($0.id, $0) })
        let assigner = SplitAssigner(ratios: try SplitRatios(parsing: "train=0.7,val=0.3"), seed: 11)
        for sample in listing.samples {
            let id = try #require(sample.json["image_id"]?.int).asInt64
            let image = try #require(byID[id])
            #expect(sample.sha256[image.format.fileExtension] == image.sha256, "image member hashes to its row")
            #expect(Set(sample.sha256.keys) == [image.format.fileExtension, "json", "txt"])
            #expect(sample.txt == (image.title ?? image.keyword), "the caption (title), else the keyword")
            #expect(sample.json["sha256"]?.string == image.sha256)
            let split = assigner.split(forImageID: id)
            #expect(sample.shard.hasPrefix("\(split.rawValue)-"), "sample in a shard of its split")
            #expect(sample.json["split"]?.string == split.rawValue)
        }
        for (name, shards) in listing.indexes {
            for shard in shards {
                #expect(listing.shardSHA256[shard.url] == shard.sha256, "\(name) lists \(shard.url) with its sha256")
                #expect(listing.samples.filter { $0.shard == shard.url }.count == shard.nsamples)
                #expect(shard.nsamples <= 2)
            }
        }
        #expect(listing.indexes.values.reduce(0) { $0 + $1.count } == listing.shardSHA256.count)
        #expect(listing.outerEntries.contains("ATTRIBUTION.md"))
        #expect(fixture.exportsContents().count == 2, "only the job folder and the archive remain")
    }

    @Test("an ImageFolder export has one folder per keyword per split", arguments: Backend.allCases)
    func imageFolder(backend: Backend) async throws {
        let keywords = ["red fox", "arctic fox", "fennec/desert fox"]
        let fixture = try await ExportJobFixture(backend, keywords: keywords)
        let specs = (0..<36).map { ImageSpec(seed: UInt64(100 + $0), keyword: keywords[$0 % 3]) }
        let images = try await fixture.addImages(specs)
        let options = ExportOptions(layout: .imagefolder, split: "train=0.5,val=0.5", seed: 3)
        let outcome = try await fixture.export(.zip, options)
        let listing = try ArchiveReader.read(outcome.archive)

        let naming = ImageFolderNaming(keywords: keywords)
        let folders = Set(
            listing.entries.map(\.name).filter { $0.contains("/") }.map {
                $0.split(separator: "/").dropLast().joined(separator: "/")
            })
        let expected = Set(
            DatasetSplit.allCases.filter { $0 != .test }.flatMap { split in
                keywords.map { "\(split.rawValue)/\(naming.folders[$0]!)" }
            })
        #expect(folders == expected)
        #expect(naming.folders["fennec/desert fox"] == "fennec_desert fox")
        let byID = Dictionary(uniqueKeysWithValues: images.map { ($0.id, $0) })
        for row in listing.csvRows {
            let image = try #require(row["image_id"].flatMap { Int64($0) }.flatMap { byID[$0] })
            #expect(row["path"]?.hasPrefix("\(row["split"] ?? "?")/\(naming.folders[image.keyword]!)/") == true)
        }
    }

    @Test("near-duplicate removal keeps the largest image of a group", arguments: Backend.allCases)
    func nearDuplicates(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let base: UInt64 = 0x0F0F_F0F0_3C3C_A5A5
        let images = try await fixture.addImages([
            ImageSpec(seed: 21, width: 32, height: 24, dhash: base ^ 0b1),  // small, near the large one
            ImageSpec(seed: 22, width: 64, height: 48, dhash: base),  // the largest of the group
            ImageSpec(seed: 23, width: 48, height: 36, dhash: base ^ 0b1010),  // middle, near too
            ImageSpec(seed: 24, width: 16, height: 12, dhash: ~base),  // far from all: kept
        ])
        let outcome = try await fixture.export(.tar, ExportOptions(nearDuplicateDistance: 4))
        let listing = try ArchiveReader.read(outcome.archive)
        let exported = Set(listing.csvRows.compactMap { $0["image_id"].flatMap { Int64($0) } })
        #expect(exported == [images[1].id, images[3].id])
        #expect(outcome.export.totalImages == 2)

        let all = try await fixture.export(.tar, ExportOptions(nearDuplicateDistance: 0))
        #expect(all.exportedImages == 4, "distance 0 drops only identical hashes")
    }

    @Test("splits are deterministic for a seed and follow it; size filters apply", arguments: Backend.allCases)
    func splitsAndFilters(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let specs = (0..<24).map { ImageSpec(seed: UInt64(200 + $0), width: $0 % 4 == 0 ? 16 : 32) }
        let images = try await fixture.addImages(specs)
        func splits(_ seed: UInt64) async throws -> [Int64: String] {
            let outcome = try await fixture.export(
                .csv, ExportOptions(split: "train=0.6,val=0.2,test=0.2", seed: seed, minWidth: 20))
            let rows = try ArchiveReader.read(outcome.archive).csvRows
            return Dictionary(uniqueKeysWithValues: rows.map { (Int64($0["image_id"]!)!, $0["split"]!) })
        }
        let first = try await splits(42)
        let again = try await splits(42)
        let other = try await splits(43)
        #expect(first == again)
        #expect(first != other)
        #expect(Set(first.keys) == Set(images.filter { $0.width >= 20 }.map(\.id)), "min-width drops narrow images")
        let assigner = SplitAssigner(ratios: try SplitRatios(parsing: "train=0.6,val=0.2,test=0.2"), seed: 42)
        #expect(first.allSatisfy { assigner.split(forImageID: $0.key).rawValue == $0.value })
    }

    @Test("a missing blob fails the export with a message and leaves no archive", arguments: Backend.allCases)
    func missingBlobFails(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(standardSpecs)
        let victim = images[4]
        #expect(try fixture.blobs.delete(try .init(sha256: victim.sha256, format: victim.format)))

        for format in [ExportFormat.zip, .webdataset] {
            let runner = fixture.runner()
            let queued = try await runner.enqueue(crawlJobID: fixture.job.id, format: format, options: .init())
            await #expect(throws: ExportJobError.self) { try await runner.run(exportID: queued.id) }
            let stored = try #require(try await fixture.store.export(id: queued.id))
            #expect(stored.status == .failed)
            #expect(stored.errorMessage?.contains("image \(victim.id)") == true)
            #expect(stored.filePath == nil)
            #expect(
                fixture.exportsContents().filter { !$0.hasSuffix("job-\(fixture.job.id)") }.isEmpty,
                "no archive, temporary file or work directory is left")
        }
    }

    @Test("a blob whose size differs from its row fails the export", arguments: [Backend.sqlite])
    func resizedBlobFails(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(Array(standardSpecs.prefix(2)))
        let url = fixture.blobs.fileURL(for: try .init(sha256: images[0].sha256, format: images[0].format))
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        await #expect(throws: ExportJobError.self) { try await fixture.export(.tarGzip) }
        #expect(fixture.exportsContents().filter { !$0.hasSuffix("job-\(fixture.job.id)") }.isEmpty)
    }

    @Test("an export of a job without images holds only the manifests", arguments: [Backend.sqlite])
    func emptyJob(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let outcome = try await fixture.export(.zip)
        let listing = try ArchiveReader.read(outcome.archive)
        #expect(outcome.exportedImages == 0)
        #expect(listing.entries.map(\.name).sorted() == ["ATTRIBUTION.md", "manifest.csv", "manifest.jsonl"])
    }

    @Test("an unknown crawl job and invalid options are refused before anything is queued")
    func refusedRequests() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        let runner = fixture.runner()
        await #expect(throws: ExportJobError.self) {
            try await runner.enqueue(crawlJobID: fixture.job.id + 1000, format: .zip, options: .init())
        }
        await #expect(throws: ExportJobError.self) {
            try await runner.enqueue(crawlJobID: fixture.job.id, format: .zip, options: .init(nearDuplicateDistance: 65))
        }
        await #expect(throws: ExportJobError.self) {
            try await runner.enqueue(crawlJobID: fixture.job.id, format: .webdataset, options: .init(layout: .imagefolder))
        }
        #expect(try await fixture.store.exports(crawlJobID: fixture.job.id).isEmpty)
    }
}

extension Int {
    fileprivate var asInt64: Int64 { Int64(self) }
}
