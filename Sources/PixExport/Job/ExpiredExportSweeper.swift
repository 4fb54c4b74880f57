import AsyncAlgorithms
import Logging
import ServiceLifecycle

/// Deletes expired exports and their download links at start and at every tick of `interval`, until a graceful
/// shutdown cancels it (`pixcrawl serve` and every worker run one).
public struct ExpiredExportSweeper<C: Clock>: Service where C.Duration == Duration {
    /// Time between two sweeps.
    public let interval: Duration
    /// The clock of the waits.
    public let clock: C
    let logger: Logger
    let sweep: @Sendable () async throws -> Int

    /// - Parameters:
    ///   - interval: time between two sweeps.
    ///   - clock: the clock of the waits.
    ///   - logger: receives what was swept and failures.
    ///   - sweep: one sweep; returns how many archives it deleted.
    public init(
        interval: Duration, clock: C, logger: Logger, sweep: @escaping @Sendable () async throws -> Int
    ) {
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.sweep = sweep
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await sweepOnce()
            for await _ in AsyncTimerSequence(interval: interval, clock: clock) { await sweepOnce() }
        }
    }

    func sweepOnce() async {
        do {
            let swept = try await sweep()
            if swept > 0 { logger.info("swept expired downloads", metadata: ["pixcrawl.swept": "\(swept)"]) }
        } catch {
            logger.warning("download sweep failed", metadata: ["pixcrawl.error": "\(error)"])
        }
    }
}

extension ExpiredExportSweeper where C == ContinuousClock {
    /// A sweeper on the continuous clock.
    public init(interval: Duration, logger: Logger, sweep: @escaping @Sendable () async throws -> Int) {
        self.init(interval: interval, clock: ContinuousClock(), logger: logger, sweep: sweep)
    }

    /// A sweeper collecting with `collector`.
    public init(collector: ExportGarbageCollector, interval: Duration, logger: Logger) {
        self.init(interval: interval, logger: logger) { try await collector.collect().archives.count }
    }
}
