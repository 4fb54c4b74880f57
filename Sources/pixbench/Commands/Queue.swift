import ArgumentParser
import Foundation
import PixCore
import PixStore
import Synchronization

extension PixBench {
    /// `pixbench queue`: chunk claim+complete operations per second through the store's real API, with N claimers
    /// at once (each its own task and pooled connection).
    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure chunk claim+complete operations/s.")

        @Option(name: .customLong("database-url"), help: "postgres://… or sqlite:PATH.")
        var databaseURL: String

        @Option(help: "Concurrent claimers.")
        var claimers = 8

        @Option(help: "Chunks to claim and complete.")
        var chunks = 2000

        func run() async throws {
            let bench = try await BenchStore.open(url: databaseURL, connections: claimers + 1)
            defer { bench.store.close() }
            let job = try await bench.makeJob(name: "queue-\(claimers)", chunks: chunks)
            let store = bench.store
            let completed = SharedCounter()
            let total = chunks
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for claimer in 0..<claimers {
                    group.addTask {
                        var misses = 0
                        while completed.value < total {
                            guard
                                let claim = try await store.claimChunk(
                                    workerID: "bench-claimer-\(claimer)", lease: .seconds(120), jobID: job.id)
                            else {
                                // Everything left may be locked by other claimers for a moment (SKIP LOCKED).
                                misses += 1
                                if misses > 200 { return }
                                try await Task.sleep(for: .milliseconds(1))
                                continue
                            }
                            misses = 0
                            guard
                                try await store.completeChunk(
                                    chunkID: claim.chunk.id, token: claim.leaseToken, finalProgress: nil)
                            else { throw BenchError("lost the lease of chunk \(claim.chunk.id)") }
                            completed.increment()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = seconds(since: start)
            let done = completed.value
            printJSON([
                "dialect": "\(store.dialect)", "claimers": claimers, "operations": done, "seconds": elapsed,
                "ops_per_s": Double(done) / max(elapsed, 1e-9),
            ])
        }
    }
}

/// A counter shared by tasks.
final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    var value: Int { atomic.load(ordering: .relaxed) }

    func increment() { atomic.add(1, ordering: .relaxed) }
}
