import Logging
import PixFetch
import PixFixtures
import PixSources

/// The allow-list every test uses: only 127.0.0.1 is reachable.
let loopbackOnly = AddressPolicy(allowedNetworks: [NetworkRange("127.0.0.1/32")!])

/// A logger for sources under test.
let testLogger = Logger(label: "pixcrawl.sources.test")

/// Fast retries, loopback only, small limits.
func testDownloaderConfiguration() -> DownloaderConfiguration {
    var configuration = DownloaderConfiguration()
    configuration.addressPolicy = loopbackOnly
    configuration.connectTimeout = .seconds(2)
    configuration.totalTimeout = .seconds(20)
    configuration.retryPolicy = fastRetries
    return configuration
}

/// Retries without long waits: 3 attempts, `Retry-After` up to 2 s honoured.
let fastRetries = RetryPolicy(
    maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxRetryAfter: .seconds(2))

/// Runs `body` with a fixture server (standard routes plus `routes`) and a downloader that may reach only it.
func withFixtureServer<Result>(
    routes: [FixtureRoute] = [],
    _ body: (FixtureServer, Downloader) async throws -> Result
) async throws -> Result {
    let server = try FixtureServer(routes: FixtureRoute.standard + routes)
    defer { server.stop() }
    let downloader = try Downloader(configuration: testDownloaderConfiguration(), logger: testLogger)
    do {
        let result = try await body(server, downloader)
        await downloader.shutdown()
        return result
    } catch {
        await downloader.shutdown()
        throw error
    }
}

/// Calls `page` from `range.lowerBound` until the cursor runs out; returns every page.
func allPages(
    of source: some ImageSource, keyword: String, range: Range<Int>, limit: Int = 1000
) async throws -> [SourcePage] {
    var pages: [SourcePage] = []
    var cursor: String?
    repeat {
        let page = try await source.page(keyword: keyword, range: range, cursor: cursor)
        pages.append(page)
        cursor = page.nextCursor
    } while cursor != nil && pages.count < limit
    return pages
}

/// The requests the server received for `path`.
func requests(_ server: FixtureServer, path: String) -> [FixtureRequest] {
    server.requests.filter { $0.path == path }
}
