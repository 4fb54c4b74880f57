import ArgumentParser
import Foundation
import Logging
import PixBlob
import PixCoordinate
import PixCore
import PixDemo
import PixExport
import PixFetch
import PixSources
import PixStore
import ServiceLifecycle
import Synchronization
import UnixSignals

// MARK: - Sources

/// The one place the CLI turns a source specification (`openverse`, `commons`, `urls:FILE`, `demo`) into an
/// ``ImageSource``: the PixSources registry, one instance per specification for the whole process. Staged lists
/// (`list:ID`) are read from `lists`, the shared storage.
func makeSourceFactory(downloader: Downloader, lists: (any ListObjectStore)? = nil, logger: Logger) -> SourceFactory {
    var options = SourceRegistry.Options()
    options.listStore = lists
    options.demo = { logger in DemoSource(logger: logger) }
    let registry = SourceRegistry(downloader: downloader, options: options, logger: logger)
    return { spec in try registry.source(for: spec) }
}

/// Networks the chunks of some of these sources need besides `--allow-network`, by source specification as
/// stored on chunks: the offline demo serves its images from its own server on 127.0.0.1, and only its chunks
/// may reach it.
func networksRequired(bySources sources: [String]) -> [String: [String]] {
    var required: [String: [String]] = [:]
    for spec in sources.map({ $0.trimmingCharacters(in: .whitespaces) })
    where (try? SourceSpec(parsing: spec)) == .demo {
        required[spec] = DemoSource.requiredAllowedNetworks
    }
    return required
}

// MARK: - crawl

extension PixCrawl {
    /// `pixcrawl crawl KEYWORD… --max-images N`: the one-command local mode.
    struct Crawl: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crawl",
            abstract: "Crawl keywords into a validated image set (one command, local workers).",
            discussion: """
                Creates a local profile and project if needed, plans the job, and runs --workers workers in this \
                process against the store until the job is finished. Ctrl-C stops gracefully; continue with \
                `pixcrawl crawl --resume JOB` (or any `pixcrawl worker`). A URL list (`--source urls:FILE`) is \
                staged into the storage first (PIXCRAWL_STORAGE_URL), so workers anywhere read it and the file may \
                be deleted once the job is submitted. A plan larger than 10,000 chunks is written in batches while \
                the job is `planning` (nothing claimable); it becomes `pending` when the last batch commits, and \
                `pixcrawl gc` deletes a plan abandoned mid-way.

                --resize N (with --resize-mode, --resize-only-if-bigger, --encode and --quality: the options, \
                defaults and meanings of `pixcrawl export`) resizes every accepted image as it is crawled, as \
                img2dataset does: at --depth full the resize decode is the validation decode, so each image is \
                decoded once. The resized copy is stored beside the original, and an export with the same resize \
                options packs those copies without decoding anything; other options resize the originals.

                --detach submits the job, prints its id and exits 0, leaving the work to `pixcrawl worker` \
                processes on any machine sharing the database and the storage.

                Exit status:
                  0  the job completed with its target reached (or was submitted, with --detach)
                  1  error: bad input, unreadable list, store or storage unavailable; nothing was submitted
                  \(ExitStatus.failed)  the job failed
                  \(ExitStatus.cancelled)  the job was cancelled
                  \(ExitStatus.short)  the job completed short of its target (sources ran out, too many rejects)
                  \(ExitStatus.unfinished)  stopped before the end (Ctrl-C); continue with --resume JOB
                """)

        /// `pixcrawl crawl`'s exit statuses for each outcome of the job.
        enum ExitStatus {
            static let failed: Int32 = 4
            static let cancelled: Int32 = 5
            static let short: Int32 = 6
            static let unfinished: Int32 = 7

            /// 0 only for a completed job that reached its target.
            static func of(_ job: CrawlJob) -> Int32 {
                switch job.status {
                case .completed: job.counters.validImages >= job.maxImages ? 0 : short
                case .failed: failed
                case .cancelled: cancelled
                case .planning, .pending, .running: unfinished
                }
            }
        }

        @OptionGroup var store: StoreOptions
        @OptionGroup var runtime: RuntimeOptions
        @OptionGroup var rules: RuleOptions
        @OptionGroup(title: "Resizing at crawl time") var resize: ResizeArguments

        @Argument(help: "Keywords to crawl (1–100).")
        var keywords: [String] = []

        @Option(
            name: .customLong("max-images"),
            help: "Valid images to collect over all keywords (1–1,000,000,000; a job has at most 1,000,000 chunks).")
        var maxImages: Int?

        @Option(
            name: .customLong("source"),
            help: ArgumentHelp(
                "Image source (repeatable): openverse, commons (commons?width=N&height=M: its thumbnails in that box), urls:FILE, "
                    + "demo. Openverse and commons need $PIXCRAWL_CONTACT (your URL or e-mail, sent in the "
                    + "User-Agent).", valueName: "source"))
        var sources: [String] = []

        @Option(
            name: .customLong("url-col"),
            help: ArgumentHelp("The URL column of a urls: list (default url or image_url).", valueName: "column"))
        var urlColumn: String?

        @Option(
            name: .customLong("caption-col"),
            help: ArgumentHelp("The caption column of a urls: list (default caption or title).", valueName: "column"))
        var captionColumn: String?

        @Option(
            name: .customLong("hash-col"),
            help: ArgumentHelp(
                "The SHA-256 column of a urls: list (default sha256 or hash), checked against the downloaded bytes; "
                    + "a mismatch is rejected as HASH_MISMATCH.", valueName: "column"))
        var hashColumn: String?

        @Option(
            name: .customLong("keep-columns"),
            help: ArgumentHelp(
                "Columns of a urls: list stored with each image and exported in KEY.json, manifest.csv and "
                    + "manifest.jsonl (kept_columns): a comma-separated list, or all. Unknown names are refused.",
                valueName: "columns"))
        var keepColumns: String?

        @Option(
            name: .customLong("download-width"),
            help: ArgumentHelp(
                "The widest image the dataset needs (e.g. the export's --resize): Commons is asked for thumbnails "
                    + "this wide instead of originals, as it is when --max-width or --max-height bounds the size "
                    + "(never narrower than --min-width).", valueName: "px"))
        var downloadWidth: Int?

        @Option(help: "In-process workers.")
        var workers = 2

        @Option(
            name: .customLong("chunk-size"),
            help: "Result positions per chunk (1–10,000); 10^9 images need 1,000 or more (1,000,000 chunks at most).")
        var chunkSize = 50

        @Option(name: .customLong("over-fetch"), help: "Candidates planned per wanted image.")
        var overFetch = 1.5

        @Option(help: "Job priority (higher runs first).")
        var priority = 0

        @Option(help: "Project name (created if missing).")
        var project = "default"

        @Option(help: "Job name (default: the keywords).")
        var name: String?

        @Option(help: ArgumentHelp("Continue an unfinished job instead of submitting a new one.", valueName: "job"))
        var resume: Int64?

        @Option(help: ArgumentHelp("Export the result when done: zip, tar, webdataset, …", valueName: "format"))
        var export: String?

        @Flag(help: "Submit the job, print its id and exit 0; `pixcrawl worker` processes anywhere run it.")
        var detach = false

        @Flag(help: "Print one JSON line (job id, status, counters, exit status) instead of the text report.")
        var json = false

        func validate() throws {
            guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
            if resume == nil {
                guard !keywords.isEmpty else { throw ValidationError("give at least one keyword (or --resume JOB)") }
                guard maxImages != nil else { throw ValidationError("--max-images is required") }
            }
            if resume != nil, resize.resize != nil {
                throw ValidationError("--resize applies to a new job; a resumed job keeps its own")
            }
            if detach {
                guard resume == nil else { throw ValidationError("--detach submits a new job; not with --resume") }
                guard export == nil else { throw ValidationError("--export needs the job finished; not with --detach") }
            }
        }

        func run() async throws {
            try await reportingErrors {
                // Refused as `pixcrawl export` refuses them, before anything runs.
                if let problem = resize.options?.problem { throw CLIError(problem) }
                var logger = store.logger("pixcrawl.crawl")
                logger.logLevel = max(logger.logLevel, .warning)
                let crawlStore = try await store.openStore(migrate: true)
                defer { crawlStore.close() }
                var jobSources = sources.isEmpty ? ["openverse"] : sources
                if let resume, let resumed = try await crawlStore.job(id: resume) { jobSources = resumed.sources }
                let runtime = try self.runtime.makeRuntime(
                    store: crawlStore, workers: workers, sourceNetworks: networksRequired(bySources: jobSources),
                    logger: logger)
                do {
                    try await crawl(crawlStore, runtime: runtime, logger: logger)
                } catch {
                    await runtime.shutdown()
                    throw error
                }
                await runtime.shutdown()
            }
        }

        private func crawl(_ crawlStore: SQLCrawlStore, runtime: CrawlRuntime, logger: Logger) async throws {
            let owner = try await localProfile(crawlStore)
            let job: CrawlJob
            if let resume {
                guard let found = try await crawlStore.job(id: resume) else {
                    throw CLIError("job \(resume) not found")
                }
                job = found
                print("resuming job \(job.id) \"\(job.name)\" (\(job.status.rawValue))")
            } else {
                let target = try await findOrCreateProject(named: project, owner: owner, in: crawlStore)
                var submission = JobSubmission(
                    projectID: target.id, name: name, keywords: keywords, maxImages: maxImages ?? 0,
                    sources: sources.isEmpty ? ["openverse"] : sources, rules: try rules.rules(), chunkSize: chunkSize,
                    overFetch: overFetch, priority: priority, downloadWidth: downloadWidth, resize: resize.options)
                let submitted: (job: CrawlJob, plan: JobPlan)
                do {
                    submission = try await ListSubmission(
                        lists: try StorageSelection(self.runtime.storageDirectory).listStore(), logger: logger
                    ).staging(
                        submission,
                        columns: URLListSource.Columns(
                            url: urlColumn, caption: captionColumn, hash: hashColumn,
                            keep: URLListSource.Columns.kept(named: keepColumns.map { [$0] } ?? [])),
                        owner: owner.id, store: crawlStore)
                    submitted = try await runtime.planner.submit(
                        submission, to: crawlStore, actor: owner.id, hints: runtime.hints)
                } catch let error as PlanningError {
                    throw CLIError("\(error)")
                }
                job = submitted.job
                if detach {
                    if json {
                        printJSON([
                            "job_id": job.id, "status": job.status.rawValue, "chunks": submitted.plan.chunks.count,
                            "max_images": job.maxImages, "sources": job.sources,
                        ])
                    } else {
                        print("job \(job.id) submitted: \(submitted.plan.chunks.count) chunks for `pixcrawl worker`")
                    }
                    return
                }
                if !json {
                    print(
                        "job \(job.id) \"\(job.name)\": \(job.keywords.count) keyword(s), \(job.maxImages) images, "
                            + "\(submitted.plan.chunks.count) chunks, project \"\(target.name)\"")
                    for (keyword, shortfall) in submitted.plan.shortfalls.sorted(by: { $0.key < $1.key }) {
                        print(
                            "  note: \"\(keyword)\" cannot reach its quota of \(shortfall.quota): \(shortfall.reason)")
                    }
                }
            }
            let started = ContinuousClock.now
            if !job.status.isFinished {
                let crawlWorkers = (0..<workers).map { index in
                    runtime.makeWorker(
                        self.runtime.workerConfiguration(
                            id: "\(ProcessInfo.processInfo.hostName)-\(getpid())-crawl\(index + 1)", jobID: job.id,
                            exitWhenJobFinished: true))
                }
                let service = CrawlService(
                    workers: crawlWorkers,
                    reporter: json
                        ? nil
                        : ProgressReporter(store: crawlStore, jobID: job.id, interactive: isatty(STDOUT_FILENO) == 1))
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(
                        services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                        gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
                try await group.run()
            }
            guard let final = try await crawlStore.job(id: job.id) else { throw CLIError("job \(job.id) vanished") }
            let status = ExitStatus.of(final)
            if json {
                let counters = final.counters
                printJSON([
                    "job_id": final.id, "status": final.status.rawValue, "valid_images": counters.validImages,
                    "max_images": final.maxImages, "completed_chunks": counters.completedChunks,
                    "failed_chunks": counters.failedChunks, "cancelled_chunks": counters.cancelledChunks,
                    "exit_status": Int(status),
                ])
            } else {
                try await printSummary(crawlStore, jobID: job.id, elapsed: ContinuousClock.now - started)
            }
            if let export {
                try await exportResult(crawlStore, jobID: job.id, format: export)
            }
            if status != 0 { throw ExitCode(status) }
        }

        /// `--export FORMAT`: packs the finished job's valid images right away and prints the download token.
        private func exportResult(_ crawlStore: SQLCrawlStore, jobID: Int64, format text: String) async throws {
            guard let format = ExportFormat(rawValue: text) else {
                throw CLIError("--export: unknown format '\(text)' (zip, tar, tar.gz, webdataset, csv, jsonl)")
            }
            guard let job = try await crawlStore.job(id: jobID), job.status.isFinished else {
                print("not exporting: the job is not finished")
                return
            }
            let runner = try StorageSelection(runtime.storageDirectory).exportRunner(
                store: crawlStore, workerID: "crawl-\(ProcessInfo.processInfo.hostName)-\(getpid())",
                logger: store.logger("pixcrawl.export"))
            let queued = try await runner.enqueue(crawlJobID: jobID, format: format, options: ExportOptions())
            let outcome = try await runner.run(exportID: queued.id)
            print("")
            print("export \(outcome.export.id): \(outcome.exportedImages) images → \(describeArchive(outcome.archive))")
            print("sha256 \(outcome.sha256), \(formatBytes(Int(outcome.fileSize)))")
            print("download token (shown once): \(outcome.downloadToken.value)")
        }

        private func printSummary(_ crawlStore: SQLCrawlStore, jobID: Int64, elapsed: Duration) async throws {
            guard let job = try await crawlStore.job(id: jobID) else { return }
            let errors = try await crawlStore.errorSummary(jobID: jobID)
            let keywords = try await crawlStore.keywordProgress(jobID: jobID)
            let shortfalls = try await crawlStore.shortfalls(jobID: jobID)
            let counters = job.counters
            let bytes = keywords.reduce(0) { $0 + $1.bytes }
            let rejected = errors.filter { $0.key != .duplicate && $0.key != .source }.values.reduce(0, +)
            print("")
            print("job \(job.id) \"\(job.name)\": \(job.status.rawValue) in \(formatElapsed(elapsed))")
            print(pad("valid images", "\(counters.validImages) / \(job.maxImages)"))
            print(pad("rejected", "\(rejected)"))
            for (category, count) in errors.sorted(by: { $0.key.rawValue < $1.key.rawValue })
            where category != .duplicate && category != .source {
                print(pad("  " + category.rawValue, "\(count)"))
            }
            print(pad("duplicates", "\(errors[.duplicate, default: 0])"))
            if let sourceFailures = errors[.source] { print(pad("source failures", "\(sourceFailures)")) }
            print(pad("bytes stored", formatBytes(bytes)))
            print(
                pad(
                    "chunks",
                    "\(counters.completedChunks) completed, \(counters.failedChunks) failed, "
                        + "\(counters.cancelledChunks) cancelled, \(counters.pendingChunks + counters.activeChunks) open"
                ))
            let quotas = JobPlanner.quotas(maxImages: job.maxImages, keywordCount: job.keywords.count)
            let valid = Dictionary(keywords.map { ($0.keyword, $0.validImages) }, uniquingKeysWith: { a, _ in a })
            for (keyword, quota) in zip(job.keywords, quotas) where valid[keyword, default: 0] < quota {
                guard let shortfall = shortfalls[keyword] else { continue }
                print("  \"\(keyword)\": \(valid[keyword, default: 0]) of \(quota) valid; \(shortfall.reason)")
            }
            if !job.status.isFinished {
                print("stopped before the end; continue with: pixcrawl crawl --resume \(job.id)")
            }

        }
    }
}

func pad(_ label: String, _ value: String) -> String {
    "  " + label.padding(toLength: 18, withPad: " ", startingAt: 0) + value
}

func formatElapsed(_ duration: Duration) -> String {
    let seconds = Int(duration.components.seconds)
    return String(format: "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

func formatBytes(_ count: Int) -> String {
    if count >= 1 << 30 { return String(format: "%.2f GiB", Double(count) / Double(1 << 30)) }
    if count >= 1 << 20 { return String(format: "%.1f MiB", Double(count) / Double(1 << 20)) }
    if count >= 1 << 10 { return String(format: "%.1f KiB", Double(count) / Double(1 << 10)) }
    return "\(count) bytes"
}

/// Prints one JSON object on one line (keys sorted).
func printJSON(_ object: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Runs a crawl's in-process workers, with a progress display, until they are all done.
struct CrawlService: Service {
    let workers: [PixCoordinate.Worker]
    let reporter: ProgressReporter?

    func run() async throws {
        await withTaskGroup(of: Bool.self) { group in
            for worker in workers {
                group.addTask {
                    do {
                        try await worker.run()
                    } catch {
                        FileHandle.standardError.write(Data("pixcrawl: worker failed: \(error)\n".utf8))
                    }
                    return true
                }
            }
            if let reporter {
                group.addTask {
                    await reporter.run()
                    return false
                }
            }
            var running = workers.count
            while running > 0, let isWorker = await group.next() {
                if isWorker { running -= 1 }
            }
            group.cancelAll()
        }
    }
}

/// The live progress line on a terminal (every second) or a log line every five seconds otherwise.
struct ProgressReporter: Sendable {
    let store: SQLCrawlStore
    let jobID: Int64
    let interactive: Bool

    func run() async {
        let clock = ContinuousClock()
        let start = clock.now
        // The rate counts images collected by this run: the baseline is taken before the first tick.
        var firstValid = try? await store.job(id: jobID)?.counters.validImages
        while true {
            do {
                try await Task.sleep(for: interactive ? .seconds(1) : .seconds(5))
            } catch {
                break
            }
            guard let line = try? await line(since: start, clock: clock, firstValid: &firstValid) else { continue }
            if interactive {
                print("\r\u{1B}[2K" + line, terminator: "")
                fflush(nil)
            } else {
                print(line)
            }
        }
        if interactive { print("") }
    }

    private func line(
        since start: ContinuousClock.Instant, clock: ContinuousClock, firstValid: inout Int?
    ) async throws
        -> String?
    {
        guard let job = try await store.job(id: jobID) else { return nil }
        let errors = try await store.errorSummary(jobID: jobID)
        let counters = job.counters
        let valid = counters.validImages
        if firstValid == nil { firstValid = valid }
        let elapsed = clock.now - start
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let rate = Double(valid - (firstValid ?? 0)) / seconds
        let rejects = errors.filter { $0.key != .duplicate }.sorted { $0.value > $1.value }.prefix(4)
            .map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        let remaining = max(0, job.maxImages - valid)
        let eta = rate > 0 ? formatElapsed(.seconds(Int64(Double(remaining) / rate))) : "–"
        let done = counters.completedChunks + counters.failedChunks + counters.cancelledChunks
        return "chunks \(done)/\(counters.totalChunks)  valid \(valid)/\(job.maxImages)  "
            + "rejects: \(rejects.isEmpty ? "none" : rejects)  \(String(format: "%.1f", rate)) img/s  ETA \(eta)"
    }
}
