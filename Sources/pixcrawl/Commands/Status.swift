import ArgumentParser
import Foundation
import PixCoordinate
import PixCore
import PixStore

extension PixCrawl {
    /// `pixcrawl status [JOB]`: jobs with status, progress and chunk counters; one job in detail.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show jobs with their status, progress and chunk counters (or one job in detail).")

        @OptionGroup var store: StoreOptions

        @Argument(help: "A job id to show in detail: per-keyword progress, errors by category, active workers.")
        var job: Int64?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        @Option(
            help: ArgumentHelp(
                "The lease workers use (a worker silent for three leases is lost).", valueName: "duration"))
        var lease = DurationArgument(.seconds(60), text: "60s")

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                if let job {
                    guard let found = try await store.job(id: job) else { throw CLIError("job \(job) not found") }
                    let detail = try await JobDetail.load(found, from: store, lease: lease.duration)
                    if json {
                        print(try Self.encode(detail))
                    } else {
                        detail.print()
                    }
                    return
                }
                let jobs = try await store.listJobs(projectID: nil, status: nil, limit: 100, offset: 0)
                if json {
                    print(try Self.encode(jobs))
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
                        String(
                            format: "%-4lld %-10@ %3d%%      %6d/%-7d %4d/%d/%d/%d/%d", job.id,
                            job.status.rawValue as NSString,
                            job.progress, c.validImages, job.maxImages, c.pendingChunks, c.activeChunks,
                            c.completedChunks,
                            c.failedChunks, c.cancelledChunks) + "  \(job.name)")
                }
                Self.printHosts(try await store.hostBudgets())
            }
        }

        /// The fleet's host budgets that say something: paused, throttled, in use, or reporting rate limits.
        static func printHosts(_ hosts: [HostBudgetStatus]) {
            guard !hosts.isEmpty else { return }
            print("\nHOST                          CONNECTIONS in use/limit/max  STATE")
            for host in hosts {
                var state: [String] = []
                if let paused = host.pausedFor {
                    state.append("paused \(paused.components.seconds + 1)s (\(host.reason ?? "asked to wait"))")
                } else if host.currentConnections < host.maxConnections {
                    state.append("lowered after \(host.reason ?? "throttling")")
                }
                if let rateLimit = host.rateLimit { state.append("rate limit: \(rateLimit)") }
                print(
                    String(
                        format: "%-29@ %4d/%d/%d", host.host as NSString, host.activeConnections,
                        host.currentConnections, host.maxConnections)
                        + "                 " + (state.isEmpty ? "ok" : state.joined(separator: "; ")))
            }
        }

        static func encode(_ value: some Encodable) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
    }
}

/// One job in detail, as `pixcrawl status JOB` shows it.
struct JobDetail: Encodable {
    struct Keyword: Encodable {
        var keyword: String
        var quota: Int
        var validImages: Int
        var images: Int
        var candidatesDone: Int
        var chunks: [String: Int]
        var shortfall: KeywordShortfall?
    }

    struct ActiveWorker: Encodable {
        var id: String
        var host: String
        var pid: Int
        var state: String
        var chunk: Int64
        var keyword: String
        var checkpoint: Int
        var leaseExpiresAt: Date?
    }

    var job: CrawlJob
    var keywords: [Keyword]
    var errors: [String: Int]
    var workers: [ActiveWorker]
    var validationRuns: [ValidationJobRecord]

    static func load(_ job: CrawlJob, from store: SQLCrawlStore, lease: Duration) async throws -> JobDetail {
        let progress = Dictionary(
            try await store.keywordProgress(jobID: job.id).map { ($0.keyword, $0) }, uniquingKeysWith: { a, _ in a })
        let shortfalls = try await store.shortfalls(jobID: job.id)
        let quotas = JobPlanner.quotas(maxImages: job.maxImages, keywordCount: job.keywords.count)
        let keywords = zip(job.keywords, quotas).map { keyword, quota in
            let entry = progress[keyword]
            let valid = entry?.validImages ?? 0
            return Keyword(
                keyword: keyword, quota: quota, validImages: valid,
                images: entry?.images ?? 0, candidatesDone: entry?.candidatesDone ?? 0,
                chunks: Dictionary(uniqueKeysWithValues: (entry?.chunks ?? [:]).map { ($0.key.rawValue, $0.value) }),
                shortfall: valid < quota ? shortfalls[keyword] : nil)
        }
        let errors = Dictionary(
            uniqueKeysWithValues: try await store.errorSummary(jobID: job.id).map { ($0.key.rawValue, $0.value) })
        let active = Dictionary(
            try await store.chunks(jobID: job.id).filter { $0.status == .active }.map { ($0.id, $0) },
            uniquingKeysWith: { a, _ in a })
        let now = Date()
        let workers = try await store.listWorkers().compactMap { worker -> ActiveWorker? in
            guard let chunkID = worker.currentChunkID, let chunk = active[chunkID], worker.status != .stopped,
                chunk.leaseOwner == worker.id
            else { return nil }
            return ActiveWorker(
                id: worker.id, host: worker.hostname, pid: worker.pid,
                state: workerState(worker, lease: lease, now: now),
                chunk: chunkID, keyword: chunk.keyword, checkpoint: chunk.checkpoint.candidatesDone,
                leaseExpiresAt: chunk.leaseExpiresAt)
        }
        return JobDetail(
            job: job, keywords: keywords, errors: errors, workers: workers,
            validationRuns: try await store.validationJobs(crawlJobID: job.id))
    }

    func print() {
        let c = job.counters
        Swift.print("job \(job.id) \"\(job.name)\" — \(job.status.rawValue), \(job.progress)%")
        Swift.print(
            "  sources \(job.sources.joined(separator: ", ")), chunk size \(job.chunkSize), over-fetch \(job.overFetch)"
        )
        Swift.print(
            "  valid \(c.validImages)/\(job.maxImages), downloaded \(c.downloadedImages), chunks \(c.totalChunks): "
                + "\(c.pendingChunks) pending, \(c.activeChunks) active, \(c.completedChunks) completed, "
                + "\(c.failedChunks) failed, \(c.cancelledChunks) cancelled")
        if let resize = job.resize {
            Swift.print(
                "  resized as crawled: --resize \(resize.size) --resize-mode \(resize.mode.rawValue)"
                    + (resize.onlyIfBigger ? " --resize-only-if-bigger" : "")
                    + " --encode \(resize.encoding.rawValue) --quality \(resize.quality)")
        }
        Swift.print("")
        Swift.print("  KEYWORD                         VALID/QUOTA   CANDIDATES  CHUNKS done/all")
        for keyword in keywords {
            let done =
                keyword.chunks["completed", default: 0] + keyword.chunks["failed", default: 0]
                + keyword.chunks["cancelled", default: 0]
            let all = keyword.chunks.values.reduce(0, +)
            let name = keyword.keyword.count > 30 ? String(keyword.keyword.prefix(29)) + "…" : keyword.keyword
            Swift.print(
                "  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + String(
                        format: "%5d/%-7d %10d  %5d/%d", keyword.validImages, keyword.quota, keyword.candidatesDone,
                        done, all))
            if let shortfall = keyword.shortfall, !shortfall.reason.isEmpty {
                Swift.print("      short: \(shortfall.reason)")
            }
        }
        Swift.print("")
        if errors.isEmpty {
            Swift.print("  no rejected candidates")
        } else {
            Swift.print("  ERRORS")
            for (category, count) in errors.sorted(by: { $0.value > $1.value }) {
                Swift.print("  " + category.padding(toLength: 14, withPad: " ", startingAt: 0) + "\(count)")
            }
        }
        Swift.print("")
        if workers.isEmpty {
            Swift.print("  no worker is on this job now")
        } else {
            Swift.print("  WORKERS")
            for worker in workers {
                Swift.print(
                    "  \(worker.id) (\(worker.host)/\(worker.pid), \(worker.state)): chunk \(worker.chunk) "
                        + "\"\(worker.keyword)\" at \(worker.checkpoint)")
            }
        }
        for run in validationRuns.prefix(3) {
            Swift.print(
                "  validation run \(run.id): \(run.status.rawValue), \(run.validatedImages)/\(run.totalImages) checked, "
                    + "\(run.invalidImages) invalid")
        }
    }
}
