import ArgumentParser
import Foundation
import PixCore
import PixStore

extension PixBench {
    /// `pixbench inserts`: image rows inserted per second in batches (one transaction per batch, counters
    /// updated in it), through the store's real `insertImages`.
    struct Inserts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure batched image-row inserts/s.")

        @Option(name: .customLong("database-url"), help: "postgres://… or sqlite:PATH.")
        var databaseURL: String

        @Option(help: "Rows to insert.")
        var rows = 20_000

        @Option(help: "Rows per batch (one transaction each).")
        var batch = 500

        func run() async throws {
            let bench = try await BenchStore.open(url: databaseURL, connections: 2)
            defer { bench.store.close() }
            let job = try await bench.makeJob(name: "inserts", chunks: 1)
            let batchSize = max(1, batch)
            var inserted = 0
            let start = ContinuousClock.now
            var position = 0
            while position < rows {
                let end = min(rows, position + batchSize)
                let images = (position..<end).map { index in
                    let hex = String(format: "%064x", index)
                    return NewImage(
                        originalURL: "http://127.0.0.1/bench/\(index).jpg", filename: "\(hex).jpg",
                        storageURL: "images/\(hex.prefix(2))/\(hex).jpg", width: 640, height: 480, fileSize: 200_000,
                        format: .jpeg, sha256: hex, perceptualHash: UInt64(index), keyword: "bench", source: "urls")
                }
                inserted += try await bench.store.insertImages(jobID: job.id, images: images)
                position = end
            }
            let elapsed = seconds(since: start)
            printJSON([
                "dialect": "\(bench.store.dialect)", "rows": inserted, "batch": batchSize, "seconds": elapsed,
                "rows_per_s": Double(inserted) / max(elapsed, 1e-9),
            ])
        }
    }
}
