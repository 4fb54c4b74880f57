import Synchronization

/// A one-way "please stop at the next safe point" flag, with a wait for it.
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)
    private let signal = WakeSignal()

    /// Creates an unset request.
    public init() {}

    /// True once ``request()`` was called.
    public var isRequested: Bool { flag.load(ordering: .acquiring) }

    /// Sets the flag and wakes ``wait()``.
    public func request() {
        flag.store(true, ordering: .releasing)
        signal.signal()
    }

    /// Returns once the flag is set, or when the task is cancelled.
    public func wait() async {
        while !isRequested && !Task.isCancelled {
            let generation = signal.generation
            if isRequested { return }
            await signal.wait(since: generation)
        }
    }
}
