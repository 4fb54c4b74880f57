import Foundation
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import Testing

@Suite("Worker memory under adversarial input")
struct WorkerMemoryTests {
    /// Distinct progressive 4:4:4 JPEGs at the 50 MP pixel budget (7000×7000): a decoder keeps all their
    /// coefficients, 294 MB each, far over the 64 MiB decoder cap.
    static let bombs = 8
    /// Distinct progressive 4:4:4 JPEGs of 7.8 MP (2800×2800): 47 MB of coefficients each, under the cap.
    static let underTheCap = 4

    /// A progressive JPEG of `width`×`height` at 4:4:4, made by libjpeg's `cjpeg` from a gradient.
    static func progressiveJPEG(width: Int, height: Int, in directory: URL) throws -> [UInt8] {
        var row = [UInt8](repeating: 128, count: width * 3)
        for x in 0..<width {
            row[3 * x] = UInt8(x * 255 / width)
            row[3 * x + 2] = UInt8(255 - x * 255 / width)
        }
        var ppm = Array("P6 \(width) \(height) 255\n".utf8)
        ppm.reserveCapacity(ppm.count + row.count * height)
        for _ in 0..<height { ppm += row }
        let input = directory.appendingPathComponent("\(width)x\(height).ppm")
        let output = directory.appendingPathComponent("\(width)x\(height).jpg")
        try Data(ppm).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let made = try TestProcess.run(
            ["cjpeg", "-progressive", "-sample", "1x1", "-quality", "80", "-outfile", output.path, input.path])
        guard made.status == 0 else { throw TestSupportError("cjpeg failed (libjpeg-turbo-progs): \(made.stderr)") }
        return Array(try Data(contentsOf: output))
    }

    /// `jpeg` with a comment segment holding `tag` after its start of image: the same picture, a different file.
    static func tagged(_ jpeg: [UInt8], _ tag: String) -> [UInt8] {
        let text = Array(tag.utf8)
        return Array(jpeg[..<2]) + [0xFF, 0xFE, UInt8((text.count + 2) >> 8), UInt8((text.count + 2) & 0xFF)] + text
            + Array(jpeg[2...])
    }

    @Test(
        "a crawl of progressive JPEGs at the pixel budget, 2 validation threads: peak RSS under 200 MB, the bombs TOO_LARGE"
    )
    func progressiveJPEGsAtThePixelBudget() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixcrawl-memory-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Made on a thread of their own: writing the picture and waiting for cjpeg must not hold a pooled thread.
        let (bomb, large) = try await NativeThread.run(name: "test.jpegs") {
            (
                try Self.progressiveJPEG(width: 7000, height: 7000, in: root),
                try Self.progressiveJPEG(width: 2800, height: 2800, in: root)
            )
        }
        let server = try FixtureServer(routes: [])
        defer { server.stop() }
        server.route(.prefix("/bomb/")) { request in .bytes(Self.tagged(bomb, request.path), contentType: "image/jpeg") }
        server.route(.prefix("/large/")) { request in .bytes(Self.tagged(large, request.path), contentType: "image/jpeg") }
        let bombs = (0..<Self.bombs).map { server.url("/bomb/\($0).jpg") }
        let accepted = (0..<Self.underTheCap).map { server.url("/large/\($0).jpg") }
        let list = root.appendingPathComponent("list.txt")
        try ((bombs + accepted).joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        let database = root.appendingPathComponent("pixcrawl.sqlite").path

        // `pixcrawl crawl` validates on 2 threads. Its peak RSS is the kernel's, reported by GNU time (`%M`, KiB),
        // which forks it: a child spawned straight from this large test process would count our pages too, since
        // posix_spawn starts it in our address space.
        let peakFile = root.appendingPathComponent("peak-rss").path
        let crawl = try await TestProcess.runDetached(
            [
                "/usr/bin/time", "-f", "%M", "-o", peakFile, TestProcess.pixcrawlPath, "crawl", "bombs", "--max-images",
                "\(Self.bombs + Self.underTheCap)", "--source", "urls:\(list.path)", "--over-fetch", "1",
                "--allow-network", "127.0.0.1/32", "--storage-dir", root.appendingPathComponent("storage").path,
                "--poll", "100ms", "--database-url", "sqlite:\(database)", "--migrations-dir",
                WorkerProcess.repositoryRoot.appendingPathComponent("migrations").path,
            ])
        #expect(crawl.status == 6, "the bombs refused: completed short\n\(crawl.stdout)\(crawl.stderr)")
        // GNU time writes "Command exited with non-zero status 6" first, then the figure.
        let report = try String(contentsOfFile: peakFile, encoding: .utf8)
        let peakKiB = try #require(report.split(separator: "\n").last.flatMap { Int($0) }, "\(report)")
        #expect(peakKiB < 200 * 1024, "peak RSS \(peakKiB / 1024) MB")

        let store = try await SQLCrawlStore.open(.sqlite(path: database))
        defer { store.close() }
        let job = try #require(try await store.listJobs(projectID: nil, status: nil, limit: 1, offset: 0).first)
        let errors = try await store.errors(jobID: job.id, limit: 100)
        #expect(Set(errors.compactMap(\.url)) == Set(bombs), "only the bombs are refused")
        #expect(errors.allSatisfy { $0.category == .tooLarge }, "over the 64 MiB decoder cap: TOO_LARGE")
        let images = try await store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 100)
        #expect(Set(images.map(\.originalURL)) == Set(accepted), "under the cap: decoded and accepted")
    }
}
