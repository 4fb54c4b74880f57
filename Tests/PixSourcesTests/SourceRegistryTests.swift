import Foundation
import PixCore
import PixDemo
import PixFetch
import PixFixtures
import PixSources
import PixValidate
import Testing

@Suite struct SourceRegistryTests {
    @Test(arguments: [
        ("openverse", SourceSpec.openverse), (" Commons ", .commons(thumbnailWidth: nil)), ("demo", .demo), ("DEMO", .demo),
        ("commons?width=640", .commons(thumbnailWidth: 640)),
        ("commons?height=480&width=640", .commons(thumbnailWidth: 640, thumbnailHeight: 480)),
        ("urls:/data/list.csv", .urls(path: "/data/list.csv")),
        ("URLS: rel/My List.txt", .urls(path: "rel/My List.txt")),
    ])
    func parsesSpecifications(_ text: String, _ expected: SourceSpec) throws {
        let spec = try SourceSpec(parsing: text)
        #expect(spec == expected)
        #expect(try SourceSpec(parsing: spec.description) == spec)
    }

    @Test func namesAndCanonicalForms() {
        #expect(SourceSpec.urls(path: "a.csv").name == "urls")
        #expect(SourceSpec.urls(path: "a.csv").description == "urls:a.csv")
        #expect(SourceSpec.default == .openverse)
        #expect(SourceSpec.commons(thumbnailWidth: nil).description == "commons")
    }

    @Test(arguments: ["flickr", "", "urls:", "urls:   ", "openverse2"])
    func refusesUnknownSpecifications(_ text: String) throws {
        let error = try #require(throws: SourceError.self) { try SourceSpec(parsing: text) }
        #expect(error.code == .invalidSpec)
        #expect(error.category == .source)
        #expect(error.description.contains("urls:"))
    }

    @Test(
        "a Commons width or height outside 1…20,000 or another Commons option is refused",
        arguments: [
            "commons?width=0", "commons?width=20001", "commons?width=", "commons?depth=300", "commons?height=0",
            "commons?width=5&width=6",
        ])
    func refusesBadCommonsOptions(_ text: String) throws {
        let error = try #require(throws: SourceError.self) { try SourceSpec(parsing: text) }
        #expect(error.code == .invalidSpec)
        #expect(error.description.contains("width=N"))
    }

    @Test(
        "commons?width=N / ?height=N asks Commons for thumbnails in that box, and what is downloaded fits it",
        arguments: [("commons?width=120", 120, nil), ("commons?height=90", nil, 90)] as [(String, Int?, Int?)])
    func commonsThumbnailsOfTheSpecsBox(spec: String, width: Int?, height: Int?) async throws {
        let commons = CommonsFixture(corpus: FixtureSearchCorpus(counts: ["fox": 30]))
        try await withFixtureServer(routes: FixtureRoute.commons(commons)) { server, downloader in
            let registry = SourceRegistry(
                downloader: downloader,
                environment: [
                    "PIXCRAWL_COMMONS_URL": commons.endpoint(on: server), "PIXCRAWL_CONTACT": "crawler-ops@example.org",
                ], logger: testLogger)
            defer { registry.shutdown() }
            let page = try await registry.source(for: spec).page(keyword: "fox", range: 0..<20, cursor: nil)
            let searches = requests(server, path: "/w/api.php")
            #expect(!searches.isEmpty)
            #expect(searches.allSatisfy { $0.query["iiurlwidth"] == width.map(String.init) })
            #expect(searches.allSatisfy { $0.query["iiurlheight"] == height.map(String.init) })
            let large = try #require(
                page.candidates.first { candidate in
                    let item = FixtureSearchItem(keyword: "fox", position: candidate.position, baseURL: server.baseURL)
                    return item.width > (width ?? 0) && item.height > (height ?? 0)
                })
            let image = try await downloader.fetch(large.url)
            #expect(image.status == 200)
            let header = try ImageDecoder.readHeader(image.body, format: try #require(ImageSniffer.format(of: image.body)))
            #expect(header.width == large.declaredWidth, "the file stored is the thumbnail, not the original")
            if let width { #expect(header.width == width) }
            if let height { #expect((height - 1...height).contains(header.height)) }
        }
    }

    /// Registry options with the offline demo, as `pixcrawl` sets them.
    static var withDemo: SourceRegistry.Options {
        var options = SourceRegistry.Options()
        options.demo = { logger in DemoSource(logger: logger) }
        return options
    }

    @Test func createsEachSourceOnceWithEnvironmentOverrides() async throws {
        let openverse = OpenverseFixture(
            corpus: FixtureSearchCorpus(counts: ["fox": 30]), clientID: "env-id", clientSecret: "env-secret")
        let commons = CommonsFixture(corpus: FixtureSearchCorpus(counts: ["fox": 30]))
        try await withFixtureServer(routes: FixtureRoute.openverse(openverse) + FixtureRoute.commons(commons)) {
            server, downloader in
            let registry = SourceRegistry(
                downloader: downloader,
                environment: [
                    "PIXCRAWL_OPENVERSE_URL": server.baseURL, "PIXCRAWL_COMMONS_URL": commons.endpoint(on: server),
                    "PIXCRAWL_CONTACT": "crawler-ops@example.org",
                    "PIXCRAWL_OPENVERSE_CLIENT_ID": "env-id", "PIXCRAWL_OPENVERSE_CLIENT_SECRET": "env-secret",
                ], options: Self.withDemo, logger: testLogger)
            defer { registry.shutdown() }

            let first = try registry.source(for: "openverse")
            let again = try registry.source(for: SourceSpec.openverse)
            #expect(ObjectIdentifier(first as AnyObject) == ObjectIdentifier(again as AnyObject))
            let openversePage = try await first.page(keyword: "fox", range: 0..<100, cursor: nil)
            #expect(openversePage.candidates.count == 30)
            #expect(openverse.tokensIssued == 1)

            let commonsSource = try registry.source(for: "commons")
            #expect(commonsSource.name == "commons")
            let commonsPage = try await allPages(of: commonsSource, keyword: "fox", range: 0..<100)
            #expect(commonsPage.flatMap(\.candidates).count == 30)

            let demo = try registry.source(for: "demo")
            #expect(demo is DemoSource)
            #expect(demo.maxDepth == 10_000)
        }
    }

    @Test func aMissingURLListIsReportedWhenTheSourceIsCreated() async throws {
        try await withFixtureServer { _, downloader in
            let registry = SourceRegistry(downloader: downloader, environment: [:], logger: testLogger)
            let error = try #require(throws: SourceError.self) {
                try registry.source(for: "urls:/nonexistent/pixcrawl/list.csv")
            }
            #expect(error.code == .fileUnreadable)
            #expect(error.description.contains("/nonexistent/pixcrawl/list.csv"))
        }
    }

    @Test(arguments: ["openverse", "commons"])
    func providersAreRefusedWithoutTheOperatorsContact(spec: String) async throws {
        try await withFixtureServer { _, downloader in
            let registry = SourceRegistry(downloader: downloader, environment: [:], logger: testLogger)
            let error = try #require(throws: SourceError.self) { try registry.source(for: spec) }
            #expect(error.code == .contactRequired)
            #expect(error.description.contains("PIXCRAWL_CONTACT"))
            #expect(error.description.contains("User-Agent"))
        }
    }

    @Test func privilegedOpenverseLimitsAndCommonsThumbnailsComeFromTheEnvironment() async throws {
        try await withFixtureServer { _, downloader in
            let registry = SourceRegistry(
                downloader: downloader,
                environment: [
                    "PIXCRAWL_CONTACT": "ops@example.org", "PIXCRAWL_OPENVERSE_CLIENT_ID": "id",
                    "PIXCRAWL_OPENVERSE_CLIENT_SECRET": "secret", "PIXCRAWL_OPENVERSE_PAGE_SIZE": "200",
                    "PIXCRAWL_OPENVERSE_MAX_RESULTS": "1000", "PIXCRAWL_COMMONS_THUMBNAIL_WIDTH": "1024",
                ], logger: testLogger)
            let openverse = try #require(try registry.source(for: "openverse") as? OpenverseSource)
            #expect(openverse.pageSize == 200 && openverse.maxDepth == 1000)
            let commons = try #require(try registry.source(for: "commons") as? CommonsSource)
            #expect(commons.configuration.thumbnailWidth == 1024)
        }
    }

    @Test func theDemoOnlyWarnsWithoutAContact() async throws {
        try await withFixtureServer { _, downloader in
            var options = SourceRegistry.Options()
            options.demo = { logger in DemoSource(logger: logger) }
            let registry = SourceRegistry(downloader: downloader, environment: [:], options: options, logger: testLogger)
            defer { registry.shutdown() }
            let demo = try registry.source(for: "demo")
            #expect(demo.name == "demo")
        }
    }

    @Test func theUserAgentNamesTheOperatorsContact() {
        #expect(PixCrawlVersion.operatorContact(["PIXCRAWL_CONTACT": " ops@example.org "]) == "ops@example.org")
        #expect(PixCrawlVersion.operatorContact(["PIXCRAWL_CONTACT_URL": "https://example.org/bot"]) != nil)
        #expect(PixCrawlVersion.operatorContact([:]) == nil)
        #expect(
            PixCrawlVersion.userAgent(contact: "ops@example.org")
                == "PixCrawler/\(PixCrawlVersion.current) (+https://github.com/pixcrawler/pixcrawler; ops@example.org)")
    }

    @Test func credentialsComeFromTheEnvironmentOnlyWhenBothAreSet() {
        #expect(OpenverseSource.Credentials.fromEnvironment(["PIXCRAWL_OPENVERSE_CLIENT_ID": "a"]) == nil)
        let credentials = OpenverseSource.Credentials.fromEnvironment([
            "PIXCRAWL_OPENVERSE_CLIENT_ID": "a", "PIXCRAWL_OPENVERSE_CLIENT_SECRET": "very-secret",
        ])
        #expect(credentials == .init(clientID: "a", clientSecret: "very-secret"))
        #expect(!(credentials?.description.contains("very-secret") ?? true))
    }
}
