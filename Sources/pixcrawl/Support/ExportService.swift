import Foundation
import Logging
import PixBlob
import PixExport
import PixStore
import ServiceLifecycle

/// The export half of `pixcrawl worker`: claims queued exports and runs them, so a large export never blocks
/// the API or a user's terminal. Polls at `interval`, sweeps expired download archives every ten minutes, and
/// stops with the worker's graceful shutdown.
struct ExportService: Service {
    let runner: ExportJobRunner
    let collector: ExportGarbageCollector
    let interval: Duration
    /// How often expired download archives are swept (what `pixcrawl gc` does for exports).
    let sweepInterval: Duration = .seconds(600)
    let logger: Logger

    init(store: SQLCrawlStore, storage: StorageSelection, workerID: String, interval: Duration, logger: Logger) throws {
        self.runner = try storage.exportRunner(store: store, workerID: workerID, logger: logger)
        self.collector = try storage.garbageCollector(store: store)
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        // A graceful shutdown cancels the loop at once: an export in progress goes back to pending for
        // another worker, and an idle wait ends immediately.
        try? await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var nextSweep = clock.now
            while !Task.isCancelled {
                if clock.now >= nextSweep {
                    nextSweep = clock.now.advanced(by: sweepInterval)
                    do {
                        _ = try await collector.collect()
                    } catch {
                        logger.warning("sweeping expired downloads failed", metadata: ["pixcrawl.error": "\(error)"])
                    }
                }
                do {
                    if let outcome = try await runner.runNext() {
                        logger.notice(
                            "export completed",
                            metadata: [
                                "pixcrawl.export": "\(outcome.export.id)",
                                "pixcrawl.images": "\(outcome.exportedImages)",
                            ])
                        continue
                    }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("export failed", metadata: ["pixcrawl.error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

