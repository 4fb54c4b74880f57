import ArgumentParser
import PixCore
import PixStore

extension PixBench {
    /// `pixbench count`: a job's status and valid image count, for checking a multi-process run.
    struct Count: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job's status and valid image count.")

        @Option(name: .customLong("database-url"), help: "postgres://… or sqlite:PATH.")
        var databaseURL: String

        @Option(help: "The crawl job.")
        var job: Int64

        func run() async throws {
            let store = try await SQLCrawlStore.open(try DatabaseLocation.parse(databaseURL), maxConnections: 1)
            defer { store.close() }
            guard let record = try await store.job(id: job) else { throw BenchError("job \(job) not found") }
            printJSON(["job": job, "status": record.status.rawValue, "valid": record.counters.validImages])
        }
    }
}
