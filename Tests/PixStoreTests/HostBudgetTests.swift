import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

/// Fleet-wide host budgets and chunk deferral, on both engines.
@Suite("Host budgets")
struct HostBudgetTests {
    static let two = HostLimits(connections: 2)

    func granted(_ decision: HostSlotDecision) -> Int64? {
        if case .granted(let id) = decision { return id }
        return nil
    }

    /// Expects a decision to wait longer than `lower` and at most `upper`.
    func expectWait(_ decision: HostSlotDecision, above lower: Duration, upTo upper: Duration) {
        guard case .wait(let wait) = decision else {
            Issue.record("expected a wait, got \(decision)")
            return
        }
        #expect(wait > lower && wait <= upper)
    }

    @Test("a host's connection limit holds across holders", arguments: Backend.allCases)
    func connectionLimit(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let first = try await store.acquireHostSlot(host: "a.test", holder: "w1", limits: Self.two, lease: .seconds(60))
        let second = try await store.acquireHostSlot(host: "a.test", holder: "w2", limits: Self.two, lease: .seconds(60))
        let third = try await store.acquireHostSlot(host: "a.test", holder: "w3", limits: Self.two, lease: .seconds(60))
        #expect(granted(first) != nil && granted(second) != nil)
        #expect(granted(third) == nil)
        let other = try await store.acquireHostSlot(host: "b.test", holder: "w3", limits: Self.two, lease: .seconds(60))
        #expect(granted(other) != nil)

        try await store.releaseHostSlot(
            leaseID: try #require(granted(first)), host: "a.test", bytes: 10, outcome: .answered)
        let again = try await store.acquireHostSlot(host: "a.test", holder: "w3", limits: Self.two, lease: .seconds(60))
        #expect(granted(again) != nil)
    }

    @Test("the slot of a holder that never gives it back frees itself when its lease expires", arguments: Backend.allCases)
    func expiredLease(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let one = HostLimits(connections: 1)
        // The slot expires almost at once (a live slot blocks others: see the connection limit test).
        let crashed = try await store.acquireHostSlot(host: "a.test", holder: "w1", limits: one, lease: .milliseconds(1))
        #expect(granted(crashed) != nil)
        var decision = try await store.acquireHostSlot(host: "a.test", holder: "w2", limits: one, lease: .seconds(60))
        let deadline = ContinuousClock.now + .seconds(10)
        while granted(decision) == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            decision = try await store.acquireHostSlot(host: "a.test", holder: "w2", limits: one, lease: .seconds(60))
        }
        #expect(granted(decision) != nil)
    }

    @Test("a 429 with Retry-After pauses the host for every holder and halves its connections", arguments: Backend.allCases)
    func throttlePauses(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let eight = HostLimits(connections: 8)
        let lease = try #require(
            granted(try await store.acquireHostSlot(host: "a.test", holder: "w1", limits: eight, lease: .seconds(60))))
        try await store.releaseHostSlot(
            leaseID: lease, host: "a.test", bytes: 0, outcome: .throttled(status: 429, retryAfter: .seconds(30)))
        let decision = try await store.acquireHostSlot(host: "a.test", holder: "w2", limits: eight, lease: .seconds(60))
        guard case .paused(let wait, let reason) = decision else {
            Issue.record("expected a pause, got \(decision)")
            return
        }
        #expect(wait > .seconds(25) && wait <= .seconds(30))
        #expect(reason == "HTTP 429")
        let pauses = try await store.hostPauses(["a.test", "b.test"])
        #expect(Set(pauses.keys) == ["a.test"])
        let status = try #require(try await store.hostBudgets().first { $0.host == "a.test" })
        #expect(status.maxConnections == 8 && status.currentConnections == 4)
        #expect(status.pausedFor != nil)
    }

    @Test("connections taken away by a 503 or slow answers come back as the host answers again", arguments: Backend.allCases)
    func restore(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let four = HostLimits(connections: 4)
        func once(_ outcome: HostOutcome) async throws {
            let lease = try #require(
                granted(try await store.acquireHostSlot(host: "a.test", holder: "w", limits: four, lease: .seconds(60))))
            try await store.releaseHostSlot(leaseID: lease, host: "a.test", bytes: 0, outcome: outcome)
        }
        try await once(.throttled(status: 503, retryAfter: nil))
        #expect(try await store.hostBudgets().first?.currentConnections == 2)
        try await once(.slow)
        #expect(try await store.hostBudgets().first?.currentConnections == 1)
        #expect(try await store.hostBudgets().first?.reason == "slow answers")
        for _ in 0..<60 { try await once(.answered) }
        #expect(try await store.hostBudgets().first { $0.host == "a.test" }?.currentConnections ?? 4 == 4)
    }

    @Test("a host's rate-limit headers are kept for status", arguments: Backend.allCases)
    func rateLimitKept(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let lease = try #require(
            granted(try await store.acquireHostSlot(host: "api.test", holder: "w", limits: Self.two, lease: .seconds(60))))
        try await store.releaseHostSlot(
            leaseID: lease, host: "api.test", bytes: 10, outcome: .answered, rateLimit: "anon_burst 19 left of 20/min")
        let status = try #require(try await store.hostBudgets().first { $0.host == "api.test" })
        #expect(status.rateLimit == "anon_burst 19 left of 20/min")
        #expect(status.activeConnections == 0)
    }

    @Test("bytes received are paid for before the next request starts", arguments: Backend.allCases)
    func byteRate(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let capped = HostLimits(connections: 2, bytesPerSecond: 1000)
        let lease = try #require(
            granted(try await store.acquireHostSlot(host: "a.test", holder: "w", limits: capped, lease: .seconds(60))))
        try await store.releaseHostSlot(leaseID: lease, host: "a.test", bytes: 30_000, outcome: .answered)
        let decision = try await store.acquireHostSlot(host: "a.test", holder: "w", limits: capped, lease: .seconds(60))
        expectWait(decision, above: .seconds(20), upTo: .seconds(30))
    }

    @Test("a request rate spaces the starts of requests", arguments: Backend.allCases)
    func requestRate(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let paced = HostLimits(connections: 8, requestsPerSecond: 0.05)
        #expect(granted(try await store.acquireHostSlot(host: "a.test", holder: "w", limits: paced, lease: .seconds(60))) != nil)
        let decision = try await store.acquireHostSlot(host: "a.test", holder: "w", limits: paced, lease: .seconds(60))
        expectWait(decision, above: .seconds(10), upTo: .seconds(20))
    }

    @Test("a deferred chunk goes back to pending later without counting the attempt", arguments: Backend.allCases)
    func deferral(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let fixture = try await makeFixture(store, chunkCount: 1)
        let claim = try #require(try await store.claimChunk(workerID: "w1", lease: .seconds(60), jobID: fixture.job.id))
        let reason = NewErrorLog(
            jobID: fixture.job.id, category: .rateLimit, severity: .info, message: "RATE_LIMIT: Retry-After 3600")
        #expect(
            try await store.deferChunk(chunkID: claim.chunk.id, token: claim.leaseToken, delay: .seconds(3600), reason: reason))
        #expect(
            try await store.deferChunk(chunkID: claim.chunk.id, token: claim.leaseToken, delay: .seconds(1), reason: reason)
                == false)
        let chunk = try #require(try await store.chunk(id: claim.chunk.id))
        #expect(chunk.status == .pending)
        #expect(chunk.attempts == 0)
        #expect(chunk.availableAt > Date().addingTimeInterval(3500))
        #expect(try await store.claimChunk(workerID: "w2", lease: .seconds(60), jobID: fixture.job.id) == nil)
        #expect(try await store.errorSummary(jobID: fixture.job.id)[.rateLimit] == 1)
        try await expectInvariant(store, jobID: fixture.job.id)
    }
}
