import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import PixValidate
import Testing

@Suite("Resizing at crawl time")
struct CrawlTimeResizeTests {
    static let spec = ResizeOptions(size: 48, mode: .centerCrop, encoding: .jpeg, quality: 90)

    /// Crawls `urls` with `spec` at `depth` and returns the job.
    static func crawl(
        _ harness: CoordinatorHarness, _ urls: [String], depth: ValidationDepth = .full, resize: ResizeOptions? = spec
    ) async throws -> CrawlJob {
        let source = harness.sources.add("resize", maxDepth: urls.count) { _, position in
            position < urls.count ? urls[position] : nil
        }
        var rules = ValidationRules()
        rules.depth = depth
        let job = try await harness.submit(
            keywords: ["fox"], maxImages: urls.count, sources: [source], chunkSize: 10, rules: rules, resize: resize)
        try await harness.run([harness.worker("a", jobID: job.id)])
        return try #require(try await harness.store.job(id: job.id))
    }

    @Test(
        "each accepted image's derivative is stored before its row, and equals a resize of the stored original",
        arguments: Backend.allCases, [ValidationDepth.full, .pixels, .header])
    func derivativesStored(backend: Backend, depth: ValidationDepth) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let urls = (1...6).map { harness.server.url("/img/\($0).jpg?w=\(80 + $0)&h=64") }
            let job = try await Self.crawl(harness, urls, depth: depth)
            #expect(job.resize == Self.spec)
            #expect(job.counters.validImages == 6)
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 100)
            let blobs = LocalBlobStore(root: harness.blobRoot)
            for image in images {
                let derivative = try #require(image.derivative)
                let original = try blobs.get(try BlobKey(sha256: image.sha256, format: image.format))
                let expected = try ImageResizer.resize(
                    original, format: image.format, options: Self.spec, validating: depth == .full)
                let stored = try blobs.get(try BlobKey(sha256: derivative.sha256, format: .jpeg))
                #expect(stored == expected.bytes)
                #expect(
                    derivative
                        == ImageDerivative(
                            sha256: expected.sha256, byteCount: expected.bytes.count, width: 48, height: 48,
                            originalWidth: image.width, originalHeight: 64))
                #expect((image.perceptualHash != nil) == (depth != .header))
            }
        }
    }

    @Test("a job without a resize spec stores no derivative", arguments: Backend.allCases)
    func noSpecNoDerivative(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let job = try await Self.crawl(harness, [harness.image(1), harness.image(2)], resize: nil)
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
            #expect(images.count == 2 && images.allSatisfy { $0.derivative == nil })
        }
    }

    @Test("a truncated JPEG in a resize job is rejected as DECODE, with the decoder's reason", arguments: Backend.allCases)
    func truncatedJPEG(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let job = try await Self.crawl(harness, [harness.server.url("/bad/truncated.jpg"), harness.image(3)])
            #expect(job.counters.validImages == 1)
            let errors = try await harness.store.errors(jobID: job.id, limit: 10)
            #expect(errors.map(\.category) == [.decode])
            #expect(errors.first?.message.contains("premature end") == true)
        }
    }

    @Test("fsck --repair counts derivatives as referenced: it deletes none of them", arguments: Backend.allCases)
    func fsckKeepsDerivatives(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let job = try await Self.crawl(harness, (1...4).map { harness.image($0, size: 72) })
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
            let blobs = LocalBlobStore(root: harness.blobRoot)
            let report = try await StorageCheck(store: harness.store, blobs: blobs, grace: .zero).run(repair: true)
            #expect(report.blobsScanned == 8, "four originals and four derivatives")
            #expect(report.isClean && report.orphansDeleted == 0)
            for image in images {
                let derivative = try #require(image.derivative)
                #expect(try blobs.exists(try BlobKey(sha256: derivative.sha256, format: .jpeg)))
            }
        }
    }

    @Test("fsck reports a row whose derivative is gone, and repair forgets the derivative", arguments: Backend.allCases)
    func fsckMissingDerivative(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let job = try await Self.crawl(harness, (1...3).map { harness.image($0, size: 72) })
            let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
            let lost = try #require(images.first)
            let blobs = LocalBlobStore(root: harness.blobRoot)
            #expect(try blobs.delete(try BlobKey(sha256: try #require(lost.derivative).sha256, format: .jpeg)))
            let check = StorageCheck(store: harness.store, blobs: blobs, grace: .zero)
            let report = try await check.run(repair: false)
            #expect(report.missingDerivatives == 1 && report.missingCount == 0 && !report.isClean)
            let repaired = try await check.run(repair: true)
            #expect(repaired.derivativesCleared == 1)
            #expect(try await harness.store.image(id: lost.id)?.derivative == nil)
            #expect(try await harness.store.image(id: lost.id)?.isValid == true, "the image itself stays")
            #expect(try await check.run(repair: false).isClean)
        }
    }
}
