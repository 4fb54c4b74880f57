import Foundation
import PixBlob
import PixCore
import PixDemo
import PixExport
import PixFixtures
import PixStore
import PixTestSupport
import Testing

@Suite("Resized exports")
struct ResizedExportTests {
    static let specs: [ImageSpec] = [
        ImageSpec(seed: 31, width: 640, height: 480),
        ImageSpec(seed: 32, width: 300, height: 500, format: .png),
        ImageSpec(
            seed: 33, width: 400, height: 300, format: .webp, bytes: FixtureImages.webp(seed: 33, width: 400, height: 300)),
        ImageSpec(seed: 34, width: 256, height: 256),
    ]

    @Test(
        "a center_crop WebDataset export holds N×N JPEGs whose json names original and output size and sha256",
        arguments: Backend.allCases)
    func webDataset(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages(Self.specs)
        var options = ExportOptions(shardSize: 3)
        options.resize = ResizeOptions(size: 128, mode: .centerCrop)
        let outcome = try await fixture.export(.webdataset, options)
        let listing = try WebDatasetListing.read(outcome.archive)

        #expect(outcome.exportedImages == images.count)
        #expect(listing.samples.count == images.count)
        let byID = Dictionary(uniqueKeysWithValues: images.map { ($0.id, $0) })
        for sample in listing.samples {
            let id = try #require(sample.json["image_id"]?.int)
            let image = try #require(byID[Int64(id)])
            #expect(Set(sample.sha256.keys) == ["jpg", "json", "txt"])
            #expect(sample.json["output_width"]?.int == 128)
            #expect(sample.json["output_height"]?.int == 128)
            #expect(sample.json["original_width"]?.int == image.width)
            #expect(sample.json["original_height"]?.int == image.height)
            #expect(sample.json["output_sha256"]?.string == sample.sha256["jpg"], "json names the output's sha256")
            #expect(sample.json["sha256"]?.string == image.sha256, "and keeps the original's")
        }
    }

    @Test("an image that cannot be re-encoded is left out and counted, never a half-written archive")
    func leftOut() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        let broken = Array(FixtureImages.png(seed: 35, width: 300, height: 200).prefix(300))
        let images = try await fixture.addImages(
            Self.specs + [ImageSpec(seed: 35, width: 300, height: 200, format: .png, bytes: broken)])
        var options = ExportOptions()
        options.resize = ResizeOptions(size: 64, mode: .keepRatioLargest, encoding: .png)
        let outcome = try await fixture.export(.zip, options)
        let listing = try ArchiveReader.read(outcome.archive)

        #expect(outcome.exportedImages == images.count - 1)
        #expect(outcome.skippedImages == 1)
        #expect(listing.csvRows.count == images.count - 1)
        for row in listing.csvRows {
            let entry = try #require(listing.entry(row["path"] ?? ""))
            #expect(row["path"]?.hasSuffix(".png") == true)
            #expect(entry.sha256 == row["output_sha256"])
            #expect(String(entry.size) == row["output_bytes"])
            #expect(max(Int(row["output_width"] ?? "") ?? 0, Int(row["output_height"] ?? "") ?? 0) == 64)
        }
        let stored = try #require(try await fixture.store.export(id: outcome.export.id))
        #expect(stored.exportedImages == images.count - 1)
    }

    @Test(
        "a job resized at crawl time exports, sample for sample, what an export-time resize of its images gives",
        arguments: Backend.allCases, [ExportFormat.webdataset, .zip])
    func storedDerivatives(backend: Backend, format: ExportFormat) async throws {
        let spec = ResizeOptions(size: 96, mode: .centerCrop, encoding: .jpeg, quality: 95)
        let crawled = try await ExportJobFixture(backend, resize: spec)
        let plain = try await ExportJobFixture(backend)
        try await crawled.addImages(Self.specs)
        try await plain.addImages(Self.specs)
        var options = ExportOptions(shardSize: 3)
        options.resize = spec
        let fromDerivatives = try await crawled.export(format, options)
        let fromOriginals = try await plain.export(format, options)

        #expect(fromDerivatives.exportedImages == Self.specs.count)
        if format == .webdataset {
            let derived = try WebDatasetListing.read(fromDerivatives.archive).samples
            let resized = try WebDatasetListing.read(fromOriginals.archive).samples
            #expect(derived.map(\.sha256) == resized.map(\.sha256), "the same image bytes and the same json")
            #expect(derived.map(\.json) == resized.map(\.json))
        } else {
            let derived = try ArchiveReader.read(fromDerivatives.archive)
            let resized = try ArchiveReader.read(fromOriginals.archive)
            #expect(derived.entries.map(\.sha256) == resized.entries.map(\.sha256))
            #expect(derived.jsonlRows == resized.jsonlRows)
            #expect(derived.csvRows == resized.csvRows)
        }
    }

    @Test("a stored copy that a crash lost or damaged is made again from the original: the same archive")
    func damagedDerivatives() async throws {
        let spec = ResizeOptions(size: 64, mode: .keepRatio, encoding: .png)
        let fixture = try await ExportJobFixture(.sqlite, resize: spec)
        let images = try await fixture.addImages(Self.specs)
        var options = ExportOptions()
        options.resize = spec
        let intact = try ArchiveReader.read(try await fixture.export(.tar, options).archive)
        let copies = try images.map { image in
            try BlobKey(sha256: try #require(image.derivative).sha256, format: spec.encoding.format)
        }
        #expect(copies.count >= 2)
        // One copy holds other bytes of its size (renamed into place before its data reached the disk), one is gone.
        let damaged = fixture.blobs.fileURL(for: copies[0])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: damaged.path)[.size] as? Int)
        try Data(repeating: 0x55, count: size).write(to: damaged)
        #expect(try fixture.blobs.delete(copies[1]))

        let outcome = try await fixture.export(.tar, options)
        #expect(outcome.exportedImages == images.count && outcome.skippedImages == 0)
        let again = try ArchiveReader.read(outcome.archive)
        #expect(again.entries.map(\.sha256) == intact.entries.map(\.sha256))
        #expect(again.csvRows == intact.csvRows)
    }

    @Test("the export whose options match the job's spec reads no original: it decodes nothing")
    func storedDerivativesNeedNoOriginal() async throws {
        let spec = ResizeOptions(size: 64, mode: .keepRatio, encoding: .png)
        let fixture = try await ExportJobFixture(.sqlite, resize: spec)
        let images = try await fixture.addImages(Self.specs)
        for image in images {
            #expect(try fixture.blobs.delete(try BlobKey(sha256: image.sha256, format: image.format)))
        }
        var options = ExportOptions()
        options.resize = spec
        let outcome = try await fixture.export(.tar, options)
        #expect(outcome.exportedImages == images.count && outcome.skippedImages == 0)
        let rows = try ArchiveReader.read(outcome.archive).csvRows
        #expect(rows.map { $0["output_sha256"] } == images.map { $0.derivative?.sha256 })

        // Other options resize the originals, as before: here they are gone.
        options.resize?.size = 32
        await #expect(throws: ExportJobError.self) { try await fixture.export(.tar, options) }
    }
}
