import Foundation
import PixCore

/// How a ``Worker`` claims, holds and gives back chunks.
public struct WorkerConfiguration: Sendable, Hashable {
    /// The id registered in `workers` and written as `lease_owner` (unique per worker).
    public var id: String
    /// The machine's name, as registered.
    public var hostname: String
    /// The process id, as registered.
    public var pid: Int
    /// The lease each claim takes and each renewal extends (default 60 s).
    public var lease: Duration
    /// How often the lease is renewed and the worker heartbeats while it holds a chunk (default lease / 4).
    public var renewInterval: Duration
    /// How long an idle worker waits before looking for work again, unless a hint wakes it (default 5 s).
    public var pollInterval: Duration
    /// How long a chunk may keep running after a graceful shutdown began before it is released (default 30 s).
    public var shutdownTimeout: Duration
    /// Exit once nothing is claimable instead of waiting for work (`--once`).
    public var once: Bool
    /// Exit after processing this many chunks (`--max-chunks`).
    public var maxChunks: Int?
    /// Claim only this job's chunks.
    public var jobID: Int64?
    /// Exit once the job named by ``jobID`` is finished (the in-process workers of `pixcrawl crawl`).
    public var exitWhenJobFinished: Bool

    /// Creates a configuration; `id` defaults to `HOST-PID-RANDOM`.
    public init(
        id: String? = nil, hostname: String = ProcessInfo.processInfo.hostName,
        pid: Int = Int(ProcessInfo.processInfo.processIdentifier), lease: Duration = .seconds(60),
        renewInterval: Duration? = nil, pollInterval: Duration = .seconds(5), shutdownTimeout: Duration = .seconds(30),
        once: Bool = false, maxChunks: Int? = nil, jobID: Int64? = nil, exitWhenJobFinished: Bool = false
    ) {
        self.hostname = hostname
        self.pid = pid
        self.id = id ?? "\(hostname)-\(pid)-\(String(UInt16.random(in: .min ... .max), radix: 16))"
        self.lease = lease
        self.renewInterval = renewInterval ?? lease / 4
        self.pollInterval = pollInterval
        self.shutdownTimeout = shutdownTimeout
        self.once = once
        self.maxChunks = maxChunks
        self.jobID = jobID
        self.exitWhenJobFinished = exitWhenJobFinished
    }

    /// A worker whose last heartbeat is older than this is shown as lost: three leases.
    public var lostAfter: Duration { lease * 3 }
}
