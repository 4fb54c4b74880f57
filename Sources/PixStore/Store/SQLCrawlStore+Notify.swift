import Foundation
import Logging
import PixCore
import PixSQL
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension SQLCrawlStore {
    /// The PostgreSQL channel that says "chunks became claimable". Its payload is the store's schema, so
    /// stores sharing a server in other schemas ignore each other's hints.
    public static let chunkChannel = "pixcrawl_chunks"

    /// Tells idle workers that chunks became claimable (`NOTIFY pixcrawl_chunks`). Only a hint: workers poll
    /// anyway. Does nothing on SQLite, whose workers share one machine and poll.
    public func notifyChunksAvailable() async throws {
        guard case .postgres(_, let schema) = database.location else { return }
        try await database.withConnection { connection in
            try connection.query("SELECT pg_notify($1, $2)", .text(Self.chunkChannel), .text(schema))
        }
    }

    /// Starts listening for ``chunkChannel`` on a dedicated connection; `onNotify` runs on the listener's
    /// thread for each hint about this store's schema (and after every reconnect, since hints may have been
    /// missed). Returns `nil` on SQLite.
    /// - Throws: ``StoreError`` when the first connection cannot be made.
    public func listenForChunks(onNotify: @escaping @Sendable () -> Void) throws -> ChunkNotificationListener? {
        guard case .postgres(let conninfo, let schema) = database.location else { return nil }
        return try ChunkNotificationListener(conninfo: conninfo, schema: schema, logger: logger, onNotify: onNotify)
    }
}

/// A thread holding one PostgreSQL connection that `LISTEN`s on ``SQLCrawlStore/chunkChannel`` and calls back
/// when a hint arrives. Reconnects with backoff when the connection breaks. Call ``stop()`` when done.
public final class ChunkNotificationListener: Sendable {
    private let stopping = StopFlag()
    private let finished = DispatchSemaphore(value: 0)

    init(
        conninfo: String, schema: String, logger: Logger, onNotify: @escaping @Sendable () -> Void
    ) throws {
        let first = try Self.connect(conninfo: conninfo, schema: schema)
        let box = ConnectionBox(first)
        NativeThread.detached(name: "pixcrawl.listen") { [stopping, finished] in
            Self.loop(
                box.take(), conninfo: conninfo, schema: schema, stopping: stopping, logger: logger, onNotify: onNotify)
            finished.signal()
        }
    }

    deinit { stop() }

    /// Stops listening and closes the connection (waits up to a second for the thread to notice).
    public func stop() {
        guard stopping.raise() else { return }
        _ = finished.wait(timeout: .now() + 1)
    }

    private static func connect(conninfo: String, schema: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo: conninfo, schema: schema, connectTimeoutSeconds: 5)
        try connection.executeScript("LISTEN \(SQLCrawlStore.chunkChannel)")
        return connection
    }

    private static func loop(
        _ first: PostgresConnection?, conninfo: String, schema: String, stopping: StopFlag, logger: Logger,
        onNotify: @Sendable () -> Void
    ) {
        var connection = first
        var backoffMilliseconds: Int32 = 100
        while !stopping.isRaised {
            guard let current = connection else {
                do {
                    connection = try connect(conninfo: conninfo, schema: schema)
                    backoffMilliseconds = 100
                    onNotify()
                } catch {
                    logger.debug("notification listener reconnecting", metadata: ["pixcrawl.error": "\(error)"])
                    usleep(useconds_t(backoffMilliseconds) * 1000)
                    backoffMilliseconds = min(backoffMilliseconds * 2, 2000)
                }
                continue
            }
            var descriptor = pollfd(fd: current.socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 200)
            if ready < 0 && errno != EINTR {
                connection = nil
                continue
            }
            guard ready > 0 else { continue }
            do {
                let hints = try current.drainNotifications()
                if hints.contains(where: { $0.0 == SQLCrawlStore.chunkChannel && $0.1 == schema }) { onNotify() }
            } catch {
                logger.debug("notification listener lost its connection", metadata: ["pixcrawl.error": "\(error)"])
                connection = nil
            }
        }
        connection?.close()
    }
}

/// Hands the first connection to the listener thread.
// Safe: the connection is stored before the thread starts and taken exactly once, by that thread, under the lock.
private final class ConnectionBox: @unchecked Sendable {
    private let lock = Mutex(())
    private var connection: PostgresConnection?

    init(_ connection: PostgresConnection) { self.connection = connection }

    func take() -> PostgresConnection? {
        lock.withLock { _ in
            defer { connection = nil }
            return connection
        }
    }
}
