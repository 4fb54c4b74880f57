import Foundation
import Logging
import Metrics
import PixServe
import ServiceLifecycle
import Testing

@Suite("Metrics endpoint for other processes")
struct MetricsEndpointTests {
    @Test("swift-metrics counters recorded anywhere in the process appear on the endpoint, with Prometheus names")
    func workerEndpoint() async throws {
        var logger = Logger(label: "pixcrawl.worker.test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = MetricsEndpoint.application(port: 0, logger: logger) { continuation.yield($0) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            Counter(label: "pixcrawl.test.chunks.claimed", dimensions: [("pixcrawl.source", "demo")]).increment(by: 3)
            let scrape = try await HTTPTestClient(port: port).get("/metrics")
            #expect(scrape.status == 200)
            let samples = MetricsTests.parse(scrape.text)
            #expect(samples["pixcrawl_test_chunks_claimed{pixcrawl_source=\"demo\"}"] == 3)
            #expect(try await HTTPTestClient(port: port).get("/healthz").status == 200)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
