import Logging
import PixFetch
import PixFixtures
import Synchronization

/// The allow-list every test uses: only 127.0.0.1 is reachable.
let loopbackOnly = AddressPolicy(allowedNetworks: [NetworkRange("127.0.0.1/32")!])

/// Small limits so failure paths finish in a second or two.
func testConfiguration() -> DownloaderConfiguration {
    var configuration = DownloaderConfiguration()
    configuration.addressPolicy = loopbackOnly
    configuration.connectTimeout = .seconds(2)
    configuration.totalTimeout = .seconds(10)
    configuration.lowSpeedLimit = 100
    configuration.lowSpeedTime = .seconds(2)
    configuration.maxBodyBytes = 1 << 20
    configuration.retryPolicy = RetryPolicy(
        maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxRetryAfter: .seconds(2))
    return configuration
}

/// Runs `body` with a fresh fixture server on 127.0.0.1 and a downloader allowed to reach only that address.
func withDownloader<Result>(
    configure: (inout DownloaderConfiguration) -> Void = { _ in }, hostBudget: (any HostBudget)? = nil,
    _ body: (Downloader, FixtureServer) async throws -> Result
) async throws -> Result {
    let server = try FixtureServer()
    defer { server.stop() }
    var configuration = testConfiguration()
    configure(&configuration)
    return try await withDownloader(configuration: configuration, hostBudget: hostBudget) { try await body($0, server) }
}

/// Runs `body` with a downloader made from `configuration` and shuts it down however `body` ends.
func withDownloader<Result>(
    configuration: DownloaderConfiguration, hostBudget: (any HostBudget)? = nil,
    _ body: (Downloader) async throws -> Result
) async throws -> Result {
    let downloader = try Downloader(
        configuration: configuration, hostBudget: hostBudget, logger: Logger(label: "pixcrawl.fetch.test"))
    do {
        let result = try await body(downloader)
        await downloader.shutdown()
        return result
    } catch {
        await downloader.shutdown()
        throw error
    }
}

/// Counts how many handler invocations overlap, for per-host limit tests.
final class OverlapCounter: Sendable {
    private let state = Mutex((current: 0, peak: 0))

    func enter() {
        state.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
        }
    }

    func leave() {
        state.withLock { $0.current -= 1 }
    }

    var peak: Int { state.withLock { $0.peak } }
}
