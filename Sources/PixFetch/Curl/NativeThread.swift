#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A dedicated OS thread, outside Swift's cooperative pool, for work that blocks (libcurl's poll loop).
struct NativeThread: Sendable {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    private let handle: pthread_t

    /// Starts a joinable thread running `body`.
    /// - Parameter name: what the thread is for (kept for debugging).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> NativeThread {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { raw in
                let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
                start.body()
                return nil
            }, start)
        precondition(result == 0, "pthread_create failed with \(result)")
        return NativeThread(handle: handle)
    }

    /// Whether the caller is running on this thread.
    var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// Waits for the thread to finish. Call exactly once, never from the thread itself.
    func join() {
        _ = pthread_join(handle, nil)
    }
}
