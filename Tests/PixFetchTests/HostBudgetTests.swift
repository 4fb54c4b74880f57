import Logging
import PixCore
import PixFetch
import PixFixtures
import Synchronization
import Testing

/// A budget that answers from a script and records what the downloader told it.
final class ScriptedBudget: HostBudget {
    struct Release: Hashable, Sendable {
        var host: String
        var bytes: Int
        var outcome: HostOutcome
        var rateLimit: String?
    }

    private let state: Mutex<(decisions: [HostSlotDecision], releases: [Release])>
    let maxPauseWait: Duration
    let slowResponse: Duration = .seconds(5)

    init(_ decisions: [HostSlotDecision], maxPauseWait: Duration = .seconds(1)) {
        state = Mutex((decisions, []))
        self.maxPauseWait = maxPauseWait
    }

    var releases: [Release] { state.withLock { $0.releases } }

    func acquire(host: String) async throws -> HostSlotDecision {
        state.withLock { $0.decisions.isEmpty ? .granted(leaseID: 1) : $0.decisions.removeFirst() }
    }

    func release(leaseID: Int64, host: String, bytes: Int, outcome: HostOutcome, rateLimit: String?) async {
        state.withLock { $0.releases.append(Release(host: host, bytes: bytes, outcome: outcome, rateLimit: rateLimit)) }
    }
}

@Suite struct DownloaderHostBudgetTests {
    func withBudget<Result>(
        _ budget: ScriptedBudget, _ body: (Downloader, FixtureServer) async throws -> Result
    ) async throws -> Result {
        try await withDownloader(configure: { $0.respectRobotsTxt = false }, hostBudget: budget, body)
    }

    @Test func everyRequestHoldsASlotAndReportsItsBytes() async throws {
        let budget = ScriptedBudget([.wait(.milliseconds(10)), .granted(leaseID: 7)])
        try await withBudget(budget) { downloader, server in
            let response = try await downloader.fetch(server.url("/img/3.jpg?w=32&h=32"))
            #expect(budget.releases == [.init(host: "127.0.0.1", bytes: response.body.count, outcome: .answered)])
        }
    }

    @Test func a429IsReportedWithItsRetryAfter() async throws {
        let budget = ScriptedBudget([])
        try await withBudget(budget) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/flaky/429/a.jpg?fail=5&after=60"))
            }
            #expect(error.code == .rateLimited)
            #expect(error.retryAfter == .seconds(60))
            #expect(budget.releases.first?.outcome == .throttled(status: 429, retryAfter: .seconds(60)))
        }
    }

    @Test func aHostPausedForLongerThanTheWaitFailsWithoutARequest() async throws {
        let budget = ScriptedBudget([.paused(for: .seconds(30), reason: "HTTP 429")])
        try await withBudget(budget) { downloader, server in
            let error = try await #require(throws: FetchError.self) {
                try await downloader.fetch(server.url("/img/3.jpg"))
            }
            #expect(error.code == .hostPaused)
            #expect(error.category == .rateLimit)
            #expect(error.retryAfter == .seconds(30))
            #expect(server.totalRequestCount == 0)
            #expect(budget.releases.isEmpty)
        }
    }

    @Test func hostLimitsAreReadFromTheirTextForm() throws {
        let policy = try #require(HostPolicy().applying("upload.wikimedia.org=1:2.5M, *=4:10r/s,Example.org=3:500kB/s"))
        #expect(policy.limits(for: "UPLOAD.wikimedia.org") == HostLimits(connections: 1, bytesPerSecond: 2_500_000))
        #expect(policy.limits(for: "other.test") == HostLimits(connections: 4, requestsPerSecond: 10))
        #expect(policy.limits(for: "example.org") == HostLimits(connections: 3, bytesPerSecond: 500_000))
        #expect(HostPolicy().limits(for: "upload.wikimedia.org") == HostPolicy.wikimediaUploads)
        #expect(HostPolicy().limits(for: "any.test").connections == 8)
        #expect(HostPolicy().applying("host=0") == nil)
        #expect(HostPolicy().applying("nohost") == nil)
        #expect(HostPolicy().applying("a.test=2:fast") == nil)
    }
}
