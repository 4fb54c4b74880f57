import Foundation
import PixCoordinate
import PixCore
import PixStore
import PixTestSupport
import Testing

@Suite("Waking idle workers")
struct WakeUpTests {
    /// Runs one idle worker (no job filter), submits a job through `submitHints`, waits for it to complete.
    static func crawlWhileIdle(
        _ harness: CoordinatorHarness, poll: Duration, submitHints: ChunkHints
    ) async throws
        -> CrawlJob
    {
        let spec = harness.sources.add("wake") { _, position in position < 10 ? harness.image(position) : nil }
        let worker = harness.worker("idle", poll: poll, untilJobFinished: false)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await eventually("the worker registers") {
                try await harness.store.listWorkers().contains { $0.id == worker.configuration.id }
            }
            let job = try await harness.submit(
                keywords: ["fox"], maxImages: 10, sources: [spec], chunkSize: 5, hints: submitHints)
            do {
                try await eventually("the job completes", timeout: .seconds(30)) {
                    try await harness.store.job(id: job.id)?.status == .completed
                }
            } catch {
                worker.stop()
                throw error
            }
            worker.stop()
            try await group.waitForAll()
            return job
        }
    }

    @Test("with notifications off, a job still completes at the polling rate", arguments: Backend.allCases)
    func pollingOnly(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend, notify: false) { harness in
            try harness.runtime.hints.startListening()
            #expect(!harness.runtime.hints.isListening, "--no-notify opens no LISTEN connection")
            // The submitter is another process: its hints do not reach this worker.
            let elsewhere = ChunkHints(store: harness.store, notify: false, logger: CoordinatorHarness.logger)
            let job = try await Self.crawlWhileIdle(harness, poll: .milliseconds(300), submitHints: elsewhere)
            #expect(try await harness.store.job(id: job.id)?.counters.validImages == 10)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("on PostgreSQL, NOTIFY wakes a worker whose poll interval is an hour")
    func notifyWakes() async throws {
        try await CoordinatorHarness.with(.postgres, notify: true) { harness in
            try harness.runtime.hints.startListening()
            #expect(harness.runtime.hints.isListening)
            let elsewhere = ChunkHints(store: harness.store, notify: true, logger: CoordinatorHarness.logger)
            let job = try await Self.crawlWhileIdle(harness, poll: .seconds(3600), submitHints: elsewhere)
            #expect(try await harness.store.job(id: job.id)?.counters.validImages == 10)
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }

    @Test("a wake-up signal is never lost between checking for work and waiting")
    func signalNotLost() async {
        let signal = WakeSignal()
        let generation = signal.generation
        signal.signal()
        // The signal came after the generation was read: the wait returns at once, not after an hour.
        await signal.wait(since: generation, timeout: .seconds(3600))
        #expect(signal.generation != generation)
    }
}

@Suite("Worker liveness")
struct WorkerLivenessTests {
    static func worker(_ status: WorkerStatus, heartbeatSecondsAgo: Double, now: Date) -> WorkerRecord {
        WorkerRecord(
            id: "w", hostname: "h", pid: 1, version: "0", status: status, currentChunkID: nil,
            startedAt: now.addingTimeInterval(-1000), heartbeatAt: now.addingTimeInterval(-heartbeatSecondsAgo))
    }

    @Test("a worker silent for more than three leases is lost; a stopped one never is")
    func lost() {
        let now = Date()
        #expect(
            WorkerLiveness(Self.worker(.running, heartbeatSecondsAgo: 179, now: now), lease: .seconds(60), now: now)
                == .running)
        #expect(
            WorkerLiveness(Self.worker(.running, heartbeatSecondsAgo: 181, now: now), lease: .seconds(60), now: now)
                == .lost)
        #expect(
            WorkerLiveness(Self.worker(.stopping, heartbeatSecondsAgo: 400, now: now), lease: .seconds(60), now: now)
                == .lost)
        #expect(
            WorkerLiveness(Self.worker(.stopped, heartbeatSecondsAgo: 9999, now: now), lease: .seconds(60), now: now)
                == .stopped)
        #expect(
            WorkerLiveness(Self.worker(.stopping, heartbeatSecondsAgo: 1, now: now), lease: .seconds(60), now: now)
                == .stopping)
    }
}
