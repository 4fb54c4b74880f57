import ArgumentParser
import Foundation
import Logging
import PixCoordinate
import PixCore
import PixStore

extension PixCrawl {
    /// `pixcrawl job cancel|retry-failed JOB`.
    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "job", abstract: "Cancel a job or retry its failed chunks.",
            subcommands: [Cancel.self, RetryFailed.self])

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Cancel a job: no further claims; chunks in progress stop at their next checkpoint.")

            @OptionGroup var store: StoreOptions

            @Argument(help: "The job id.")
            var job: Int64

            func run() async throws {
                try await reportingErrors {
                    let crawlStore = try await store.openStore(migrate: false)
                    defer { crawlStore.close() }
                    let actor = try await localProfile(crawlStore).id
                    if try await JobControl(store: crawlStore).cancel(jobID: job, actor: actor) {
                        print("job \(job) cancelled")
                    } else {
                        print("job \(job) had already finished; nothing to cancel")
                    }
                }
            }
        }

        struct RetryFailed: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "retry-failed",
                abstract: "Put a job's failed chunks back to pending with fresh attempts.")

            @OptionGroup var store: StoreOptions

            @Argument(help: "The job id.")
            var job: Int64

            func run() async throws {
                try await reportingErrors {
                    let crawlStore = try await store.openStore(migrate: false)
                    defer { crawlStore.close() }
                    let actor = try await localProfile(crawlStore).id
                    let hints = ChunkHints(store: crawlStore, notify: true, logger: store.logger("pixcrawl.job"))
                    let retried = try await JobControl(store: crawlStore, hints: hints).retryFailed(
                        jobID: job, actor: actor)
                    print(
                        retried == 0
                            ? "job \(job) has no failed chunks"
                            : "job \(job): \(retried) failed chunk(s) back to pending; run `pixcrawl worker` or "
                                + "`pixcrawl crawl --resume \(job)`")
                }
            }
        }
    }
}
