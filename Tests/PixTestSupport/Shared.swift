import Synchronization

/// A value shared by the tasks and callbacks of a test (a `Mutex` cannot be captured by an escaping closure).
public final class Shared<Value: Sendable>: Sendable {
    /// The value, behind its lock.
    public let value: Mutex<Value>

    /// Shares `initial`.
    public init(_ initial: Value) { value = Mutex(initial) }
}
