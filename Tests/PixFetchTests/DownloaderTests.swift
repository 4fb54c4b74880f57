import Glibc
import Logging
import PixCore
import PixDemo
import PixFetch
import PixFixtures
import Synchronization
import Testing

@Suite struct DownloaderTests {
    @Test func fetchesAnImageWithItsMetadata() async throws {
        try await withDownloader(configure: { $0.headers = ["X-Crawl-Job": "job-1"] }) { downloader, server in
            let url = server.url("/img/7.jpg?w=64&h=48")
            let response = try await downloader.fetch(
                FetchRequest(url: url, headers: ["Authorization": "Bearer test-token"]))
            #expect(response.status == 200)
            #expect(response.body == FixtureImages.jpeg(seed: 7, width: 64, height: 48))
            #expect(response.headers["content-type"] == "image/jpeg")
            #expect(response.headers["Content-Length"] == String(response.body.count))
            #expect(response.headers.fields.allSatisfy { $0.name == $0.name.lowercased() })
            #expect(response.requestedURL == url)
            #expect(response.url == url)
            #expect(response.remoteAddress == "127.0.0.1")
            #expect(response.remotePort == Int(server.port))
            #expect(response.httpVersion == "1.1")
            #expect(response.attempts == 1)
            #expect(response.redirectCount == 0)

            let sent = try #require(server.requests.first { $0.path == "/img/7.jpg" })
            #expect(sent.headers["user-agent"] == PixCrawlVersion.userAgent())
            #expect(sent.headers["authorization"] == "Bearer test-token")
            #expect(sent.headers["x-crawl-job"] == "job-1")
            #expect(sent.headers["accept-encoding"] != nil)
        }
    }

    @Test func postsARequestBody() async throws {
        try await withDownloader { downloader, server in
            server.route(.exact("/token"), method: "POST") { request in
                .text("got \(request.body.count) bytes: \(String(decoding: request.body, as: UTF8.self))")
            }
            let response = try await downloader.fetch(
                FetchRequest(
                    url: server.url("/token"), method: .post,
                    headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: Array("grant_type=client_credentials".utf8), respectRobotsTxt: false))
            #expect(String(decoding: response.body, as: UTF8.self) == "got 29 bytes: grant_type=client_credentials")
        }
    }

    @Test func credentialsInTheURLNeverReachTheError() async throws {
        try await withDownloader { downloader, server in
            let url = "http://crawler:s3cret@127.0.0.1:\(server.port)/status/404"
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.status == 404)
            #expect(error.url == server.url("/status/404"))
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test func headerValuesWithLineBreaksAreRefused() async throws {
        try await withDownloader { downloader, server in
            let request = FetchRequest(
                url: server.url("/img/1.jpg"), headers: ["X-Note": "a\r\nX-Injected: yes"], respectRobotsTxt: false)
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(request) }
            #expect(error.code == .transferFailed)
            #expect(error.reason.contains("line break"))
            #expect(server.totalRequestCount == 0)
        }
    }

    // MARK: - Schemes

    @Test(arguments: ["file:///etc/passwd", "gopher://127.0.0.1:70/1", "ftp://127.0.0.1/x", "dict://127.0.0.1/"])
    func refusesNonHTTPSchemes(_ url: String) async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.code == .schemeNotAllowed)
            #expect(error.category == .blocked)
            #expect(server.totalRequestCount == 0)
        }
    }

    @Test(arguments: ["file:///etc/passwd", "gopher://127.0.0.1:70/1"])
    func refusesRedirectToNonHTTPScheme(_ location: String) async throws {
        try await withDownloader { downloader, server in
            let url = server.url("/redirect/to?location=\(location)")
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.code == .schemeNotAllowed)
            #expect(error.category == .blocked)
            #expect(server.requestCount(path: "/redirect/to") == 1)
        }
    }

    // MARK: - Address guard (traffic never leaves 127.0.0.0/8)

    @Test func refusesADirectURLToAnotherLoopbackAddress() async throws {
        let outside = try FixtureServer(host: "127.0.0.2")
        defer { outside.stop() }
        try await withDownloader { downloader, _ in
            for host in ["127.0.0.2", "2130706434", "0x7f.0.0.2", "0177.0.0.2", "127.2"] {
                let url = "http://\(host):\(outside.port)/img/1.jpg"
                let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
                #expect(error.code == .addressBlocked)
                #expect(error.category == .blocked)
                #expect(error.blockedAddress == IPAddress(127, 0, 0, 2))
                #expect(error.blockedAddressClass == .loopback)
                #expect(error.description.contains("127.0.0.2"))
            }
        }
        #expect(outside.connectionCount == 0)
        #expect(outside.totalRequestCount == 0)
    }

    @Test func refusesAHostNameThatResolvesToABlockedAddressAtConnectTime() async throws {
        let outside = try FixtureServer(host: "127.0.0.2")
        defer { outside.stop() }
        try await withDownloader(configure: {
            $0.hostPins = [
                .init(host: "rebinding.test", port: Int(outside.port), addresses: [IPAddress(127, 0, 0, 2)])
            ]
        }) { downloader, _ in
            let url = "http://rebinding.test:\(outside.port)/img/1.jpg"
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.code == .addressBlocked)
            #expect(error.category == .blocked)
            #expect(error.blockedAddress == IPAddress(127, 0, 0, 2))
            #expect(error.url == url)

            // Robots off: the image request itself is refused by the open-socket callback.
            let direct = try await #require(throws: FetchError.self) {
                try await downloader.fetch(FetchRequest(url: url, respectRobotsTxt: false))
            }
            #expect(direct.code == .addressBlocked)
        }
        #expect(outside.connectionCount == 0)
    }

    @Test func pinnedHostNameOnAnAllowedAddressIsFetched() async throws {
        // Proves the pin mechanism the rebinding test relies on: the same pin to 127.0.0.1 connects.
        let server = try FixtureServer()
        defer { server.stop() }
        var configuration = testConfiguration()
        configuration.hostPins = [
            .init(host: "pinned.test", port: Int(server.port), addresses: [IPAddress(127, 0, 0, 1)])
        ]
        try await withDownloader(configuration: configuration) { downloader in
            let response = try await downloader.fetch("http://pinned.test:\(server.port)/img/3.jpg?w=32&h=32")
            #expect(response.status == 200)
            #expect(response.remoteAddress == "127.0.0.1")
            #expect(server.requests.first { $0.path == "/img/3.jpg" }?.headers["host"] == "pinned.test:\(server.port)")
        }
    }

    @Test func refusesARedirectToAnotherLoopbackAddress() async throws {
        let outside = try FixtureServer(host: "127.0.0.2")
        defer { outside.stop() }
        try await withDownloader { downloader, server in
            let url = server.url("/redirect/loopback2?port=\(outside.port)&path=/img/1.jpg")
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.code == .addressBlocked)
            #expect(error.category == .blocked)
            #expect(error.blockedAddress == IPAddress(127, 0, 0, 2))
            #expect(server.requestCount(path: "/redirect/loopback2") == 1)
        }
        #expect(outside.connectionCount == 0)
        #expect(outside.totalRequestCount == 0)
    }

    static let ipv6LoopbackAvailable: Bool = {
        guard let server = try? FixtureServer(host: "::1") else { return false }
        server.stop()
        return true
    }()

    @Test(.enabled(if: ipv6LoopbackAvailable)) func ipv6LoopbackIsJudgedLikeIPv4() async throws {
        let server = try FixtureServer(host: "::1")
        defer { server.stop() }
        var configuration = testConfiguration()
        configuration.hostPins = [.init(host: "v6.test", port: Int(server.port), addresses: [IPAddress("::1")!])]
        try await withDownloader(configuration: configuration) { refusing in
            let literal = try await #require(throws: FetchError.self) {
                try await refusing.fetch("http://[::1]:\(server.port)/img/1.jpg")
            }
            #expect(literal.blockedAddress == IPAddress("::1"))
            let named = try await #require(throws: FetchError.self) {
                try await refusing.fetch(
                    FetchRequest(url: "http://v6.test:\(server.port)/img/1.jpg", respectRobotsTxt: false))
            }
            #expect(named.code == .addressBlocked)
            #expect(named.blockedAddress == IPAddress("::1"))
            #expect(server.connectionCount == 0)
        }

        configuration.addressPolicy = AddressPolicy(allowedNetworks: [NetworkRange("::1/128")!])
        try await withDownloader(configuration: configuration) { allowing in
            let response = try await allowing.fetch("http://v6.test:\(server.port)/img/1.jpg?w=16&h=16")
            #expect(response.remoteAddress == "::1")
            #expect(response.body == FixtureImages.jpeg(seed: 1, width: 16, height: 16))
        }
    }

    @Test func defaultPolicyRefusesLoopback() async throws {
        try await withDownloader(configure: { $0.addressPolicy = .publicOnly }) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/img/1.jpg"))
            }
            #expect(error.code == .addressBlocked)
            #expect(error.blockedAddressClass == .loopback)
            #expect(server.connectionCount == 0)
        }
    }

    // MARK: - The bad internet, one outcome each

    struct Case: Sendable, CustomTestStringConvertible {
        var path: String
        var expected: Expected
        var testDescription: String { path }
    }

    enum Expected: Sendable {
        case body([UInt8], contentType: String)
        case failure(FetchError.Code, ErrorCategory, status: Int?)
    }

    static let badInternet: [Case] = [
        Case(
            path: "/bad/truncated.jpg",
            expected: .body(FixtureImages.truncatedJPEG(seed: 11), contentType: "image/jpeg")),
        Case(
            path: "/bad/bad-crc.png", expected: .body(FixtureImages.pngWithBadCRC(seed: 12), contentType: "image/png")),
        Case(path: "/bad/html.jpg", expected: .body(FixtureImages.html, contentType: "image/jpeg")),
        Case(path: "/bad/image.svg", expected: .body(FixtureImages.svg, contentType: "image/svg+xml")),
        Case(path: "/bad/image.gif", expected: .body(FixtureImages.gif, contentType: "image/gif")),
        Case(path: "/bad/bomb.png", expected: .body(FixtureImages.pngDeclaring(), contentType: "image/png")),
        Case(
            path: "/dup/a.jpg",
            expected: .body(FixtureImages.jpeg(seed: FixtureRoute.duplicateSeed), contentType: "image/jpeg")),
        Case(
            path: "/dup/b.jpg",
            expected: .body(FixtureImages.jpeg(seed: FixtureRoute.duplicateSeed), contentType: "image/jpeg")),
        Case(path: "/status/404", expected: .failure(.httpStatus, .httpStatus, status: 404)),
        Case(path: "/status/403", expected: .failure(.httpStatus, .httpStatus, status: 403)),
        Case(path: "/status/410", expected: .failure(.httpStatus, .httpStatus, status: 410)),
        Case(path: "/big?bytes=4194304", expected: .failure(.bodyTooLarge, .tooLarge, status: 200)),
        Case(path: "/big?bytes=67108864&length=0", expected: .failure(.bodyTooLarge, .tooLarge, status: 200)),
        Case(path: "/drip", expected: .failure(.tooSlow, .network, status: 200)),
        Case(path: "/redirect/12/chain.jpg", expected: .failure(.tooManyRedirects, .httpStatus, status: 302)),
        Case(path: "/private/5.jpg", expected: .failure(.robotsDisallowed, .robots, status: nil)),
        Case(path: "/noai/5.jpg", expected: .failure(.robotsTag, .robots, status: 200)),
        Case(path: "/flaky/429/always.jpg?fail=99&after=0", expected: .failure(.rateLimited, .rateLimit, status: 429)),
        Case(path: "/status/503", expected: .failure(.httpStatus, .httpStatus, status: 503)),
    ]

    @Test(arguments: badInternet)
    func badInternetCase(_ testCase: Case) async throws {
        try await withDownloader { downloader, server in
            let url = server.url(testCase.path)
            switch testCase.expected {
            case .body(let bytes, let contentType):
                let response = try await downloader.fetch(url)
                #expect(response.status == 200)
                #expect(response.body == bytes)
                #expect(response.contentType == contentType)
            case .failure(let code, let category, let status):
                let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
                #expect(error.code == code, "\(error)")
                #expect(error.category == category)
                #expect(error.status == status)
            }
        }
    }

    @Test func duplicateURLsServeIdenticalBytes() async throws {
        try await withDownloader { downloader, server in
            let first = try await downloader.fetch(server.url("/dup/a.jpg"))
            let second = try await downloader.fetch(server.url("/dup/b.jpg"))
            #expect(first.body == second.body)
            #expect(first.url != second.url)
        }
    }

    // MARK: - Body cap

    @Test func bodyCapAbortsAStreamingBodyEarly() async throws {
        let cap = 256 * 1024
        let served = 64 * 1024 * 1024
        try await withDownloader(configure: { $0.maxBodyBytes = cap }) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/big?bytes=\(served)&length=0"))
            }
            #expect(error.code == .bodyTooLarge)
            #expect(error.category == .tooLarge)
            let received = try #require(error.bytesReceived)
            #expect(received > cap)
            #expect(received <= cap + 16 * 1024)  // one CURL_MAX_WRITE_SIZE read past the cap at most
            #expect(error.attempts == 1)
            server.stop()
            #expect(server.bodyBytesSent(path: "/big") < served / 2)
        }
    }

    @Test func bodyCapRejectsADeclaredLengthBeforeTheBody() async throws {
        try await withDownloader(configure: { $0.maxBodyBytes = 1000 }) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/big?bytes=5000"))
            }
            #expect(error.code == .bodyTooLarge)
            #expect((error.bytesReceived ?? 0) == 0)
        }
    }

    @Test func perRequestCapOverridesTheConfiguration() async throws {
        try await withDownloader { downloader, server in
            let image = try await downloader.fetch(server.url("/img/9.jpg"))
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(
                    FetchRequest(url: server.url("/img/9.jpg"), maxBodyBytes: image.body.count - 1))
            }
            #expect(error.code == .bodyTooLarge)
            let exact = try await downloader.fetch(
                FetchRequest(url: server.url("/img/9.jpg"), maxBodyBytes: image.body.count))
            #expect(exact.body == image.body)
        }
    }

    // MARK: - Timeouts

    @Test func slowDripIsAbortedByTheLowSpeedLimit() async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/drip?interval_ms=200"))
            }
            #expect(error.code == .tooSlow)
            #expect(error.category == .network)
            #expect(error.attempts == 1)
            #expect(server.requestCount(path: "/drip") == 1)
        }
    }

    @Test func slowDripIsAbortedByTheTotalTimeout() async throws {
        try await withDownloader(configure: {
            $0.lowSpeedLimit = 0
            $0.totalTimeout = .milliseconds(1500)
            $0.retryPolicy = .none
        }) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/drip?interval_ms=100"))
            }
            #expect(error.code == .timedOut)
            #expect(error.category == .network)
        }
    }

    @Test func timeoutsAreRetried() async throws {
        try await withDownloader(configure: {
            $0.lowSpeedLimit = 0
            $0.totalTimeout = .milliseconds(500)
            $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10))
        }) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/drip?interval_ms=50"))
            }
            #expect(error.code == .timedOut)
            #expect(error.attempts == 2)
            #expect(server.requestCount(path: "/drip") == 2)
        }
    }

    // MARK: - Retries

    @Test func rateLimitWithRetryAfterThenSuccess() async throws {
        try await withDownloader { downloader, server in
            let response = try await downloader.fetch(server.url("/flaky/429/a.jpg?fail=1&after=1"))
            #expect(response.status == 200)
            #expect(response.attempts == 2)
            #expect(response.body == FixtureImages.jpeg(seed: FixtureRoute.seed(of: "a")))
            #expect(server.requestCount(path: "/flaky/429/a.jpg") == 2)
        }
    }

    @Test func retryAfterAsAnHTTPDateIsHonoured() async throws {
        try await withDownloader { downloader, server in
            server.route(.exact("/dated")) { request in
                request.sequence == 1
                    ? .status(503, headers: [.init("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])
                    : .text("ok")
            }
            let response = try await downloader.fetch(FetchRequest(url: server.url("/dated"), respectRobotsTag: false))
            #expect(response.attempts == 2)
            #expect(server.requestCount(path: "/dated") == 2)
        }
    }

    @Test func retryAfterBeyondTheLimitFailsAtOnce() async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/flaky/429/slow.jpg?fail=1&after=3600"))
            }
            #expect(error.code == .rateLimited)
            #expect(error.category == .rateLimit)
            #expect(error.attempts == 1)
            #expect(error.reason.contains("3600"))
            #expect(server.requestCount(path: "/flaky/429/slow.jpg") == 1)
        }
    }

    @Test func rateLimitAfterAllRetriesIsRateLimit() async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/flaky/429/b.jpg?fail=99&after=0"))
            }
            #expect(error.category == .rateLimit)
            #expect(error.attempts == 3)
            #expect(server.requestCount(path: "/flaky/429/b.jpg") == 3)
        }
    }

    @Test func serverErrorsTwiceThenSuccess() async throws {
        try await withDownloader { downloader, server in
            let response = try await downloader.fetch(server.url("/flaky/500/c.jpg"))
            #expect(response.status == 200)
            #expect(response.attempts == 3)
            #expect(server.requestCount(path: "/flaky/500/c.jpg") == 3)
        }
    }

    @Test(arguments: [400, 401, 403, 404, 410])
    func clientErrorsAreNotRetried(_ status: Int) async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/status/\(status)"))
            }
            #expect(error.code == .httpStatus)
            #expect(error.status == status)
            #expect(error.attempts == 1)
            #expect(server.requestCount(path: "/status/\(status)") == 1)
        }
    }

    @Test func connectionFailuresAreRetried() async throws {
        // A port nobody listens on: bind a server, note its port, stop it.
        let gone = try FixtureServer()
        let port = gone.port
        gone.stop()
        try await withDownloader(configure: { $0.respectRobotsTxt = false }) { downloader, _ in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch("http://127.0.0.1:\(port)/img/1.jpg")
            }
            #expect(error.code == .connectionFailed)
            #expect(error.category == .network)
            #expect(error.attempts == 3)
        }
    }

    // MARK: - Redirects

    @Test func redirectsWithinTheLimitAreFollowed() async throws {
        try await withDownloader { downloader, server in
            let response = try await downloader.fetch(server.url("/redirect/5/r.jpg"))
            #expect(response.redirectCount == 5)
            #expect(response.url == server.url("/redirect/0/r.jpg"))
            #expect(response.body == FixtureImages.jpeg(seed: FixtureRoute.seed(of: "r")))
        }
    }

    @Test func redirectChainOverTheLimitFails() async throws {
        try await withDownloader { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/redirect/6/r.jpg"))
            }
            #expect(error.code == .tooManyRedirects)
            #expect(error.category == .httpStatus)
            #expect(error.attempts == 1)
            #expect(server.requestCount(path: "/redirect/0/r.jpg") == 0)
        }
    }

    // MARK: - Concurrency, cancellation, shutdown

    @Test func manyConcurrentDownloadsThroughOneDownloader() async throws {
        try await withDownloader(configure: {
            $0.maxConcurrentTransfers = 32
            $0.maxTransfersPerHost = 32
            // 200 transfers queue behind a fixture server that renders images on demand; on a loaded
            // 2-core machine a queued transfer may wait seconds for its first byte, which is not a slow drip.
            $0.lowSpeedLimit = 0
            $0.totalTimeout = .seconds(120)
        }) { downloader, server in
            let count = 200
            let bodies = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for seed in 0..<count {
                    group.addTask {
                        let response = try await downloader.fetch(server.url("/img/\(seed).jpg?w=48&h=32"))
                        return (seed, response.body)
                    }
                }
                var bodies: [Int: [UInt8]] = [:]
                for try await (seed, body) in group { bodies[seed] = body }
                return bodies
            }
            #expect(bodies.count == count)
            for seed in 0..<count {
                #expect(bodies[seed] == FixtureImages.jpeg(seed: UInt64(seed), width: 48, height: 32))
            }
            #expect(server.requestCount(path: "/robots.txt") == 1)
            #expect(server.connectionCount <= 32)
        }
    }

    @Test func perHostLimitBoundsTransfersInFlight() async throws {
        let overlap = OverlapCounter()
        try await withDownloader(configure: {
            $0.maxTransfersPerHost = 2
            $0.respectRobotsTxt = false
        }) { downloader, server in
            server.route(.prefix("/slow/")) { _ in
                overlap.enter()
                defer { overlap.leave() }
                usleep(30_000)
                return .text("done")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<12 {
                    group.addTask { _ = try await downloader.fetch(server.url("/slow/\(index)")) }
                }
                try await group.waitForAll()
            }
            #expect(server.requestCount(path: "/slow/0") == 1)
        }
        #expect(overlap.peak <= 2)
        #expect(overlap.peak >= 1)
    }

    @Test func cancellingATaskAbortsItsTransfer() async throws {
        try await withDownloader(configure: { $0.lowSpeedLimit = 0 }) { downloader, server in
            let task = Task { try await downloader.fetch(server.url("/drip?interval_ms=50")) }
            while server.requestCount(path: "/drip") == 0 { try await Task.sleep(for: .milliseconds(10)) }
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            // The downloader keeps working after a cancellation.
            let response = try await downloader.fetch(server.url("/img/1.jpg?w=16&h=16"))
            #expect(response.status == 200)
        }
    }

    @Test func shutdownFailsTransfersInFlightAndLaterFetches() async throws {
        let server = try FixtureServer()
        defer { server.stop() }
        var configuration = testConfiguration()
        configuration.lowSpeedLimit = 0
        let downloader = try Downloader(configuration: configuration, logger: .init(label: "test"))
        let inFlight = Task { try await downloader.fetch(server.url("/drip?interval_ms=50")) }
        while server.requestCount(path: "/drip") == 0 { try await Task.sleep(for: .milliseconds(10)) }
        await downloader.shutdown()
        let result = await inFlight.result
        let error = try #require(throws: FetchError.self) { try result.get() }
        #expect(error.code == .shutDown)
        let later = try await #require(throws: FetchError.self) { try await downloader.fetch(server.url("/img/1.jpg")) }
        #expect(later.code == .shutDown)
        await downloader.shutdown()  // idempotent
    }

    // MARK: - robots.txt and X-Robots-Tag

    @Test func robotsTxtIsHonouredAndFetchedOncePerHost() async throws {
        // No stall limit: this test is about robots.txt, and on a loaded machine the fixture server's answer to
        // the last request once took longer than the suite's 2-second stall window.
        try await withDownloader(configure: { $0.lowSpeedLimit = 0 }) { downloader, server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<30 {
                    group.addTask { _ = try await downloader.fetch(server.url("/img/\(index).jpg?w=16&h=16")) }
                }
                try await group.waitForAll()
            }
            let disallowed = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/private/1.jpg"))
            }
            #expect(disallowed.code == .robotsDisallowed)
            #expect(disallowed.category == .robots)
            #expect(server.requestCount(path: "/private/1.jpg") == 0)

            let queryDisallowed = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/img/2.jpg?nocrawl"))
            }
            #expect(queryDisallowed.code == .robotsDisallowed)

            let allowedPNG = try await downloader.fetch(server.url("/private/1.png"))
            #expect(allowedPNG.status == 200)
            #expect(try await downloader.robotsAllows(server.url("/img/1.jpg")))
            #expect(try await !downloader.robotsAllows(server.url("/private/2.jpg")))

            #expect(server.requestCount(path: "/robots.txt") == 1)
        }
    }

    @Test func robotsTxtCanBeTurnedOff() async throws {
        try await withDownloader(configure: { $0.respectRobotsTxt = false }) { downloader, server in
            let response = try await downloader.fetch(server.url("/private/1.jpg?w=16&h=16"))
            #expect(response.status == 200)
            #expect(server.requestCount(path: "/robots.txt") == 0)
        }
    }

    @Test func missingRobotsTxtAllowsEverything() async throws {
        try await withDownloader { downloader, server in
            server.route(.exact("/robots.txt")) { _ in .status(404) }
            let response = try await downloader.fetch(server.url("/private/1.jpg?w=16&h=16"))
            #expect(response.status == 200)
        }
    }

    @Test func unreachableRobotsTxtDisallowsEverything() async throws {
        try await withDownloader { downloader, server in
            server.route(.exact("/robots.txt")) { _ in .status(500) }
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/img/1.jpg"))
            }
            #expect(error.code == .robotsDisallowed)
            #expect(error.category == .robots)
            #expect(server.requestCount(path: "/img/1.jpg") == 0)
            #expect(server.requestCount(path: "/robots.txt") == 3)  // retried like any 5xx, then cached
            _ = try? await downloader.fetch(server.url("/img/2.jpg"))
            #expect(server.requestCount(path: "/robots.txt") == 3)
        }
    }

    @Test func anUnreachableRobotsTxtIsFetchedAgainOnceItsErrorLifetimeHasPassed() async throws {
        let recovered = Mutex(false)
        try await withDownloader(configure: { $0.robotsErrorLifetime = .zero }) { downloader, server in
            server.route(.exact("/robots.txt")) { _ in
                recovered.withLock { $0 } ? .text("User-agent: *\nAllow: /\n") : .status(503)
            }
            await #expect(throws: FetchError.self) { try await downloader.fetch(server.url("/img/1.jpg")) }
            recovered.withLock { $0 = true }
            let response = try await downloader.fetch(server.url("/img/1.jpg"))
            #expect(response.status == 200)
        }
    }

    @Test func robotsTxtIsCheckedForTheHostARedirectLandsOn() async throws {
        let server = try FixtureServer()
        defer { server.stop() }
        server.route(.exact("/robots.txt")) { request in
            // The origin the redirect starts from allows everything; the one it lands on is the standard one.
            request.headers["host"]?.hasPrefix("other.test") == true ? .text(FixtureRoute.robotsTxt) : .status(404)
        }
        var configuration = testConfiguration()
        configuration.hostPins = [
            .init(host: "start.test", port: Int(server.port), addresses: [IPAddress(127, 0, 0, 1)]),
            .init(host: "other.test", port: Int(server.port), addresses: [IPAddress(127, 0, 0, 1)]),
        ]
        let url = "http://start.test:\(server.port)/redirect/to?location=http://other.test:\(server.port)/private/1.jpg"
        try await withDownloader(configuration: configuration) { downloader in
            let error = try await #require(throws: FetchError.self) { try await downloader.fetch(url) }
            #expect(error.code == .robotsDisallowed)
            #expect(error.category == .robots)
            #expect(server.requestCount(path: "/robots.txt") == 2)
        }
    }

    @Test func robotsTagOnAnErrorPageKeepsItsStatus() async throws {
        try await withDownloader { downloader, server in
            server.route(.exact("/gone.jpg")) { _ in .status(404, headers: [.init("X-Robots-Tag", "noindex")]) }
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/gone.jpg"))
            }
            #expect(error.code == .httpStatus)
            #expect(error.status == 404)
        }
    }

    @Test func robotsTagOptOutIsRejectedBeforeTheBodyIsDownloaded() async throws {
        let size = 48 * 1024 * 1024
        try await withDownloader(configure: { $0.maxBodyBytes = 2 * size }) { downloader, server in
            server.route(.exact("/noai-large.jpg")) { _ in
                FixtureResponse(
                    headers: [.init("Content-Type", "image/jpeg"), .init("X-Robots-Tag", "noai")],
                    body: .filler(count: size, declaresLength: true))
            }
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/noai-large.jpg"))
            }
            #expect(error.code == .robotsTag)
            server.stop()
            #expect(server.bodyBytesSent(path: "/noai-large.jpg") < size / 2)
        }
    }

    @Test(arguments: [
        ("noai", true), ("noimageai", true), ("none", true), ("noindex", true), ("PixCrawler: noai", true),
        ("otherbot: noai", false), ("nofollow", false),
    ])
    func robotsTagOptOutsAreRejected(_ tag: String, _ rejected: Bool) async throws {
        try await withDownloader { downloader, server in
            let path = "/robots-tag/3.jpg?tag=\(tag.replacingSpaces())"
            if rejected {
                let error = try await #require(throws: FetchError.self) { try await downloader.fetch(server.url(path)) }
                #expect(error.code == .robotsTag)
                #expect(error.category == .robots)
                #expect(error.reason.contains(tag.split(separator: " ").last.map(String.init) ?? tag))
            } else {
                let response = try await downloader.fetch(server.url(path))
                #expect(response.status == 200)
            }
        }
    }

    @Test func robotsTagCanBeIgnoredPerRequestAndByConfiguration() async throws {
        try await withDownloader { downloader, server in
            let response = try await downloader.fetch(
                FetchRequest(url: server.url("/noai/4.jpg"), respectRobotsTag: false))
            #expect(response.body == FixtureImages.jpeg(seed: 4))
        }
        try await withDownloader(configure: { $0.respectRobotsTag = false }) { downloader, server in
            let response = try await downloader.fetch(server.url("/noai/4.jpg"))
            #expect(response.body == FixtureImages.jpeg(seed: 4))
        }
    }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(flatMap { $0 == " " ? Array("%20") : [$0] })
    }
}
