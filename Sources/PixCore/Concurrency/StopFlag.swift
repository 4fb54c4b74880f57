import Synchronization

/// A one-way "please stop at the next safe point" flag, shared between a task and the work it started (a chunk
/// being processed, an archive being written on a blocking thread, a listener thread), with a wait for it.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let signal = WakeSignal()

    /// Creates a flag that is not raised.
    public init() {}

    /// True once ``raise()`` was called.
    public var isRaised: Bool { flag.load(ordering: .acquiring) }

    /// Raises the flag and wakes ``wait()``.
    /// - Returns: whether this call raised it (false when it was raised before).
    @discardableResult
    public func raise() -> Bool {
        guard !flag.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        signal.signal()
        return true
    }

    /// Throws `CancellationError` once the flag is raised: for blocking work that stops between items.
    public func check() throws {
        if isRaised { throw CancellationError() }
    }

    /// Returns once the flag is raised, or when the task is cancelled.
    public func wait() async {
        while !isRaised && !Task.isCancelled {
            let generation = signal.generation
            if isRaised { return }
            await signal.wait(since: generation)
        }
    }
}
