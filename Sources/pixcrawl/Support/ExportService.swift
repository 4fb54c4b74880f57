import Foundation
import Logging
import PixBlob
import PixExport
import PixStore
import ServiceLifecycle

/// The export half of `pixcrawl worker`: claims queued exports and runs them, so a large export never blocks
/// the API or a user's terminal. Polls at `interval`; stops with the worker's graceful shutdown.
struct ExportService: Service {
    let runner: ExportJobRunner
    let interval: Duration
    let logger: Logger

    init(store: SQLCrawlStore, storageRoot: URL, workerID: String, interval: Duration, logger: Logger) {
        self.runner = ExportJobRunner(
            store: store, blobs: LocalBlobStore(root: storageRoot),
            configuration: .init(
                exportsDirectory: storageRoot.appendingPathComponent("exports", isDirectory: true), workerID: workerID),
            logger: logger)
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        // A graceful shutdown cancels the loop at once: an export in progress goes back to pending for
        // another worker, and an idle wait ends immediately.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
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

