import Foundation
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import Testing

/// `pixcrawl crawl` tells the job's outcome by its exit status: 0 only for a completed job that reached its
/// target; 4 failed, 5 cancelled, 6 completed short.
@Suite("crawl exit status", .serialized)
struct CrawlExitStatusTests {
    static func crawl(_ harness: CoordinatorHarness, _ arguments: [String], environment: [String: String] = [:])
        throws -> WorkerProcess
    {
        try WorkerProcess(
            ["crawl", "fox"] + arguments + [
                "--allow-network", "127.0.0.1/32", "--storage-dir", harness.blobRoot.path, "--poll", "100ms",
                "--retry-backoff", "10ms", "--json",
            ] + WorkerProcess.storeArguments(harness.store.database.location), environment: environment)
    }

    /// The list file of `urls`, in a temporary directory.
    static func list(_ urls: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixcrawl-exit-\(UUID().uuidString.prefix(8)).txt"
        ).path
        try (urls.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The JSON report's `status` and `exit_status`.
    static func report(_ output: String) -> (status: String?, exitStatus: Int?) {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { return (nil, nil) }
        return (object["status"] as? String, object["exit_status"] as? Int)
    }

    @Test("completed with the target reached: exit 0")
    func completed() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let path = try Self.list((0..<4).map { harness.image($0) })
            defer { unlink(path) }
            let crawl = try Self.crawl(harness, ["--max-images", "4", "--source", "urls:\(path)", "--over-fetch", "1"])
            #expect(try await crawl.wait(timeout: .seconds(120)) == 0, "\(crawl.output)")
            #expect(Self.report(crawl.output).status == "completed")
        }
    }

    @Test("completed short of the target (the list ran out): exit 6")
    func completedShort() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let path = try Self.list((0..<2).map { harness.image($0) } + [harness.server.url("/bad/truncated.jpg")])
            defer { unlink(path) }
            let crawl = try Self.crawl(harness, ["--max-images", "5", "--source", "urls:\(path)"])
            #expect(try await crawl.wait(timeout: .seconds(120)) == 6, "\(crawl.output)")
            #expect(Self.report(crawl.output).status == "completed")
            #expect(Self.report(crawl.output).exitStatus == 6)
        }
    }

    @Test("failed (the source is unreachable): exit 4")
    func failed() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let port = try TestPostgres.freePort()
            let crawl = try Self.crawl(
                harness, ["--max-images", "3", "--source", "openverse"],
                environment: [
                    "PIXCRAWL_OPENVERSE_URL": "http://127.0.0.1:\(port)", "PIXCRAWL_CONTACT": "ops@example.org",
                ])
            #expect(try await crawl.wait(timeout: .seconds(120)) == 4, "\(crawl.output)")
            #expect(Self.report(crawl.output).status == "failed")
        }
    }

    @Test("cancelled while it runs: exit 5")
    func cancelled() async throws {
        try await CoordinatorHarness.with(.sqlite) { harness in
            let path = try Self.list((0..<40).map { harness.server.url("/slow/\($0).jpg?w=64&h=64&ms=200") })
            defer { unlink(path) }
            let crawl = try Self.crawl(
                harness, ["--max-images", "40", "--source", "urls:\(path)", "--concurrency", "1", "--workers", "1"])
            var jobID: Int64 = 0
            try await eventually("the job runs", timeout: .seconds(60)) {
                guard let job = try await harness.store.listJobs(projectID: nil, status: nil, limit: 1, offset: 0).first
                else { return false }
                jobID = job.id
                return job.counters.activeChunks > 0
            }
            let cancel = try WorkerProcess(
                ["job", "cancel", "\(jobID)"] + WorkerProcess.storeArguments(harness.store.database.location))
            #expect(try await cancel.wait() == 0, "\(cancel.output)")
            #expect(try await crawl.wait(timeout: .seconds(120)) == 5, "\(crawl.output)")
            #expect(Self.report(crawl.output).status == "cancelled")
        }
    }
}
