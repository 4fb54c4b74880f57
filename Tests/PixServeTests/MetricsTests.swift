import Foundation
import PixCore
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("Prometheus metrics")
struct MetricsTests {
    /// Parses the text format into `name{labels}` → value.
    static func parse(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test("a scrape after a crawl has sane values for jobs, chunks, images and requests", arguments: Backend.allCases)
    func scrape(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let running = try await server.submitJob(as: alice, projectID: projectID, maxImages: 20)
            let cancelled = try await server.submitJob(as: alice, projectID: projectID, maxImages: 2)
            _ = try await server.post("/v1/jobs/\(cancelled)/cancel", as: alice)
            let claimed = try #require(try await server.store.claimChunk(workerID: "w", lease: .seconds(60), jobID: running))
            _ = try await server.store.commitProgress(
                chunkID: claimed.chunk.id, token: claimed.leaseToken, lease: .seconds(60),
                progress: ChunkProgress(
                    errors: [
                        NewErrorLog(jobID: running, category: .decode, message: "bad"),
                        NewErrorLog(jobID: running, category: .tooLarge, message: "big"),
                        NewErrorLog(jobID: running, category: .tooLarge, message: "big"),
                    ], downloaded: 3, checkpoint: ChunkCheckpoint(candidatesDone: 3)))
            try await server.insertImages(jobID: running, count: 4)
            try await server.store.registerWorker(id: "w", hostname: "h", pid: 1, version: "t")

            let response = try await server.client.get("/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
            let samples = Self.parse(response.text)
            #expect(samples["pixcrawl_jobs{status=\"running\"}"] == 1)
            #expect(samples["pixcrawl_jobs{status=\"cancelled\"}"] == 1)
            #expect(samples["pixcrawl_jobs{status=\"completed\"}"] == 0)
            // 20 images: 6 chunks; 2 images: 2 chunks (1 per... one keyword pair, cancelled).
            let running6 = try #require(try await server.store.job(id: running))
            let cancelled2 = try #require(try await server.store.job(id: cancelled))
            #expect(samples["pixcrawl_chunks{status=\"active\"}"] == 1)
            #expect(samples["pixcrawl_chunks{status=\"pending\"}"] == Double(running6.counters.totalChunks - 1))
            #expect(samples["pixcrawl_chunks{status=\"cancelled\"}"] == Double(cancelled2.counters.totalChunks))
            #expect(samples["pixcrawl_queue_depth"] == Double(running6.counters.totalChunks - 1))
            #expect(samples["pixcrawl_images_accepted"] == 4)
            #expect(samples["pixcrawl_images_rejected{category=\"TOO_LARGE\"}"] == 2)
            #expect(samples["pixcrawl_images_rejected{category=\"DECODE\"}"] == 1)
            #expect(samples["pixcrawl_images_rejected{category=\"NETWORK\"}"] == 0)
            #expect(samples["pixcrawl_workers_live"] == 1)
            let requests = samples.filter { $0.key.hasPrefix("hb_requests{") }
            #expect(requests.values.reduce(0, +) >= 5, "HTTP requests are counted")
            #expect(requests.keys.contains { $0.contains("http_route=\"/v1/jobs\"") })
        }
    }
}
