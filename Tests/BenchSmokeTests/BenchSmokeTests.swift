import Foundation
import PixTestSupport
import Testing

/// `bench/run --smoke` end to end on a 50-image corpus with the binaries this test run built: every PixCrawler
/// path (SQLite and PostgreSQL crawls, pixbench decode/queue/inserts, exports, RSS, worker processes) runs and
/// the JSON report holds a positive figure for each. No timing is asserted.
@Suite("bench/run smoke")
struct BenchSmokeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let expectedMedians = [
        "server_ceiling_images_per_s", "pixcrawl_default_sqlite", "pixcrawl_header_sqlite", "pixcrawl_pixels_sqlite",
        "pixcrawl_default_postgres", "decode_ours_entropy", "decode_ours_full", "queue_sqlite_1", "queue_sqlite_8",
        "queue_sqlite_32", "queue_postgres_1", "queue_postgres_8", "queue_postgres_32", "inserts_sqlite",
        "inserts_postgres", "export_zip_mb_s", "export_tar_mb_s", "export_webdataset_mb_s", "tar_cf_mb_s",
        "worker_rss_mb", "export_rss_mb", "workers_1_postgres", "workers_2_postgres", "lists_rows_per_s",
        "lists_rows_per_cpu_s", "lists_rss_mb", "lists_sha256sum_rows_per_s", "pixcrawl_crawl_resize_256",
        "export_resized_images_per_s",
    ]

    @Test("bench/run --images 50 --smoke writes a complete JSON report")
    func smokeRun() throws {
        let binaries = URL(fileURLWithPath: TestProcess.pixcrawlPath).deletingLastPathComponent()
        let pixbench = binaries.appendingPathComponent("pixbench").path
        #expect(FileManager.default.isExecutableFile(atPath: pixbench), "pixbench is built next to pixcrawl")
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("pixcrawl-bench-smoke-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try TestProcess.run(
            [
                "bash", "bench/run", "--images", "50", "--smoke", "--bin-dir", binaries.path, "--output",
                output.path,
            ],
            directory: Self.repository.path)
        #expect(result.status == 0, "bench/run failed: \(result.stderr.suffix(3000))")
        guard result.status == 0 else { return }
        #expect(result.stdout.contains("| ratio | wall-clock | status | CPU-time | status | target |"))

        let data = try Data(contentsOf: output)
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in [
            "date", "command", "machine", "config", "corpus", "medians", "samples", "ratios", "cpu_ratios", "targets",
        ] {
            #expect(report[key] != nil, "report has \(key)")
        }
        let machine = try #require(report["machine"] as? [String: Any])
        #expect((machine["cores"] as? Int ?? 0) > 0)
        let corpus = try #require(report["corpus"] as? [String: Any])
        #expect(corpus["count"] as? Int == 50)
        let medians = try #require(report["medians"] as? [String: Any])
        for key in Self.expectedMedians {
            let value = medians[key] as? Double ?? 0
            #expect(value > 0, "median \(key) is positive")
        }
        let targets = try #require(report["targets"] as? [String: Any])
        for key in ["default_vs_img2dataset", "pixels_vs_our_full_decode", "worker_rss_mb", "export_zip_vs_tar"] {
            #expect(targets[key] != nil, "target \(key) is reported")
        }
    }
}
