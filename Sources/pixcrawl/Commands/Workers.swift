import ArgumentParser
import Foundation
import PixCoordinate
import PixCore
import PixStore

/// How a worker looks from its last heartbeat: lost when older than three leases.
func workerState(_ worker: WorkerRecord, lease: Duration, now: Date = Date()) -> String {
    WorkerLiveness(worker, lease: lease, now: now).rawValue
}

extension PixCrawl {
    /// `pixcrawl workers`: registered worker processes and what they are doing.
    struct Workers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workers",
            abstract: "List registered workers; one whose heartbeat is older than three leases is shown as lost.")

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("The lease the workers use.", valueName: "duration"))
        var lease = DurationArgument(.seconds(60), text: "60s")

        @Flag(help: "Also list stopped workers.")
        var all = false

        func run() async throws {
            try await reportingErrors {
                let crawlStore = try await store.openStore(migrate: false)
                defer { crawlStore.close() }
                let workers = try await crawlStore.listWorkers().filter { all || $0.status != .stopped }
                if workers.isEmpty {
                    print(all ? "no workers registered" : "no running workers (--all lists stopped ones)")
                    return
                }
                print("STATE     CHUNK   HEARTBEAT  HOST/PID               ID")
                let now = Date()
                for worker in workers {
                    let age = Int(now.timeIntervalSince(worker.heartbeatAt).rounded())
                    print(
                        String(
                            format: "%-9@ %-7@ %6ds ago  %-22@ ",
                            workerState(worker, lease: lease.duration, now: now) as NSString,
                            (worker.currentChunkID.map { "\($0)" } ?? "-") as NSString, age,
                            "\(worker.hostname)/\(worker.pid)" as NSString) + worker.id)
                }
            }
        }
    }
}
