import Logging
import PixCore
import PixFetch
import PixStore

/// The fleet-wide host budget: every worker sharing a store asks it for connections, so a host's limits hold
/// across processes and machines (``CrawlStore/acquireHostSlot(host:holder:limits:lease:)``).
///
/// When the store cannot be reached the request goes ahead (the process's own per-host limit still applies) and a
/// warning is logged: a database hiccup must not stop the crawl.
public struct StoreHostBudget: HostBudget {
    /// The shared store.
    public let store: any CrawlStore
    /// Limits by host.
    public let policy: HostPolicy
    /// Who holds the slots (shown when inspecting the store).
    public let holder: String
    /// How long a slot is held at most: a transfer's total timeout plus a margin.
    public let lease: Duration
    private let logger: Logger

    /// Creates the budget.
    /// - Parameters:
    ///   - store: the store shared by the fleet.
    ///   - policy: the per-host limits.
    ///   - holder: the process's name for its slots.
    ///   - lease: the longest a slot is held (a crashed process's slots free themselves after it).
    ///   - logger: receives store failures.
    public init(store: any CrawlStore, policy: HostPolicy, holder: String, lease: Duration, logger: Logger) {
        self.store = store
        self.policy = policy
        self.holder = holder
        self.lease = lease
        self.logger = logger
    }

    /// ``HostPolicy/maxPauseWait``.
    public var maxPauseWait: Duration { policy.maxPauseWait }
    /// ``HostPolicy/slowResponse``.
    public var slowResponse: Duration { policy.slowResponse }

    public func acquire(host: String) async throws -> HostSlotDecision {
        do {
            return try await store.acquireHostSlot(
                host: host, holder: holder, limits: policy.limits(for: host), lease: lease)
        } catch {
            logger.warning(
                "host budget unavailable; fetching without it",
                metadata: ["pixcrawl.host": "\(host)", "pixcrawl.error": "\(error)"])
            return .granted(leaseID: -1)
        }
    }

    public func release(leaseID: Int64, host: String, bytes: Int, outcome: HostOutcome, rateLimit: String?) async {
        guard leaseID >= 0 else { return }
        do {
            try await store.releaseHostSlot(
                leaseID: leaseID, host: host, bytes: bytes, outcome: outcome, rateLimit: rateLimit)
        } catch {
            logger.warning(
                "cannot give a host slot back (it expires by itself)",
                metadata: ["pixcrawl.host": "\(host)", "pixcrawl.error": "\(error)"])
        }
    }
}
