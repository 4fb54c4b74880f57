import AsyncAlgorithms
import Logging
import PixStore
import ServiceLifecycle

/// A worker's export loop: at every tick of `interval` it runs queued exports until none is left. A graceful
/// shutdown cancels the loop at once: an export in progress goes back to pending for another worker, and an idle
/// wait ends immediately.
public struct ExportWorkerService<C: Clock>: Service where C.Duration == Duration {
    /// Claims and runs queued exports.
    public let runner: ExportJobRunner
    /// How long an idle worker waits before looking for exports again.
    public let interval: Duration
    /// The clock of the waits.
    public let clock: C
    let logger: Logger

    /// - Parameters:
    ///   - runner: claims and runs queued exports.
    ///   - interval: how long an idle worker waits before looking again.
    ///   - clock: the clock of the waits.
    ///   - logger: receives completed and failed exports.
    public init(runner: ExportJobRunner, interval: Duration, clock: C, logger: Logger) {
        self.runner = runner
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await runQueued()
            for await _ in AsyncTimerSequence(interval: interval, clock: clock) { await runQueued() }
        }
    }

    /// Runs exports until none is queued (or the loop is cancelled).
    func runQueued() async {
        while !Task.isCancelled {
            do {
                guard let outcome = try await runner.runNext() else { return }
                logger.notice(
                    "export completed",
                    metadata: ["pixcrawl.export": "\(outcome.export.id)", "pixcrawl.images": "\(outcome.exportedImages)"])
            } catch is CancellationError {
                return
            } catch {
                logger.error("export failed", metadata: ["pixcrawl.error": "\(error)"])
                return
            }
        }
    }
}

extension ExportWorkerService where C == ContinuousClock {
    /// A loop on the continuous clock.
    public init(runner: ExportJobRunner, interval: Duration, logger: Logger) {
        self.init(runner: runner, interval: interval, clock: ContinuousClock(), logger: logger)
    }
}
