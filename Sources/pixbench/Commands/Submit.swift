import ArgumentParser
import Foundation
import Logging
import PixCoordinate
import PixCore
import PixFetch
import PixSources
import PixStore

extension PixBench {
    /// `pixbench submit`: plans and submits a crawl job without running it, so separate `pixcrawl worker`
    /// processes can share it (the multi-process scale figures).
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a crawl job for pixcrawl worker processes.")

        @Option(name: .customLong("database-url"), help: "postgres://… or sqlite:PATH.")
        var databaseURL: String

        @Option(help: "Source specification, e.g. urls:FILE.")
        var source: String

        @Option(help: "Keyword.")
        var keyword = "bench"

        @Option(name: .customLong("max-images"), help: "Valid images wanted.")
        var maxImages: Int

        @Option(name: .customLong("chunk-size"), help: "Result positions per chunk.")
        var chunkSize = 50

        @Option(help: "Validation depth: header, full or pixels.")
        var validate = "full"

        func run() async throws {
            guard let depth = ValidationDepth(rawValue: validate) else {
                throw BenchError("--validate must be header, full or pixels")
            }
            let bench = try await BenchStore.open(url: databaseURL, connections: 2)
            defer { bench.store.close() }
            let logger = Logger(label: "pixbench")
            let downloader = try Downloader(logger: logger)
            let registry = SourceRegistry(downloader: downloader, logger: logger)
            let planner = JobPlanner(sources: SourceResolver { spec in try registry.source(for: spec) })
            let submitted = try await planner.submit(
                JobSubmission(
                    projectID: bench.project.id, name: "bench", keywords: [keyword], maxImages: maxImages,
                    sources: [source], rules: ValidationRules(depth: depth), chunkSize: chunkSize),
                to: bench.store, actor: bench.owner.id)
            await downloader.shutdown()
            printJSON(["job": submitted.job.id, "chunks": submitted.plan.chunks.count])
        }
    }
}
