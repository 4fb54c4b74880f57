import PixCore
import PixFetch
import PixFixtures
import PixSources
import Synchronization
import Testing

@Suite struct OpenverseSourceTests {
    static let corpus = FixtureSearchCorpus(counts: ["red fox": 45, "arctic fox": 1000, "nothing": 0])

    /// Runs `body` with an Openverse fixture and a source pointed at it.
    func withOpenverse<Result>(
        clientID: String? = nil, clientSecret: String? = nil, tokenLifetime: Int = 43_200,
        configure: (inout OpenverseSource.Configuration) -> Void = { _ in },
        _ body: (OpenverseSource, OpenverseFixture, FixtureServer) async throws -> Result
    ) async throws -> Result {
        let fixture = OpenverseFixture(
            corpus: Self.corpus, clientID: clientID, clientSecret: clientSecret, tokenLifetime: tokenLifetime)
        return try await withFixtureServer(routes: FixtureRoute.openverse(fixture)) { server, downloader in
            var configuration = OpenverseSource.Configuration(baseURL: server.baseURL)
            if let clientID, let clientSecret {
                configuration.credentials = .init(clientID: clientID, clientSecret: clientSecret)
            }
            configuration.retryPolicy = fastRetries
            configure(&configuration)
            let source = OpenverseSource(configuration: configuration, downloader: downloader, logger: testLogger)
            return try await body(source, fixture, server)
        }
    }

    // MARK: - Paging

    @Test func pagesThroughAKeywordUntilItRunsDry() async throws {
        try await withOpenverse { source, _, server in
            let pages = try await allPages(of: source, keyword: "red fox", range: 0..<400)
            #expect(pages.count == 3)
            #expect(pages.flatMap(\.candidates).map(\.position) == Array(0..<45))
            #expect(pages.map(\.nextCursor) == ["20", "40", nil])
            #expect(pages.map(\.exhausted) == [false, false, true])
            #expect(pages.allSatisfy { $0.totalAvailable == 45 })

            let sent = requests(server, path: "/v1/images/")
            #expect(sent.map { $0.query["page"] } == ["1", "2", "3"])
            #expect(sent.allSatisfy { $0.query["q"] == "red fox" && $0.query["page_size"] == "20" })
            #expect(sent.allSatisfy { $0.headers["authorization"] == nil })
        }
    }

    @Test func aChunkNotAlignedWithPagesGetsOnlyItsOwnPositions() async throws {
        try await withOpenverse { source, _, server in
            let pages = try await allPages(of: source, keyword: "arctic fox", range: 30..<50)
            #expect(pages.map { $0.candidates.map(\.position) } == [Array(30..<40), Array(40..<50)])
            #expect(pages.map(\.nextCursor) == ["40", nil])
            #expect(pages.map(\.exhausted) == [false, false])
            #expect(requests(server, path: "/v1/images/").map { $0.query["page"] } == ["2", "3"])
        }
    }

    @Test func resumingFromACursorGivesTheSameContinuation() async throws {
        try await withOpenverse { source, _, _ in
            let uninterrupted = try await allPages(of: source, keyword: "arctic fox", range: 0..<60)
            let resumed = try await source.page(keyword: "arctic fox", range: 0..<60, cursor: "20")
            let resumedAgain = try await source.page(keyword: "arctic fox", range: 0..<60, cursor: "20")
            #expect(resumed == uninterrupted[1])
            #expect(resumedAgain == resumed)
        }
    }

    @Test func pageDepthLimitsPlanningAndEndsTheKeyword() async throws {
        try await withOpenverse { source, _, server in
            #expect(source.pageSize == 20)
            #expect(source.maxDepth == 240)
            let last = try await source.page(keyword: "arctic fox", range: 220..<500, cursor: nil)
            #expect(last.candidates.map(\.position) == Array(220..<240))
            #expect(last.exhausted)
            #expect(last.nextCursor == nil)

            let before = server.totalRequestCount
            let beyond = try await source.page(keyword: "arctic fox", range: 240..<260, cursor: nil)
            #expect(beyond.candidates.isEmpty && beyond.exhausted && beyond.nextCursor == nil)
            #expect(server.totalRequestCount == before)
        }
    }

    @Test func aKeywordWithoutResultsIsExhaustedAtOnce() async throws {
        try await withOpenverse { source, _, _ in
            let page = try await source.page(keyword: "nothing", range: 0..<50, cursor: nil)
            #expect(page.candidates.isEmpty)
            #expect(page.exhausted)
            #expect(page.nextCursor == nil)
            #expect(page.totalAvailable == 0)
        }
    }

    @Test func mapsLicenseCreatorAndLandingPage() async throws {
        try await withOpenverse { source, _, server in
            let page = try await source.page(keyword: "red fox", range: 0..<3, cursor: nil)
            #expect(page.candidates.count == 3)
            for candidate in page.candidates {
                let item = FixtureSearchItem(keyword: "red fox", position: candidate.position, baseURL: server.baseURL)
                #expect(candidate.url == item.imageURL)
                #expect(candidate.keyword == "red fox")
                #expect(candidate.source == "openverse")
                #expect(candidate.license == item.license)
                #expect(candidate.licenseVersion == item.licenseVersion)
                #expect(candidate.creator == item.creator)
                #expect(candidate.landingURL == item.landingURL)
                #expect(candidate.title == item.title)
                #expect(candidate.declaredWidth == item.width)
                #expect(candidate.declaredHeight == item.height)
            }
            #expect(page.candidates[0].license == "by" && page.candidates[0].licenseVersion == "4.0")
            #expect(page.candidates[1].license == "by-sa")
            // Openverse sends `"filesize": null` for some results.
            #expect(page.candidates[2].declaredBytes == nil)
            #expect(page.candidates[0].declaredBytes != nil)
        }
    }

    @Test func sendsAUserAgentNamingPixCrawler() async throws {
        try await withOpenverse { source, _, server in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let sent = try #require(requests(server, path: "/v1/images/").first)
            #expect(sent.headers["user-agent"] == PixCrawlVersion.userAgent())
            #expect(sent.headers["user-agent"]?.hasPrefix("PixCrawler/") == true)
            #expect(sent.headers["accept"] == "application/json")
            // An API request does not consult robots.txt.
            #expect(requests(server, path: "/robots.txt").isEmpty)
        }
    }

    @Test func refusesACursorOutsideTheRange() async throws {
        try await withOpenverse { source, _, _ in
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: "page-3")
            }
            #expect(error.code == .invalidCursor)
            #expect(error.category == .source)
        }
    }

    // MARK: - Tokens

    @Test func obtainsATokenOnceAndReusesIt() async throws {
        try await withOpenverse(clientID: "pixcrawl-test", clientSecret: "s3cret-value") { source, fixture, server in
            #expect(source.isAuthenticated)
            #expect(source.pageSize == 50)
            #expect(source.maxDepth == 240)
            _ = try await source.page(keyword: "arctic fox", range: 0..<240, cursor: nil)
            _ = try await source.page(keyword: "arctic fox", range: 0..<240, cursor: "50")
            #expect(fixture.tokensIssued == 1)

            let tokenRequest = try #require(requests(server, path: "/v1/auth_tokens/token/").first)
            #expect(tokenRequest.method == "POST")
            #expect(tokenRequest.headers["content-type"] == "application/x-www-form-urlencoded")
            let form = String(decoding: tokenRequest.body, as: UTF8.self)
            #expect(form.contains("grant_type=client_credentials"))
            #expect(form.contains("client_id=pixcrawl-test"))

            let searches = requests(server, path: "/v1/images/")
            #expect(searches.count == 2)
            #expect(searches.allSatisfy { $0.headers["authorization"] == "Bearer fixture-token-1" })
            #expect(searches.allSatisfy { $0.query["page_size"] == "50" })
        }
    }

    @Test func concurrentPagesShareOneTokenRequest() async throws {
        try await withOpenverse(clientID: "pixcrawl-test", clientSecret: "s3cret-value") { source, fixture, _ in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await source.page(
                            keyword: "arctic fox", range: index * 50..<(index + 1) * 50, cursor: nil
                        )
                        .candidates.count
                    }
                }
                for try await count in group { #expect(count == 50) }
            }
            #expect(fixture.tokensIssued == 1)
        }
    }

    @Test func refreshesATokenThatNearsExpiry() async throws {
        // Tokens live 30 s and are replaced 60 s before they expire: every request needs a new one.
        try await withOpenverse(clientID: "id", clientSecret: "secret", tokenLifetime: 30) { source, fixture, server in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            #expect(fixture.tokensIssued == 2)
            let tokens = requests(server, path: "/v1/images/").map { $0.headers["authorization"] }
            #expect(tokens == ["Bearer fixture-token-1", "Bearer fixture-token-2"])
        }
    }

    @Test func replacesATokenTheAPIRefuses() async throws {
        try await withOpenverse(clientID: "id", clientSecret: "secret") { source, fixture, server in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            fixture.revokeTokens()
            let page = try await source.page(keyword: "red fox", range: 20..<40, cursor: nil)
            #expect(page.candidates.map(\.position) == Array(20..<40))
            #expect(fixture.tokensIssued == 2)
            let tokens = requests(server, path: "/v1/images/").map { $0.headers["authorization"] }
            #expect(tokens == ["Bearer fixture-token-1", "Bearer fixture-token-1", "Bearer fixture-token-2"])
        }
    }

    @Test func refusedCredentialsGiveAClearErrorWithoutTheSecret() async throws {
        let fixture = OpenverseFixture(corpus: Self.corpus, clientID: "right-id", clientSecret: "right-secret")
        try await withFixtureServer(routes: FixtureRoute.openverse(fixture)) { server, downloader in
            var configuration = OpenverseSource.Configuration(
                baseURL: server.baseURL, credentials: .init(clientID: "wrong-id", clientSecret: "wrong-secret-value"))
            configuration.retryPolicy = fastRetries
            let source = OpenverseSource(configuration: configuration, downloader: downloader, logger: testLogger)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .authenticationFailed)
            #expect(error.category == .source)
            #expect(error.status == 401)
            #expect(error.source == "openverse")
            #expect(error.description.contains("PIXCRAWL_OPENVERSE_CLIENT_ID"))
            #expect(!error.description.contains("wrong-secret-value"))
            #expect(requests(server, path: "/v1/images/").isEmpty)
        }
    }

    @Test func anonymousPagesLargerThanTwentyAreExplained() async throws {
        try await withOpenverse(configure: { $0.anonymousPageSize = 50 }) { source, _, _ in
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<50, cursor: nil)
            }
            #expect(error.code == .limitExceeded)
            #expect(error.keyword == "red fox")
            #expect(error.description.contains("at most 20 results per page"))
        }
    }

    // MARK: - Limits of the real API

    @Test func anAuthenticatedCrawlReachesTheLastOfTheResultsServed() async throws {
        try await withOpenverse(clientID: "id", clientSecret: "secret") { source, _, server in
            let pages = try await allPages(of: source, keyword: "arctic fox", range: 0..<240)
            #expect(pages.flatMap(\.candidates).map(\.position) == Array(0..<240))
            #expect(pages.last?.exhausted == true)
            let sent = requests(server, path: "/v1/images/").map { "\($0.query["page"] ?? "")x\($0.query["page_size"] ?? "")" }
            #expect(sent == ["1x50", "2x50", "3x50", "4x50", "5x48"])
        }
    }

    @Test func theResultCountIsCappedLikeTheRealAPI() async throws {
        try await withOpenverse { source, _, _ in
            let page = try await source.page(keyword: "arctic fox", range: 0..<20, cursor: nil)
            #expect(page.totalAvailable == 240)
        }
    }

    @Test func a401ForALimitIsNotTakenForARefusedToken() async throws {
        try await withOpenverse(
            clientID: "id", clientSecret: "secret", configure: { $0.authenticatedPageSize = 100 }
        ) { source, fixture, server in
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "arctic fox", range: 0..<100, cursor: nil)
            }
            #expect(error.code == .limitExceeded)
            #expect(error.status == 401)
            #expect(error.description.contains("not a credential problem"))
            #expect(error.description.contains("PIXCRAWL_OPENVERSE_PAGE_SIZE"))
            #expect(fixture.tokensIssued == 1)
            #expect(requests(server, path: "/v1/images/").count == 1)
        }
    }

    @Test func aPageReachingPastTheDepthIsALimitError() async throws {
        try await withOpenverse(configure: { $0.maxResults = 400 }) { source, _, _ in
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "arctic fox", range: 240..<260, cursor: nil)
            }
            #expect(error.code == .limitExceeded)
            #expect(error.description.contains("240"))
        }
    }

    @Test func aPrivilegedApplicationCanRaiseTheLimits() async throws {
        let fixture = OpenverseFixture(
            corpus: Self.corpus, clientID: "id", clientSecret: "secret", authenticatedMaxPageSize: 240,
            maxResults: 1000)
        try await withFixtureServer(routes: FixtureRoute.openverse(fixture)) { server, downloader in
            var configuration = OpenverseSource.Configuration(
                baseURL: server.baseURL, credentials: .init(clientID: "id", clientSecret: "secret"))
            configuration.authenticatedPageSize = 200
            configuration.maxResults = 1000
            let source = OpenverseSource(configuration: configuration, downloader: downloader, logger: testLogger)
            #expect(source.maxDepth == 1000)
            let page = try await source.page(keyword: "arctic fox", range: 800..<1000, cursor: nil)
            #expect(page.candidates.map(\.position) == Array(800..<1000))
        }
    }

    @Test func authenticatedAnswersReportTheirRateLimits() async throws {
        try await withOpenverse(clientID: "id", clientSecret: "secret") { source, _, _ in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let burst = source.rateLimitReadings.first { $0.scope == "oauth2_client_credentials_burst" }
            #expect(burst == RateLimitReading(scope: "oauth2_client_credentials_burst", available: 99, limit: "100/min"))
        }
    }

    // MARK: - Rate limits and bad answers

    @Test func a429HandsItsRetryAfterBackInsteadOfSleeping() async throws {
        try await withOpenverse { source, fixture, server in
            fixture.respondTooManyRequests(times: 1, retryAfter: 3600)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .rateLimited)
            #expect(error.category == .rateLimit)
            #expect(error.status == 429)
            #expect(error.retryAfter == .seconds(3600))
            #expect(error.description.contains("openverse") && error.description.contains("red fox"))
            #expect(requests(server, path: "/v1/images/").count == 1)
        }
    }

    @Test func aRetryAfterHoldsLaterPagesWithoutARequest() async throws {
        try await withOpenverse(configure: { $0.maxRateLimitWait = .seconds(1) }) { source, fixture, server in
            fixture.respondTooManyRequests(times: 1)
            _ = try? await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 20..<40, cursor: nil)
            }
            #expect(error.code == .rateLimited)
            #expect(error.retryAfter.map { $0 > .zero && $0 <= .seconds(5) } == true)
            #expect(requests(server, path: "/v1/images/").count == 1)
        }
    }

    @Test func aLongRetryAfterIsBounded() async throws {
        try await withOpenverse(configure: { $0.maxRetryAfter = .seconds(600) }) { source, fixture, _ in
            fixture.respondTooManyRequests(times: 1, retryAfter: 86_400)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.retryAfter == .seconds(600))
        }
    }

    @Test func aUsedUpDailyLimitFailsWithoutAnotherRequest() async throws {
        try await withOpenverse { source, fixture, server in
            fixture.setRateLimitHeaders([
                .init("X-RateLimit-Limit-anon_burst", "20/min"), .init("X-RateLimit-Available-anon_burst", "12"),
                .init("X-RateLimit-Limit-anon_sustained", "200/day"),
                .init("X-RateLimit-Available-anon_sustained", "0"),
            ])
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 20..<40, cursor: nil)
            }
            #expect(error.code == .rateLimited)
            #expect(error.category == .rateLimit)
            #expect(error.description.contains("PIXCRAWL_OPENVERSE_CLIENT_ID"))
            #expect(error.retryAfter.map { $0 > .seconds(86_000) } == true)
            #expect(requests(server, path: "/v1/images/").count == 1)
        }
    }

    @Test func aUsedUpShortWindowIsWaitedFor() async throws {
        try await withOpenverse { source, fixture, server in
            fixture.setRateLimitHeaders([
                .init("X-RateLimit-Limit-anon_burst", "1/second"), .init("X-RateLimit-Available-anon_burst", "0"),
            ])
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let second = try await source.page(keyword: "red fox", range: 20..<40, cursor: nil)
            #expect(second.candidates.map(\.position) == Array(20..<40))
            #expect(requests(server, path: "/v1/images/").count == 2)
        }
    }

    @Test func malformedJSONIsAClearSourceError() async throws {
        try await withOpenverse { source, fixture, _ in
            fixture.respondMalformed(times: 1)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .malformedResponse)
            #expect(error.category == .source)
            #expect(error.description.hasPrefix("SOURCE: source 'openverse' (keyword 'red fox')"))
            #expect(error.description.contains("not the expected JSON"))
        }
    }

    @Test func aServerErrorIsASourceErrorNamingTheStatus() async throws {
        try await withOpenverse { source, _, server in
            server.route(.exact("/v1/images/")) { _ in .status(503) }
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .requestFailed)
            #expect(error.status == 503)
            #expect(error.category == .source)
        }
    }
}
