import Dispatch
import Synchronization

/// Runs blocking work (file reads and writes) on a serial dispatch queue of its own and awaits it, so the
/// Swift cooperative pool never blocks on disk I/O. Calls run one at a time, in order.
final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue. If the calling task is cancelled meanwhile, `flag` is raised so `body` can stop
    /// between items.
    func run<T: Sendable>(
        cancelling flag: CancellationFlag? = nil, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async { continuation.resume(with: Result { try body() }) }
            }
        } onCancel: {
            flag?.raise()
        }
    }
}

/// A cancellation request passed from a task to work running off the cooperative pool.
final class CancellationFlag: Sendable {
    private let state = Mutex(false)

    /// Whether cancellation was requested.
    var isRaised: Bool { state.withLock { $0 } }

    /// Requests cancellation.
    func raise() {
        state.withLock { $0 = true }
    }

    /// Throws `CancellationError` once cancellation was requested.
    func check() throws {
        if isRaised { throw CancellationError() }
    }
}
