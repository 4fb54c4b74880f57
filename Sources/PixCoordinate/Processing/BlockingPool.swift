import Dispatch
import Synchronization

/// A few serial dispatch queues for CPU-heavy or blocking work (decoding, hashing, file writes), so it never
/// occupies the Swift cooperative pool, where it would starve the downloads and the store.
public final class BlockingPool: Sendable {
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)

    /// Creates a pool.
    /// - Parameter threads: how many jobs may run at once (at least 1).
    public init(threads: Int, label: String = "pixcrawl.blocking") {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "\(label).\($0)") }
    }

    /// How many jobs may run at once.
    public var width: Int { queues.count }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let index = next.add(1, ordering: .relaxed).oldValue % queues.count
        return try await withCheckedThrowingContinuation { continuation in
            queues[(index + queues.count) % queues.count].async { continuation.resume(with: Result { try body() }) }
        }
    }
}
