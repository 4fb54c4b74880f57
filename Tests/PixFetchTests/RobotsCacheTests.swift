import Synchronization
import Testing

@testable import PixFetch

@Suite struct RobotsCacheTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex<Duration>(.zero)

        func advance(by duration: Duration) { offset.withLock { $0 += duration } }
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    /// Counts loads per origin and answers with fixed rules and a fixed lifetime.
    final class Loader: Sendable {
        private let loads = Mutex<[String: Int]>([:])

        func count(_ origin: String) -> Int { loads.withLock { $0[origin] ?? 0 } }

        func entry(
            _ cache: RobotsCache, _ origin: String, rules: RobotsTxt = .allowAll, lifetime: Duration = .seconds(3600)
        ) async throws -> RobotsEntry {
            try await cache.entry(for: origin) {
                loads.withLock { $0[origin, default: 0] += 1 }
                return (.rules(rules.compiled(for: "PixCrawler"), note: ""), lifetime)
            }
        }
    }

    static func allows(_ entry: RobotsEntry, _ path: String) -> Bool {
        guard case .rules(let rules, _) = entry else { return false }
        return rules.isAllowed(path)
    }

    /// Loads of one origin when it is asked for, the clock moves by `elapsed`, and it is asked for again.
    static func loads(lifetime: Duration, askedAgainAfter elapsed: Duration) async throws -> Int {
        let clock = ManualClock()
        let cache = RobotsCache(now: { clock.now })
        let loader = Loader()
        _ = try await loader.entry(cache, "http://a:80", lifetime: lifetime)
        clock.advance(by: elapsed)
        _ = try await loader.entry(cache, "http://a:80", lifetime: lifetime)
        return loader.count("http://a:80")
    }

    @Test func anEntryIsReusedWithinItsLifetime() async throws {
        #expect(try await Self.loads(lifetime: .seconds(3600), askedAgainAfter: .seconds(3599)) == 1)
    }

    @Test func anExpiredEntryIsFetchedAgain() async throws {
        #expect(try await Self.loads(lifetime: .seconds(3600), askedAgainAfter: .seconds(3600)) == 2)
    }

    @Test func noEntryOutlivesTwentyFourHours() async throws {
        #expect(try await Self.loads(lifetime: .seconds(365 * 24 * 3600), askedAgainAfter: .seconds(24 * 3600)) == 2)
    }

    @Test func aTransientDisallowAllIsReplacedOnceItExpires() async throws {
        let clock = ManualClock()
        let cache = RobotsCache(now: { clock.now })
        let loader = Loader()
        let failed = try await loader.entry(cache, "http://a:80", rules: .disallowAll, lifetime: .seconds(300))
        #expect(!Self.allows(failed, "/img/1.jpg"))
        clock.advance(by: .seconds(300))
        let recovered = try await loader.entry(cache, "http://a:80", rules: .allowAll)
        #expect(Self.allows(recovered, "/img/1.jpg"))
    }

    @Test func theLeastRecentlyUsedOriginIsDroppedAtCapacity() async throws {
        let cache = RobotsCache(capacity: 2)
        let loader = Loader()
        _ = try await loader.entry(cache, "http://a:80")
        _ = try await loader.entry(cache, "http://b:80")
        _ = try await loader.entry(cache, "http://a:80")  // a is now more recent than b
        _ = try await loader.entry(cache, "http://c:80")
        #expect(cache.count == 2)
        _ = try await loader.entry(cache, "http://a:80")
        _ = try await loader.entry(cache, "http://b:80")
        #expect(loader.count("http://a:80") == 1)
        #expect(loader.count("http://b:80") == 2)
    }

    @Test func compiledRulesJudgeLikeTheParsedFile() {
        let robots = RobotsTxt(parsing: RobotsTxtTests.text)
        let compiled = robots.compiled(for: "PixCrawler")
        for path in ["/private/a.jpg", "/private/a.png", "/page", "/x?nocrawl", "/a.gif", "/a.gif?x", "/fish1.php"] {
            #expect(compiled.isAllowed(path) == robots.isAllowed(path, for: "PixCrawler"), "\(path)")
        }
    }
}
