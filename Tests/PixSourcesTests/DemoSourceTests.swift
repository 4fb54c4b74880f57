import PixCore
import PixDemo
import PixFetch
import PixFixtures
import PixSources
import Testing

@Suite struct DemoSourceTests {
    /// Runs `body` with a demo source and a downloader allowed to reach exactly what the demo requires.
    func withDemo<Result>(_ body: (DemoSource, Downloader) async throws -> Result) async throws -> Result {
        let source = DemoSource(logger: testLogger)
        defer { source.shutdown() }
        var configuration = testDownloaderConfiguration()
        configuration.addressPolicy = AddressPolicy(allowedNetworks: DemoSource.requiredNetworkRanges)
        let downloader = try Downloader(configuration: configuration, logger: testLogger)
        do {
            let result = try await body(source, downloader)
            await downloader.shutdown()
            return result
        } catch {
            await downloader.shutdown()
            throw error
        }
    }

    static let jpegMagic: [UInt8] = [0xFF, 0xD8, 0xFF]
    static let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    @Test func requiresOnlyTheLoopbackAddress() {
        #expect(DemoSource.requiredAllowedNetworks == ["127.0.0.1/32"])
        #expect(DemoSource.requiredNetworkRanges == [NetworkRange("127.0.0.1/32")!])
    }

    @Test func proposesLoopbackURLsWithMetadata() async throws {
        try await withDemo { source, _ in
            let base = try await source.baseURL()
            #expect(base.hasPrefix("http://127.0.0.1:"))
            let page = try await source.page(keyword: "Red Fox", range: 0..<250, cursor: nil)
            #expect(page.candidates.count == source.pageSize)
            #expect(page.nextCursor == String(source.pageSize))
            #expect(!page.exhausted)
            for candidate in page.candidates {
                let entry = DemoCorpus.entry(keyword: "Red Fox", position: candidate.position)
                #expect(candidate.url == base + entry.path)
                #expect(candidate.url.hasPrefix(base + "/demo/red-fox/"))
                #expect(candidate.source == "demo")
                #expect(candidate.keyword == "Red Fox")
                #expect(candidate.license == entry.license)
                #expect(candidate.creator == entry.creator)
                #expect(candidate.landingURL == base + entry.landingPath)
            }
            #expect(page.candidates.map(\.position) == Array(0..<source.pageSize))
        }
    }

    @Test func servesRealImagesThatADownloaderCanFetch() async throws {
        try await withDemo { source, downloader in
            let page = try await source.page(keyword: "arctic fox", range: 0..<100, cursor: nil)
            let entries = page.candidates.map { ($0, DemoCorpus.entry(keyword: "arctic fox", position: $0.position)) }
            let jpegs = entries.filter { $0.1.kind == .jpeg }
            let pngs = entries.filter { $0.1.kind == .png }
            #expect(jpegs.count > pngs.count && pngs.count >= 10, "mostly JPEG, some PNG")
            for (candidate, entry) in jpegs.prefix(6) {
                let body = try await downloader.fetch(candidate.url).body
                #expect(body.starts(with: Self.jpegMagic))
                #expect(body.suffix(2) == [0xFF, 0xD9])
                #expect(body == FixtureImages.jpeg(seed: entry.seed, width: entry.width, height: entry.height))
                #expect((256...1024).contains(entry.width) && (256...1024).contains(entry.height))
            }
            for (candidate, _) in pngs.prefix(3) {
                let response = try await downloader.fetch(candidate.url)
                #expect(response.body.starts(with: Self.pngMagic))
                #expect(response.contentType == "image/png")
            }
            let landing = try await downloader.fetch(try #require(jpegs.first?.0.landingURL))
            #expect(String(decoding: landing.body, as: UTF8.self).contains("<!DOCTYPE html>"))
        }
    }

    @Test func mixesInEveryKindOfBadApple() async throws {
        try await withDemo { source, downloader in
            let pages = try await allPages(of: source, keyword: "owl", range: 0..<400)
            let candidates = pages.flatMap(\.candidates)
            #expect(candidates.count == 400)
            let kinds = candidates.map { DemoCorpus.entry(keyword: "owl", position: $0.position).kind }
            let bad = kinds.filter { !$0.isGood }.count
            #expect((20...60).contains(bad), "about one in ten is bad; got \(bad) of 400")
            for kind in DemoCorpus.Kind.allCases {
                #expect(kinds.contains(kind), "no \(kind) among the first 400 positions")
            }

            func first(_ kind: DemoCorpus.Kind) throws -> ImageCandidate {
                try #require(zip(candidates, kinds).first { $0.1 == kind }?.0)
            }
            let missing = try await #require(throws: FetchError.self) {
                try await downloader.fetch(try first(.notFound).url)
            }
            #expect(missing.status == 404)

            let html = try await downloader.fetch(try first(.htmlAsJPEG).url)
            #expect(html.contentType == "image/jpeg")
            #expect(html.body.starts(with: Array("<!DOCTYPE html>".utf8)))

            let truncated = try await downloader.fetch(try first(.truncatedJPEG).url)
            #expect(truncated.body.starts(with: Self.jpegMagic))
            #expect(truncated.body.suffix(2) != [0xFF, 0xD9])

            let small = try first(.tooSmall)
            #expect(
                try await downloader.fetch(small.url).body
                    == FixtureImages.jpeg(
                        seed: DemoCorpus.entry(keyword: "owl", position: small.position).seed, width: 48, height: 36))

            let duplicate = try first(.duplicate)
            let original = try #require(DemoCorpus.entry(keyword: "owl", position: duplicate.position).duplicateOf)
            #expect(original < duplicate.position)
            let duplicateBytes = try await downloader.fetch(duplicate.url).body
            let originalBytes = try await downloader.fetch(candidates[original].url).body
            #expect(duplicateBytes == originalBytes)
        }
    }

    @Test func isDeterministicAcrossInstances() async throws {
        let one = DemoSource(logger: testLogger)
        let two = DemoSource(logger: testLogger)
        defer {
            one.shutdown()
            two.shutdown()
        }
        let first = try await one.page(keyword: "heron", range: 100..<150, cursor: nil)
        let second = try await two.page(keyword: "heron", range: 100..<150, cursor: nil)
        let base1 = try await one.baseURL()
        let base2 = try await two.baseURL()
        #expect(base1 != base2)
        #expect(
            first.candidates.map { $0.url.dropFirst(base1.count) }
                == second.candidates.map { $0.url.dropFirst(base2.count) })
        #expect(first.candidates.map(\.license) == second.candidates.map(\.license))
    }

    @Test func stopsAtItsDepthAndResumesFromCursors() async throws {
        let source = DemoSource(maxDepth: 250, pageSize: 100, logger: testLogger)
        defer { source.shutdown() }
        #expect(source.maxDepth == 250)
        let pages = try await allPages(of: source, keyword: "k", range: 0..<1000)
        #expect(pages.map(\.nextCursor) == ["100", "200", nil])
        #expect(pages.map(\.exhausted) == [false, false, true])
        let resumed = try await source.page(keyword: "k", range: 0..<1000, cursor: "100")
        #expect(resumed == pages[1])
    }

    @Test func aDownloaderWithoutTheAllowanceRefusesTheDemo() async throws {
        let source = DemoSource(logger: testLogger)
        defer { source.shutdown() }
        var configuration = testDownloaderConfiguration()
        configuration.addressPolicy = .publicOnly
        let downloader = try Downloader(configuration: configuration, logger: testLogger)
        let page = try await source.page(keyword: "k", range: 0..<1, cursor: nil)
        let error = try await #require(throws: FetchError.self) {
            try await downloader.fetch(try #require(page.candidates.first).url)
        }
        await downloader.shutdown()
        #expect(error.category == .blocked)
    }
}
