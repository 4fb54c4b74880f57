import ArgumentParser
import Foundation
import PixExport
import PixSources
import PixStore
import PixStoreOps

extension PixCrawl {
    /// `pixcrawl gc`.
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Delete expired downloads, and old logs and deleted projects' jobs when asked.",
            discussion: """
                Always: deletes export archives whose download links have all expired and marks those exports \
                expired (an archive with a live link is never deleted), and removes temporary files of \
                interrupted exports older than a day, deletes staged URL lists (rows and stored objects) that no \
                job uses, once they are older than an hour, and deletes jobs whose plan stopped being written before \
                it committed (a submit killed mid-plan: the job is still `planning`, untouched for 10 minutes; none of \
                its chunks was ever claimable). With the retention options it also deletes, in small \
                batches so tables are never locked for long, old error and activity records and the jobs of \
                projects marked deleted.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var storage: ExportStorageOptions

        @Option(
            name: .customLong("errors-older-than"),
            help: ArgumentHelp("Delete error records older than this (e.g. 30d).", valueName: "span"))
        var errorsOlderThan: String?

        @Option(
            name: .customLong("activity-older-than"),
            help: ArgumentHelp("Delete activity records older than this (e.g. 180d).", valueName: "span"))
        var activityOlderThan: String?

        @Flag(name: .customLong("jobs-deleted"), help: "Delete the crawl jobs of projects marked deleted.")
        var jobsDeleted = false

        @Flag(name: .customLong("dry-run"), help: "Report what retention would delete without deleting it.")
        var dryRun = false

        func validate() throws {
            for (flag, value) in [("--errors-older-than", errorsOlderThan), ("--activity-older-than", activityOlderThan)] {
                if let value, (try? TimeSpan(parsing: value)) == nil {
                    throw ValidationError("\(flag): '\(value)' is not a span like 30d, 12h or 90m")
                }
            }
        }

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let report = try await storage.selection().garbageCollector(
                    store: store, exportsOverride: storage.outputDirectory
                ).collect()
                for archive in report.archives {
                    let path = archive.path ?? "(no file recorded)"
                    switch archive.outcome {
                    case .deleted:
                        print("export \(archive.exportID): expired, deleted \(path) (\(formatBytes(archive.bytes)))")
                    case .alreadyGone:
                        print("export \(archive.exportID): expired, \(path) was already gone")
                    case .noFile:
                        print("export \(archive.exportID): expired (no archive file)")
                    case .failed(let reason):
                        print("export \(archive.exportID): expired, but \(path) could not be deleted: \(reason)")
                    }
                }
                for file in report.temporaryFiles {
                    print("removed leftover temporary file \(file)")
                }
                try await collectLists(store)
                try await collectAbandonedPlans(store)
                try await applyRetention(store)
                if report.archives.isEmpty && report.temporaryFiles.isEmpty {
                    print("gc: nothing to collect (no export has only expired links)")
                } else {
                    print(
                        "gc: \(report.archives.count) export(s) expired, \(formatBytes(report.bytesFreed)) freed, "
                            + "\(report.temporaryFiles.count) temporary file(s) removed")
                }
            }
        }

        /// Deletes staged lists no job uses (rows first: a list without a row is never handed out again).
        private func collectLists(_ store: SQLCrawlStore) async throws {
            guard !dryRun else { return }
            let lists = try storage.selection().listStore()
            for sha256 in try await store.deleteUnusedLists(submittedBefore: Date().addingTimeInterval(-3600)) {
                do {
                    try URLListStaging.delete(sha256, from: lists)
                    print("deleted URL list \(sha256): no job uses it")
                } catch {
                    print("URL list \(sha256): no job uses it, but its objects could not be deleted: \(error)")
                }
            }
        }

        /// Deletes the jobs of plans abandoned mid-way (their chunks were never claimable).
        private func collectAbandonedPlans(_ store: SQLCrawlStore) async throws {
            guard !dryRun else { return }
            for jobID in try await store.deleteAbandonedPlans(idleSince: Date().addingTimeInterval(-600)) {
                print("deleted job \(jobID): its plan stopped before it committed")
            }
        }

        private func applyRetention(_ store: SQLCrawlStore) async throws {
            let policy = Retention.Policy(
                errorsOlderThan: try errorsOlderThan.map(TimeSpan.init(parsing:)),
                activityOlderThan: try activityOlderThan.map(TimeSpan.init(parsing:)),
                jobsOfDeletedProjects: jobsDeleted)
            guard policy.errorsOlderThan != nil || policy.activityOlderThan != nil || policy.jobsOfDeletedProjects else {
                return
            }
            let retention = Retention(database: store.database, batchSize: 1000)
            let report = dryRun ? try await retention.preview(policy) : try await retention.run(policy)
            let verb = dryRun ? "would delete" : "deleted"
            print(
                "retention: \(verb) \(report.errorLogs) error record(s), \(report.activityLogs) activity record(s), "
                    + "\(report.jobs) job(s) of deleted projects (\(report.jobImages) images, \(report.jobChunks) chunks)")
            guard !dryRun else { return }
            let exports = try storage.exportsDirectory().standardizedFileURL.path
            for path in report.exportFiles {
                let file = URL(fileURLWithPath: path).standardizedFileURL.path
                guard file.hasPrefix(exports + "/") else { continue }
                if (try? FileManager.default.removeItem(atPath: file)) != nil {
                    print("removed archive \(file) of a deleted job")
                }
            }
        }
    }
}
