import PixFetch
import Synchronization
import Testing

@testable import PixSources

@Suite struct SourceSupportTests {
    @Test func rateLimitHeadersWithRequestsLeftAskForNoWait() {
        let headers: HTTPHeaders = [
            "x-ratelimit-limit-anon_burst": "20/min", "x-ratelimit-available-anon_burst": "3",
            "x-ratelimit-limit-anon_sustained": "200/day", "x-ratelimit-available-anon_sustained": "150",
        ]
        #expect(RateLimitState.exhaustedWait(headers) == nil)
    }

    @Test func aUsedUpScopeWaitsForItsPeriod() {
        let headers: HTTPHeaders = [
            "x-ratelimit-limit-anon_burst": "20/min", "x-ratelimit-available-anon_burst": "0",
            "x-ratelimit-limit-anon_sustained": "200/day", "x-ratelimit-available-anon_sustained": "150",
        ]
        #expect(RateLimitState.exhaustedWait(headers) == .seconds(60))
        let both: HTTPHeaders = [
            "x-ratelimit-limit-anon_burst": "20/min", "x-ratelimit-available-anon_burst": "0",
            "x-ratelimit-limit-anon_sustained": "200/day", "x-ratelimit-available-anon_sustained": "0",
        ]
        #expect(RateLimitState.exhaustedWait(both) == .seconds(86_400))
    }

    @Test func genericRemainingAndResetHeadersAreUnderstood() {
        #expect(
            RateLimitState.exhaustedWait(["x-ratelimit-remaining": "0", "x-ratelimit-reset": "17"]) == .seconds(17))
        #expect(RateLimitState.exhaustedWait(["x-ratelimit-remaining": "0"]) == .seconds(60))
        #expect(RateLimitState.exhaustedWait(["x-ratelimit-remaining": "5", "x-ratelimit-reset": "17"]) == nil)
    }

    @Test(arguments: [
        ("1/second", Duration.seconds(1)), ("20/min", .seconds(60)), ("100/minute", .seconds(60)),
        ("5000/hour", .seconds(3600)), ("200/day", .seconds(86_400)),
    ])
    func ratePeriods(_ rate: String, _ period: Duration) {
        #expect(RateLimitState.period(rate) == period)
    }

    @Test func heldRequestsWaitAndReleaseAfterwards() {
        let state = RateLimitState()
        let now = ContinuousClock.now
        #expect(state.pendingDelay(now: now) == nil)
        state.hold(for: .seconds(5), now: now)
        #expect(state.pendingDelay(now: now) == .seconds(5))
        state.hold(for: .seconds(1), now: now)
        #expect(state.pendingDelay(now: now) == .seconds(5))
        #expect(state.pendingDelay(now: now.advanced(by: .seconds(6))) == nil)
    }

    @Test func csvFieldsFollowRFC4180() {
        func fields(_ text: String, _ separator: UInt8 = 0x2C) -> [String] {
            CSVRecord.fields(Array(text.utf8)[...], separator: separator)
        }
        #expect(fields("a,b,c") == ["a", "b", "c"])
        #expect(fields(#""a,1","b ""quoted""",,"#) == ["a,1", "b \"quoted\"", "", ""])
        #expect(fields("\"line\nbreak\",x") == ["line\nbreak", "x"])
        #expect(fields("a\tb,c", 0x09) == ["a", "b,c"])
        #expect(fields("") == [""])
    }

    @Test func markupIsStrippedFromCreators() {
        #expect(
            #"<a href="//commons.wikimedia.org/wiki/User:X" title="User:X">Jane &amp; John</a>"#.strippingMarkup
                == "Jane & John")
        #expect("<span class=\"fn\">Émile &#233;t&#xE9;</span>\n  (photo)".strippingMarkup == "Émile été (photo)")
        #expect("AT&T & co".strippingMarkup == "AT&T & co")
    }

    @Test func queryStringsEscapeEverythingOutsideTheUnreservedSet() {
        #expect(
            QueryString.encode([("q", "red fox & co/ü"), ("iiprop", "url|size")])
                == "q=red%20fox%20%26%20co%2F%C3%BC&iiprop=url%7Csize")
        #expect(QueryString.url("http://h/w/api.php", [("a", "1")]) == "http://h/w/api.php?a=1")
        #expect(QueryString.url("http://h/x?y=1", [("a", "1")]) == "http://h/x?y=1&a=1")
    }

    @Test func fileTitlesLoseNamespaceAndExtension() {
        #expect(CommonsSource.fileTitle("File:Red fox (Vulpes vulpes).jpeg") == "Red fox (Vulpes vulpes)")
        #expect(CommonsSource.fileTitle("File:v1.2 map") == "v1.2 map")
    }

    @Test func gateLetsOneCallerThroughAtATime() async throws {
        let gate = AsyncSerialGate()
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await gate.run {
                        counter.enter()
                        try await Task.sleep(for: .milliseconds(5))
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counter.peak == 1)
        #expect(counter.total == 8)
    }
}

/// Counts overlapping sections.
final class Counter: Sendable {
    private let state = Mutex((current: 0, peak: 0, total: 0))

    func enter() {
        state.withLock {
            $0.current += 1
            $0.total += 1
            $0.peak = max($0.peak, $0.current)
        }
    }

    func leave() {
        state.withLock { $0.current -= 1 }
    }

    var peak: Int { state.withLock { $0.peak } }
    var total: Int { state.withLock { $0.total } }
}
