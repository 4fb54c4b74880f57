import ArgumentParser
import Foundation
import Logging
import PixBlob
import PixCoordinate
import PixCore
import PixExport
import PixFetch
import PixServe
import PixStore
import ServiceLifecycle
import UnixSignals

/// A duration on the command line: `60s`, `500ms`, `2m`, `1h`, or a plain number of seconds.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let duration: Duration
    let text: String

    init(_ duration: Duration, text: String) {
        self.duration = duration
        self.text = text
    }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var value = text
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            value = String(text.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let number = Double(value), number >= 0, number.isFinite else { return nil }
        self.init(.milliseconds(Int64((number * scale * 1000).rounded())), text: argument)
    }

    var description: String { text }
    var defaultValueDescription: String { text }
}

/// Options shared by the commands that run workers (`crawl`, `worker`).
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Downloads in flight per worker.")
    var concurrency = 8

    @Option(help: ArgumentHelp("Lease on a claimed chunk; renewed every quarter of it.", valueName: "duration"))
    var lease = DurationArgument(.seconds(60), text: "60s")

    @Option(help: ArgumentHelp("How often an idle worker looks for work.", valueName: "duration"))
    var poll = DurationArgument(.seconds(5), text: "5s")

    @Flag(name: .customLong("no-notify"), help: "Do not use PostgreSQL LISTEN/NOTIFY wake-ups; poll only.")
    var noNotify = false

    @Option(
        name: .customLong("shutdown-timeout"),
        help: ArgumentHelp(
            "On SIGTERM/SIGINT, how long a chunk may run on before it is given back.", valueName: "duration"))
    var shutdownTimeout = DurationArgument(.seconds(30), text: "30s")

    @Option(
        name: .customLong("allow-network"),
        help: ArgumentHelp(
            "Allow downloads from this non-public range (repeatable), e.g. 127.0.0.1/32. Also $PIXCRAWL_ALLOW_NETWORK.",
            valueName: "cidr"))
    var allowNetwork: [String] = []

    @Option(
        name: .customLong("storage-dir"),
        help: ArgumentHelp(
            "Where image files and exports are stored: a directory or s3://bucket/prefix?endpoint=…. "
                + "Default: $PIXCRAWL_STORAGE_URL, else storage.",
            valueName: "url"))
    var storageDirectory: String?

    @Option(
        name: .customLong("fetch-timeout"),
        help: ArgumentHelp(
            "Longest time one request (an image or a page of search results) may take.", valueName: "duration"))
    var fetchTimeout = DurationArgument(.seconds(60), text: "60s")

    @Option(
        name: .customLong("retry-backoff"),
        help: ArgumentHelp("First delay before a failed chunk is retried; doubles per attempt.", valueName: "duration"))
    var retryBackoff = DurationArgument(.seconds(5), text: "5s")

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard lease.duration >= .milliseconds(200) else { throw ValidationError("--lease must be at least 200ms") }
        guard poll.duration > .zero else { throw ValidationError("--poll must be positive") }
        guard fetchTimeout.duration >= .milliseconds(100) else {
            throw ValidationError("--fetch-timeout must be at least 100ms")
        }
        for cidr in allowedCIDRs where NetworkRange(cidr) == nil {
            throw ValidationError("--allow-network: '\(cidr)' is not a CIDR range such as 127.0.0.1/32")
        }
    }

    var allowedCIDRs: [String] {
        let fromEnvironment = (ProcessInfo.processInfo.environment["PIXCRAWL_ALLOW_NETWORK"] ?? "")
            .split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        return allowNetwork + fromEnvironment
    }

    /// The storage these workers write to.
    func storage() throws -> StorageSelection { try StorageSelection(storageDirectory) }

    /// The downloader every worker of this process shares.
    /// - Parameter extraNetworks: ranges allowed besides `--allow-network` (e.g. the offline demo's own
    ///   loopback server).
    /// - Parameter store: holds the fleet-wide per-host budgets (`PIXCRAWL_HOST_LIMITS` overrides their limits).
    func makeDownloader(
        store: any CrawlStore, workers: Int, extraNetworks: [String] = [], logger: Logger
    ) throws -> Downloader {
        var configuration = DownloaderConfiguration()
        configuration.addressPolicy = AddressPolicy(
            allowedNetworks: (allowedCIDRs + extraNetworks).compactMap { NetworkRange($0) })
        configuration.maxConcurrentTransfers = max(4, concurrency * max(1, workers))
        configuration.totalTimeout = fetchTimeout.duration
        configuration.connectTimeout = min(configuration.connectTimeout, fetchTimeout.duration)
        let environment = ProcessInfo.processInfo.environment
        configuration.userAgent = PixCrawlVersion.userAgent(contact: PixCrawlVersion.operatorContact(environment))
        var policy = HostPolicy()
        if let overrides = environment["PIXCRAWL_HOST_LIMITS"], !overrides.isEmpty {
            guard let applied = policy.applying(overrides) else {
                throw ValidationError(
                    "PIXCRAWL_HOST_LIMITS: '\(overrides)' is not a list of HOST=CONNECTIONS[:RATE] "
                        + "(e.g. upload.wikimedia.org=2:3M,*=8)")
            }
            policy = applied
        }
        let budget = StoreHostBudget(
            store: store, policy: policy, holder: "\(ProcessInfo.processInfo.hostName)-\(getpid())",
            lease: configuration.totalTimeout + .seconds(30), logger: logger)
        return try Downloader(configuration: configuration, hostBudget: budget, logger: logger)
    }

    /// The runtime shared by this process's workers.
    /// - Parameter sourceNetworks: ranges the chunks of a source specification may reach besides
    ///   `--allow-network` (the offline demo's loopback server); each such source gets its own downloader, the
    ///   others keep the shared one.
    func makeRuntime(
        store: SQLCrawlStore, workers: Int, sourceNetworks: [String: [String]] = [:], logger: Logger
    ) throws -> CrawlRuntime {
        let downloader = try makeDownloader(store: store, workers: workers, logger: logger)
        let sourceDownloaders = try sourceNetworks.mapValues { networks in
            try makeDownloader(store: store, workers: workers, extraNetworks: networks, logger: logger)
        }
        let sources = SourceResolver(
            makeSourceFactory(downloader: downloader, lists: try storage().listStore(), logger: logger))
        let runtime = CrawlRuntime(
            store: store, blobs: try storage().blobStore(logger: logger), sources: sources, downloader: downloader,
            sourceDownloaders: sourceDownloaders,
            processing: ChunkProcessorConfiguration(
                concurrency: concurrency, lease: lease.duration, retryBackoffBase: retryBackoff.duration),
            notify: !noNotify, validationThreads: min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)),
            logger: logger)
        if !noNotify {
            do {
                try runtime.hints.startListening()
            } catch {
                logger.warning("LISTEN unavailable; polling only", metadata: ["pixcrawl.error": "\(error)"])
            }
        }
        return runtime
    }

    func workerConfiguration(
        id: String? = nil, once: Bool = false, maxChunks: Int? = nil, jobID: Int64? = nil,
        exitWhenJobFinished: Bool = false
    ) -> WorkerConfiguration {
        WorkerConfiguration(
            id: id, lease: lease.duration, pollInterval: poll.duration, shutdownTimeout: shutdownTimeout.duration,
            once: once, maxChunks: maxChunks, jobID: jobID, exitWhenJobFinished: exitWhenJobFinished)
    }
}

extension PixCrawl {
    /// `pixcrawl worker`: claims chunks of running jobs from the shared store until stopped.
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "worker",
            abstract: "Run a worker that claims chunks from the shared store.",
            discussion: """
                Registers in the store, claims chunks of running jobs (highest priority, then oldest), downloads \
                and validates their candidates, and heartbeats. SIGTERM or SIGINT: stops claiming, gives its chunk \
                back after the current page (or after --shutdown-timeout), marks itself stopped and exits 0.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var runtime: RuntimeOptions

        @Flag(help: "Process the claimable work, then exit.")
        var once = false

        @Option(name: .customLong("max-chunks"), help: "Exit after this many chunks.")
        var maxChunks: Int?

        @Option(help: "Only claim chunks of this job.")
        var job: Int64?

        @Option(help: "Worker id (default: HOST-PID-RANDOM).")
        var id: String?

        @Flag(name: .customLong("no-exports"), help: "Do not claim queued exports (crawl chunks only).")
        var noExports = false

        @Option(
            name: .customLong("metrics-port"),
            help: ArgumentHelp("Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics.", valueName: "port"))
        var metricsPort: Int?

        @Option(name: .customLong("metrics-host"), help: "Address the metrics endpoint binds to.")
        var metricsHost = "127.0.0.1"

        func run() async throws {
            try await reportingErrors {
                let logger = store.logger("pixcrawl.worker")
                let crawlStore = try await store.openStore(migrate: false)
                defer { crawlStore.close() }
                let runtime = try self.runtime.makeRuntime(store: crawlStore, workers: 1, logger: logger)
                let worker = runtime.makeWorker(
                    self.runtime.workerConfiguration(id: id, once: once, maxChunks: maxChunks, jobID: job))
                var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                    .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)
                ]
                if !noExports {
                    let storage = try self.runtime.storage()
                    let runner = try storage.exportRunner(
                        store: crawlStore, workerID: worker.configuration.id, logger: logger)
                    services.append(.init(service: ExportWorkerService(runner: runner, interval: .seconds(5), logger: logger)))
                    services.append(
                        .init(
                            service: ExpiredExportSweeper(
                                collector: try storage.garbageCollector(store: crawlStore), interval: .seconds(600),
                                logger: logger)))
                }
                if let metricsPort {
                    PixMetrics.bootstrap()
                    services.append(
                        .init(service: MetricsEndpoint.application(host: metricsHost, port: metricsPort, logger: logger)))
                }
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(
                        services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                do {
                    try await group.run()
                } catch {
                    await runtime.shutdown()
                    throw error
                }
                await runtime.shutdown()
                print("worker \(worker.configuration.id): \(worker.processedChunks) chunk(s) processed")
            }
        }
    }
}
