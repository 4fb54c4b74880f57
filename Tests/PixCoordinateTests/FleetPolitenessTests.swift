import Foundation
import PixCoordinate
import PixCore
import PixFixtures
import PixStore
import PixTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Per-host limits that hold across worker processes: four `pixcrawl worker` processes on one PostgreSQL job
/// whose candidates all live on one fixture host. The host records what it saw (peak concurrency, byte rate,
/// arrival times); nothing is timed on the crawler's side.
@Suite("Fleet politeness", .serialized)
struct FleetPolitenessTests {
    static func workers(
        _ harness: CoordinatorHarness, jobID: Int64, limits: String
    ) throws -> [WorkerProcess] {
        try (0..<4).map { index in
            try WorkerProcess(
                ["worker"] + WorkerProcess.storeArguments(harness.store.database.location) + [
                    "--allow-network", "127.0.0.1/32", "--storage-dir", harness.blobRoot.path, "--job", "\(jobID)",
                    "--id", "fleet-\(index)", "--concurrency", "4", "--poll", "100ms", "--no-notify", "--no-exports",
                ], environment: ["PIXCRAWL_HOST_LIMITS": limits])
        }
    }

    static func finish(_ harness: CoordinatorHarness, _ jobID: Int64, _ workers: [WorkerProcess]) async throws
        -> CrawlJob
    {
        try await eventually("the job finishes", timeout: .seconds(120)) {
            (try? await harness.store.job(id: jobID))?.status.isFinished == true
        }
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { #expect(try await worker.wait() == 0, "\(worker.output)") }
        return try #require(try await harness.store.job(id: jobID))
    }

    @Test("four workers keep one host at 2 connections and its byte cap, and the job completes")
    func connectionsAndBandwidth() async throws {
        try await CoordinatorHarness.with(.postgres) { harness in
            let host = HostLoadRecorder()
            harness.server.addRoute(host.route)
            let urls = (0..<48).map { harness.server.url("/host/\($0).jpg?w=160&h=160") }
            let spec = try harness.sources.addURLList(urls)
            let job = try await harness.submit(keywords: ["fox"], maxImages: 48, sources: [spec], chunkSize: 6)
            let cap = 40_000.0
            let workers = try Self.workers(harness, jobID: job.id, limits: "127.0.0.1=2:40k")
            let final = try await Self.finish(harness, job.id, workers)
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 48)
            #expect(host.peakConcurrency <= 2)
            #expect(host.peakConcurrency == 2, "the limit is used, not undercut")
            let rate = try #require(host.byteRate)
            #expect(rate <= cap * 1.1, "\(Int(rate)) B/s against a cap of \(Int(cap)) B/s")
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a host answering 429 with Retry-After: 5 gets no request from any worker for 5 s")
    func retryAfterPausesTheFleet() async throws {
        try await CoordinatorHarness.with(.postgres) { harness in
            let host = HostLoadRecorder()
            harness.server.addRoute(host.route)
            host.respondTooManyRequests(times: 1, retryAfter: 5)
            let urls = (0..<16).map { harness.server.url("/host/\($0).jpg?w=64&h=64") }
            let spec = try harness.sources.addURLList(urls)
            let job = try await harness.submit(keywords: ["fox"], maxImages: 16, sources: [spec], chunkSize: 4)
            let workers = try Self.workers(harness, jobID: job.id, limits: "127.0.0.1=1")
            let final = try await Self.finish(harness, job.id, workers)
            #expect(final.status == .completed)
            #expect(final.counters.validImages == 16)
            let visits = host.visits
            let throttled = try #require(visits.first { $0.status == 429 })
            let next = try #require(visits.first { $0.start > throttled.end })
            #expect(throttled.end.duration(to: next.start) >= .seconds(5))
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }
}
