import Dispatch
import Synchronization

/// A few threads for CPU-heavy or blocking work (decoding, hashing, file writes), so it never occupies the Swift
/// cooperative pool, where it would starve the downloads and the store.
///
/// Jobs wait in one shared first-in, first-out queue and every thread takes the next job as soon as it is free
/// (work sharing): a slow job (a large PNG, a file write waiting for `fsync`) never holds up the jobs queued after
/// it while another thread is idle.
public final class BlockingPool: Sendable {
    private struct State: ~Copyable {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        /// Indices of the serial queues that are not draining jobs now.
        var idle: [Int]

        mutating func pop() -> (@Sendable () -> Void)? {
            guard head < jobs.count else { return nil }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 256 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
    }

    /// One serial queue per thread: each drains the shared job queue while it has work.
    private let queues: [DispatchQueue]
    private let state: Mutex<State>

    /// A process-wide pool for blocking file I/O (blob writes, and the flushes that wait for the disk): wide,
    /// because its threads mostly wait (as many as a worker's default concurrency, so no accepted image waits for
    /// another's write), and separate from the decoding pools, so a write never keeps a core from decoding.
    public static let sharedIO = BlockingPool(threads: 8, label: "pixcrawl.io")

    /// Creates a pool.
    /// - Parameter threads: how many jobs may run at once (at least 1).
    public init(threads: Int, label: String = "pixcrawl.blocking") {
        let count = max(1, threads)
        queues = (0..<count).map { DispatchQueue(label: "\(label).\($0)") }
        state = Mutex(State(idle: Array((0..<count).reversed())))
    }

    /// How many jobs may run at once.
    public var width: Int { queues.count }

    /// Runs `body` on one of the pool's threads and returns its result. A pool of one thread runs its jobs one at a
    /// time, in the order they were queued.
    /// - Parameters:
    ///   - flag: raised when the calling task is cancelled meanwhile, so `body` can stop between items.
    ///   - body: the blocking work.
    public func run<T: Sendable>(
        cancelling flag: StopFlag? = nil, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        guard let flag else { return try await enqueue(body) }
        return try await withTaskCancellationHandler {
            try await enqueue(body)
        } onCancel: {
            flag.raise()
        }
    }

    private func enqueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job: @Sendable () -> Void = { continuation.resume(with: Result { try body() }) }
            let wake = state.withLock { state -> Int? in
                state.jobs.append(job)
                return state.idle.popLast()
            }
            if let wake { queues[wake].async { self.drain(wake) } }
        }
    }

    /// Runs queued jobs on queue `index` until none is left, then marks the queue idle.
    private func drain(_ index: Int) {
        while true {
            let job = state.withLock { state -> (@Sendable () -> Void)? in
                if let job = state.pop() { return job }
                state.idle.append(index)
                return nil
            }
            guard let job else { return }
            job()
        }
    }
}
