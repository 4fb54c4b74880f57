import PixSQL
import Synchronization

/// Lets a periodic chore run at most once per interval in this process, whichever task asks first.
///
/// The store's expired-lease sweep uses it: failing chunks whose lease expired on their last attempt is an
/// `UPDATE` over every active chunk, too costly for every claim, yet it must run often enough that such a
/// chunk never stalls its job.
public final class SweepThrottle: Sendable {
    /// The shortest time between two runs.
    public let interval: Duration
    private let lastRun = Mutex<ContinuousClock.Instant?>(nil)

    /// A throttle that allows one run per `interval` (`.zero`: every call may run).
    public init(interval: Duration) {
        self.interval = interval
    }

    /// True when the chore is due, and records that it runs now: of racing callers only one gets `true`.
    public func claimRun() -> Bool {
        let now = ContinuousClock.now
        return lastRun.withLock { last in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
    }

    /// Records a run made now without asking (a forced run restarts the interval).
    public func recordRun() {
        let now = ContinuousClock.now
        lastRun.withLock { $0 = now }
    }
}
