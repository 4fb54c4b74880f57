import ArgumentParser
import Foundation
import PixCore
import PixStore

extension PixCrawl {
    /// `pixcrawl status`: jobs with status, progress and chunk counters.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show jobs with their status, progress and chunk counters (or one job in detail).")

        @OptionGroup var store: StoreOptions

        @Argument(help: "A job id to show in detail.")
        var job: Int64?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let jobs: [CrawlJob]
                if let job {
                    guard let found = try await store.job(id: job) else { throw CLIError("job \(job) not found") }
                    jobs = [found]
                } else {
                    jobs = try await store.listJobs(projectID: nil, status: nil, limit: 100, offset: 0)
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    encoder.dateEncodingStrategy = .iso8601
                    print(String(decoding: try encoder.encode(jobs), as: UTF8.self))
                    return
                }
                print("store: \(try self.store.location())")
                if jobs.isEmpty {
                    print("no jobs yet")
                    return
                }
                print("JOB  STATUS     PROGRESS  VALID/MAX      CHUNKS pend/act/done/fail/canc  NAME")
                for job in jobs {
                    let c = job.counters
                    print(
                        String(format: "%-4lld %-10@ %3d%%      %6d/%-7d %4d/%d/%d/%d/%d", job.id, job.status.rawValue as NSString,
                            job.progress, c.validImages, job.maxImages, c.pendingChunks, c.activeChunks, c.completedChunks,
                            c.failedChunks, c.cancelledChunks) + "  \(job.name)")
                }
            }
        }
    }
}
