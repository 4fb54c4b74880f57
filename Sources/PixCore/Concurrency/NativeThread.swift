#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A dedicated OS thread, outside Swift's cooperative pool and Dispatch's queues, for work that blocks for long
/// (libcurl's poll loop, a `LISTEN` connection, a socket accept loop, a child process to wait for).
public struct NativeThread: Sendable {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    private let handle: pthread_t

    /// Starts a joinable thread running `body`; call ``join()`` exactly once.
    /// - Parameters:
    ///   - name: what the thread is for (kept for debugging).
    ///   - body: the work.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> NativeThread {
        NativeThread(handle: spawn(name: name, body))
    }

    /// Starts a thread nobody joins; it frees itself when `body` returns.
    /// - Parameters:
    ///   - name: what the thread is for.
    ///   - body: the work.
    public static func detached(name: String, _ body: @escaping @Sendable () -> Void) {
        _ = pthread_detach(spawn(name: name, body))
    }

    /// Runs blocking `body` on a thread of its own and awaits its result. Neither Swift's cooperative pool nor
    /// Dispatch's global queues suit such waits (a child process, a socket read): both are as wide as the machine
    /// has cores, and a wait that holds their threads can starve the servers of the same process it waits for.
    /// - Parameters:
    ///   - name: what the thread is for.
    ///   - body: the blocking work.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            detached(name: name) { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Whether the caller is running on this thread.
    public var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// Waits for the thread to finish. Call exactly once, never from the thread itself.
    public func join() {
        _ = pthread_join(handle, nil)
    }

    private static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> pthread_t {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { raw in
                Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, start)
        precondition(result == 0, "pthread_create failed with \(result)")
        return handle
    }
}
