import Crypto
import Foundation
import PixBlob
import PixCore
import PixStore
import PixTestSupport
import Testing

/// A resized export keeps its promise of a peak RSS under 200 MB for any image under the pixel budget (50 MP): the
/// `pixcrawl export` process's peak RSS (VmHWM, as GNU time reports it), exporting one image near the budget in each
/// format whose decoder would otherwise hold the whole frame.
@Suite("Resized export memory")
struct ExportMemoryTests {
    static let limit = 200_000_000

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var format: ImageFormat
        var width: Int
        var height: Int
        /// Whether the image is in the archive (otherwise left out and counted).
        var exported: Bool
        var bytes: @Sendable () -> [UInt8]
    }

    static let cases = [
        // 49 MP, Adam7: decoded once per 64 MiB band of rows instead of as one 196 MB frame.
        Case(
            description: "interlaced PNG 7000×7000", format: .png, width: 7000, height: 7000, exported: true,
            bytes: { SyntheticImages.stripes(width: 7000, height: 7000, interlaced: true) }),
        // 49 MP lossless: libwebp would keep a 196 MB ARGB frame, so it is refused before decoding.
        Case(
            description: "lossless WebP 7000×7000", format: .webp, width: 7000, height: 7000, exported: false,
            bytes: { SyntheticImages.solidLosslessWebP(width: 7000, height: 7000) }),
        // The largest lossless frame within the 64 MiB decoder cap is exported.
        Case(
            description: "lossless WebP 4096×4096", format: .webp, width: 4096, height: 4096, exported: true,
            bytes: { SyntheticImages.solidLosslessWebP(width: 4096, height: 4096) }),
    ]

    @Test("a center_crop 256 export of one image near the pixel budget peaks under 200 MB", arguments: cases)
    func peakResidentSet(_ image: Case) async throws {
        let directory = try CLITests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = directory + "/store.sqlite"
        let storage = URL(fileURLWithPath: directory + "/storage")
        let jobID = try await Self.storeJob(with: image, database: database, storage: storage)
        // GNU time forks (rather than spawning with a shared address space, as posix_spawn does, which would
        // charge this test process's own peak to the child) and reports the export's peak RSS in KiB.
        let peakFile = directory + "/peak-rss"
        let output = try await TestProcess.runDetached(
            [
                "/usr/bin/time", "-f", "%M", "-o", peakFile, TestProcess.pixcrawlPath, "export", "\(jobID)", "--format",
                "tar", "--resize", "256", "--resize-mode", "center_crop", "--encode", "jpeg",
            ],
            environment: ["PIXCRAWL_DATABASE_URL": "sqlite:\(database)", "PIXCRAWL_STORAGE_URL": storage.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains(image.exported ? "completed: 1 images" : "left out: 1 images"), "\(output.stdout)")
        let kibibytes = try String(contentsOfFile: peakFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let peak = try #require(Int(kibibytes)) * 1024
        #expect(peak > 0)
        #expect(peak < Self.limit, "peak RSS \(peak / 1_000_000) MB exporting the \(image)")
    }

    /// A migrated SQLite store with one job holding `image`, its file in `storage`; returns the job's id.
    static func storeJob(with image: Case, database: String, storage: URL) async throws -> Int64 {
        let store = try await TestStores.make(at: .sqlite(path: database))
        defer { store.close() }
        let bytes = image.bytes()
        let sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let stored = try LocalBlobStore(root: storage).put(bytes, for: try BlobKey(sha256: sha256, format: image.format))
        let profile = try await store.createProfile(NewProfile(email: "memory@example.com"))
        let project = try await store.createProject(NewProject(name: "Large", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "large", keywords: ["large"], maxImages: 10, sources: ["demo"]),
            chunks: [])
        _ = try await store.insertImages(
            jobID: job.id,
            images: [
                NewImage(
                    originalURL: "http://127.0.0.1/large.\(image.format.fileExtension)",
                    filename: "large.\(image.format.fileExtension)", storageURL: stored.storageURL, width: image.width,
                    height: image.height, fileSize: bytes.count, format: image.format, sha256: sha256, perceptualHash: 1,
                    keyword: "large", source: "demo")
            ])
        return job.id
    }
}
