import Foundation
import Logging
import ServiceLifecycle

/// Periodically removes expired download archives; stops at graceful shutdown.
struct DownloadSweeper: Service {
    let exports: any ExportService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let swept = try await exports.sweepExpired()
                if swept > 0 { logger.info("swept expired downloads", metadata: ["pixcrawl.swept": "\(swept)"]) }
            } catch {
                logger.warning("download sweep failed", metadata: ["pixcrawl.error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
