#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An OS thread for blocking socket work (one per fixture connection, one for accepting).
struct FixtureThread: Sendable {
    private final class Start {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) {
            self.body = body
        }
    }

    private let handle: pthread_t

    /// Starts a joinable thread.
    static func start(_ body: @escaping @Sendable () -> Void) -> FixtureThread {
        FixtureThread(handle: spawn(body))
    }

    /// Starts a thread nobody joins; it frees itself when `body` returns.
    static func detached(_ body: @escaping @Sendable () -> Void) {
        _ = pthread_detach(spawn(body))
    }

    /// Waits for a thread started with ``start(_:)``.
    func join() {
        _ = pthread_join(handle, nil)
    }

    private static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let start = Unmanaged.passRetained(Start(body: body)).toOpaque()
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
