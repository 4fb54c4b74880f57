import PixCore
import PixFetch
import PixFixtures
import PixSources
import Testing

@Suite struct CommonsSourceTests {
    static let corpus = FixtureSearchCorpus(counts: ["red fox": 45, "arctic fox": 300, "nothing": 0])

    /// Runs `body` with a Commons fixture and a source pointed at it (20 results per request).
    func withCommons<Result>(
        configure: (inout CommonsSource.Configuration) -> Void = { _ in },
        _ body: (CommonsSource, CommonsFixture, FixtureServer) async throws -> Result
    ) async throws -> Result {
        let fixture = CommonsFixture(corpus: Self.corpus)
        return try await withFixtureServer(routes: FixtureRoute.commons(fixture)) { server, downloader in
            var configuration = CommonsSource.Configuration(baseURL: fixture.endpoint(on: server))
            configuration.pageSize = 20
            configuration.retryPolicy = fastRetries
            configuration.maxlagDefaultWait = .milliseconds(10)
            configure(&configuration)
            let source = CommonsSource(configuration: configuration, downloader: downloader, logger: testLogger)
            return try await body(source, fixture, server)
        }
    }

    @Test func pagesWithGsroffsetAndRestoresSearchOrder() async throws {
        try await withCommons { source, _, server in
            let pages = try await allPages(of: source, keyword: "red fox", range: 0..<100)
            #expect(pages.map(\.nextCursor) == ["20", "40", nil])
            #expect(pages.map(\.exhausted) == [false, false, true])
            let candidates = pages.flatMap(\.candidates)
            #expect(candidates.map(\.position) == Array(0..<45))
            // The API lists pages by page id; the source puts them back in search order.
            #expect(candidates.map(\.title) == (0..<45).map { "red fox \($0)" })

            let sent = requests(server, path: "/w/api.php")
            #expect(sent.map { $0.query["gsroffset"] } == ["0", "20", "40"])
            for request in sent {
                #expect(request.query["action"] == "query")
                #expect(request.query["generator"] == "search")
                #expect(request.query["gsrsearch"] == "red fox filetype:bitmap")
                #expect(request.query["gsrnamespace"] == "6")
                #expect(request.query["gsrlimit"] == "20")
                #expect(request.query["prop"] == "imageinfo")
                #expect(request.query["iiprop"] == "url|size|mime|extmetadata")
                #expect(request.query["format"] == "json")
                #expect(request.query["formatversion"] == "2")
                #expect(request.query["maxlag"] == "5")
            }
        }
    }

    @Test func positionsComeFromTheAPIsIndexSoALeftOutResultShiftsNothing() async throws {
        try await withCommons { source, fixture, _ in
            fixture.setMergedPositions([3])
            let page = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            #expect(page.candidates.map(\.position) == [0, 1, 2] + Array(4..<20))
            #expect(page.candidates.map(\.title) == ([0, 1, 2] + Array(4..<20)).map { "red fox \($0)" })
        }
    }

    @Test func thumbnailsAreCrawledWhenABoundedWidthIsEnough() async throws {
        try await withCommons(configure: { $0.thumbnailWidth = 80 }) { source, _, server in
            let page = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            #expect(requests(server, path: "/w/api.php").allSatisfy { $0.query["iiurlwidth"] == "80" })
            for candidate in page.candidates {
                let item = FixtureSearchItem(keyword: "red fox", position: candidate.position, baseURL: server.baseURL)
                let width = try #require(candidate.declaredWidth)
                #expect(width == min(80, item.width))
                if item.width > 80 {
                    #expect(candidate.url != item.imageURL && candidate.url.contains("w=80&"))
                    #expect(candidate.declaredBytes == nil)
                } else {
                    #expect(candidate.url == item.imageURL)
                }
            }
            #expect(
                page.candidates.contains {
                    $0.url != FixtureSearchItem(keyword: "red fox", position: $0.position, baseURL: server.baseURL).imageURL
                })
        }
    }

    @Test func theSearchFilterCanBeTurnedOff() async throws {
        try await withCommons(configure: { $0.searchFilter = nil }) { source, _, server in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            #expect(requests(server, path: "/w/api.php").first?.query["gsrsearch"] == "red fox")
        }
    }

    @Test func honoursTheOffsetTheAPIContinuesWith() async throws {
        try await withCommons { source, _, server in
            // A hand-written answer whose continuation skips ahead (as CirrusSearch may after filtering).
            server.route(.exact("/w/api.php")) { request in
                let offset = request.intQuery("gsroffset", default: 0)
                guard offset == 0 else {
                    return .json(#"{"batchcomplete": true, "query": {"pages": []}}"#)
                }
                return .json(
                    """
                    {"batchcomplete": true, "continue": {"gsroffset": 37, "continue": "gsroffset||"},
                     "query": {"pages": [
                      {"pageid": 9, "ns": 6, "title": "File:Second.jpg", "index": 2, "imageinfo": [
                        {"url": "\(request.baseURL)/img/2.jpg", "descriptionurl": "\(request.baseURL)/wiki/File:Second.jpg",
                         "width": 10, "height": 20, "size": 300, "mime": "image/jpeg"}]},
                      {"pageid": 5, "ns": 6, "title": "File:First.png", "index": 1, "imageinfo": [
                        {"url": "\(request.baseURL)/img/1.png", "descriptionurl": "\(request.baseURL)/wiki/File:First.png",
                         "width": 30, "height": 40, "size": 500, "mime": "image/png"}]}
                     ]}}
                    """)
            }
            let first = try await source.page(keyword: "red fox", range: 0..<100, cursor: nil)
            #expect(first.nextCursor == "37")
            #expect(!first.exhausted)
            #expect(first.candidates.map(\.title) == ["First", "Second"])
            #expect(first.candidates.map(\.position) == [0, 1])
            #expect(first.candidates.map(\.declaredWidth) == [30, 10])

            let second = try await source.page(keyword: "red fox", range: 0..<100, cursor: first.nextCursor)
            #expect(requests(server, path: "/w/api.php").last?.query["gsroffset"] == "37")
            #expect(second.candidates.isEmpty)
            #expect(second.exhausted)
            #expect(second.nextCursor == nil)
        }
    }

    @Test func resumingFromACursorGivesTheSameContinuation() async throws {
        try await withCommons { source, _, _ in
            let uninterrupted = try await allPages(of: source, keyword: "arctic fox", range: 0..<60)
            let resumed = try await source.page(keyword: "arctic fox", range: 0..<60, cursor: "20")
            #expect(resumed == uninterrupted[1])
            #expect(uninterrupted.map(\.nextCursor) == ["20", "40", nil])
            #expect(uninterrupted.map(\.exhausted) == [false, false, false])
        }
    }

    @Test func aRequestNeverReachesPastTheChunk() async throws {
        try await withCommons { source, _, server in
            let page = try await source.page(keyword: "arctic fox", range: 50..<57, cursor: nil)
            #expect(page.candidates.map(\.position) == Array(50..<57))
            #expect(page.nextCursor == nil)
            let sent = try #require(requests(server, path: "/w/api.php").first)
            #expect(sent.query["gsroffset"] == "50")
            #expect(sent.query["gsrlimit"] == "7")
        }
    }

    @Test func mapsLicenseCreatorAndDescriptionPage() async throws {
        try await withCommons { source, _, server in
            let page = try await source.page(keyword: "red fox", range: 0..<5, cursor: nil)
            #expect(page.candidates.count == 5)
            for candidate in page.candidates {
                let item = FixtureSearchItem(keyword: "red fox", position: candidate.position, baseURL: server.baseURL)
                #expect(candidate.url == item.imageURL)
                #expect(candidate.source == "commons")
                #expect(candidate.keyword == "red fox")
                #expect(candidate.license == item.licenseShortName)
                // `Artist` is HTML (`<a href=…>Photographer 0 &amp; Friends</a>`): tags and entities are removed.
                #expect(candidate.creator == item.creator)
                #expect(candidate.landingURL == server.url("/wiki/File:red_fox_\(candidate.position).\(item.fileType)"))
                #expect(candidate.title == item.title)
                #expect(candidate.declaredWidth == item.width)
                #expect(candidate.declaredHeight == item.height)
                #expect(candidate.declaredBytes == item.fileSize)
            }
            #expect(page.candidates[0].license == "CC BY 4.0")
            #expect(page.candidates[0].creator == "Photographer 0 & Friends")
        }
    }

    @Test func aKeywordWithoutResultsIsExhausted() async throws {
        try await withCommons { source, _, _ in
            let page = try await source.page(keyword: "nothing", range: 0..<50, cursor: nil)
            #expect(page.candidates.isEmpty)
            #expect(page.exhausted)
            #expect(page.nextCursor == nil)
        }
    }

    @Test func retriesMaxlagErrors() async throws {
        try await withCommons { source, fixture, server in
            fixture.respondMaxlag(times: 2, retryAfter: 0)
            let page = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            #expect(page.candidates.count == 20)
            #expect(requests(server, path: "/w/api.php").count == 3)
        }
    }

    @Test func persistentMaxlagFailsWithAClearError() async throws {
        try await withCommons(configure: { $0.maxlagRetries = 2 }) { source, fixture, server in
            fixture.respondMaxlag(times: 100, retryAfter: 0)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .apiError)
            #expect(error.category == .source)
            #expect(error.description.contains("lagging"))
            #expect(error.description.contains("'commons' (keyword 'red fox')"))
            #expect(requests(server, path: "/w/api.php").count == 3)
        }
    }

    @Test func otherAPIErrorsAreReportedWithTheirCode() async throws {
        try await withCommons { source, fixture, _ in
            fixture.respondError(times: 1, code: "ratelimited", info: "You've exceeded your rate limit.")
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .apiError)
            #expect(error.message.contains("'ratelimited'"))
            #expect(error.message.contains("exceeded your rate limit"))
        }
    }

    @Test func malformedJSONIsAClearSourceError() async throws {
        try await withCommons { source, fixture, _ in
            fixture.respondMalformed(times: 1)
            let error = try await #require(throws: SourceError.self) {
                try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            }
            #expect(error.code == .malformedResponse)
            #expect(error.category == .source)
            #expect(error.description.contains("not the expected JSON"))
        }
    }

    @Test func followsImageInfoContinuationWithinABatch() async throws {
        try await withCommons { source, fixture, server in
            fixture.setImageInfoPerResponse(7)
            let page = try await source.page(keyword: "arctic fox", range: 0..<100, cursor: nil)
            #expect(page.candidates.map(\.position) == Array(0..<20))
            #expect(page.candidates.allSatisfy { !$0.url.isEmpty && $0.license != nil })
            #expect(page.nextCursor == "20")
            let sent = requests(server, path: "/w/api.php")
            #expect(sent.map { $0.query["iicontinue"] } == [nil, "7", "14"])
            #expect(sent.allSatisfy { $0.query["gsroffset"] == "0" })
        }
    }

    @Test func sendsOneRequestAtATime() async throws {
        try await withCommons { source, fixture, _ in
            fixture.setResponseDelay(.milliseconds(40))
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try await source.page(keyword: "arctic fox", range: index * 20..<(index + 1) * 20, cursor: nil)
                            .candidates.count
                    }
                }
                for try await count in group { #expect(count == 20) }
            }
            #expect(fixture.peakConcurrentRequests == 1)
        }
    }

    @Test func sendsAUserAgentNamingPixCrawler() async throws {
        try await withCommons { source, _, server in
            _ = try await source.page(keyword: "red fox", range: 0..<20, cursor: nil)
            let sent = try #require(requests(server, path: "/w/api.php").first)
            #expect(sent.headers["user-agent"] == PixCrawlVersion.userAgent())
            #expect(sent.headers["user-agent"]?.contains("PixCrawler/\(PixCrawlVersion.current)") == true)
            #expect(requests(server, path: "/robots.txt").isEmpty)
        }
    }
}
