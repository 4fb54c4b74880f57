import Logging
import PixCore
import PixStore
import Synchronization

/// Wake-up hints that chunks became claimable: in this process a ``WakeSignal`` shared by its workers, across
/// processes PostgreSQL `NOTIFY pixcrawl_chunks` / `LISTEN`. Only hints: workers poll anyway, so everything
/// works with notifications off (`--no-notify`) and on SQLite.
public final class ChunkHints: Sendable {
    /// Wakes this process's idle workers.
    public let wake = WakeSignal()
    private let store: any CrawlStore
    private let notify: Bool
    private let logger: Logger
    private let listener = Mutex<ChunkNotificationListener?>(nil)
    private let lastNotify = Mutex<ContinuousClock.Instant?>(nil)
    /// Announcements closer together than this send one `NOTIFY` (the local wake-up is never skipped).
    public let debounce: Duration

    /// Creates the hints for a store.
    /// - Parameters:
    ///   - store: the store to notify and listen on.
    ///   - notify: false disables `NOTIFY` and `LISTEN` (`--no-notify`).
    ///   - debounce: the shortest interval between two `NOTIFY`s.
    ///   - logger: receives listener problems.
    public init(store: any CrawlStore, notify: Bool, debounce: Duration = .milliseconds(100), logger: Logger) {
        self.store = store
        self.notify = notify
        self.debounce = debounce
        self.logger = logger
    }

    /// True while a `LISTEN` connection is open.
    public var isListening: Bool { listener.withLock { $0 != nil } }

    /// Opens the `LISTEN` connection (PostgreSQL with notifications on; otherwise nothing).
    /// - Throws: ``PixStore/StoreError`` when the connection cannot be made.
    public func startListening() throws {
        guard notify, !isListening else { return }
        let started = try store.listenForChunks { [wake] in wake.signal() }
        listener.withLock { $0 = started }
    }

    /// Closes the `LISTEN` connection.
    public func stopListening() {
        listener.withLock { listener in
            defer { listener = nil }
            return listener
        }?.stop()
    }

    /// Chunks became claimable: wakes local workers and, unless debounced or disabled, sends `NOTIFY`.
    public func announce() async {
        wake.signal()
        guard notify else { return }
        let now = ContinuousClock.now
        let send = lastNotify.withLock { last -> Bool in
            if let last, now - last < debounce { return false }
            last = now
            return true
        }
        guard send else { return }
        do {
            try await store.notifyChunksAvailable()
        } catch {
            logger.debug("NOTIFY failed (workers will poll)", metadata: ["pixcrawl.error": "\(error)"])
        }
    }
}
