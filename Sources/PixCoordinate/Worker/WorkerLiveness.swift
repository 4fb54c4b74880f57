import Foundation
import PixCore

/// How a registered worker looks from the store: its own status, or lost when it stopped heartbeating.
public enum WorkerLiveness: String, Sendable, Hashable, CaseIterable {
    case running, stopping, stopped
    /// Not stopped, but its last heartbeat is older than three leases: the process is presumed dead.
    case lost

    /// Judges a worker from its record.
    /// - Parameters:
    ///   - worker: the `workers` row.
    ///   - lease: the lease the workers use (a worker heartbeats at least every quarter of it while busy).
    ///   - now: the time to judge at.
    public init(_ worker: WorkerRecord, lease: Duration, now: Date = Date()) {
        let leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        if worker.status != .stopped, now.timeIntervalSince(worker.heartbeatAt) > 3 * leaseSeconds {
            self = .lost
            return
        }
        switch worker.status {
        case .running: self = .running
        case .stopping: self = .stopping
        case .stopped: self = .stopped
        }
    }
}
