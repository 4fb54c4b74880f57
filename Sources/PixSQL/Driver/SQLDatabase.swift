import Dispatch
import Foundation
import Logging
import Synchronization

/// A pool of blocking connections to one database, bridged to async/await.
///
/// Each pooled connection owns a serial dispatch queue; a borrowed connection runs the caller's
/// closure on that queue, so blocking libpq/SQLite calls never occupy the Swift cooperative pool.
public final class SQLDatabase: Sendable {
    /// Where this database lives.
    public let location: DatabaseLocation
    /// Its SQL dialect.
    public var dialect: SQLDialect { location.dialect }

    private let maxConnections: Int
    private let reconnectTimeout: Duration
    private let state = Mutex(PoolState())
    private let logger: Logger
    private let transactionCount = Atomic<Int>(0)

    private struct PoolState: ~Copyable {
        var idle: [PooledConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<PooledConnection?, any Error>] = []
        var everConnected = false
        var closed = false
    }

    /// Opens the pool and one first connection, so a bad URL, an unreachable server, a wrong password
    /// or an unwritable SQLite path fails here with one clear error.
    /// - Parameters:
    ///   - location: the store to connect to.
    ///   - maxConnections: the pool's size (default 4 for SQLite, 8 for PostgreSQL).
    ///   - reconnectTimeout: how long to keep retrying, with backoff, when a server that was reachable goes away.
    ///   - logger: where connection events are logged.
    public init(
        location: DatabaseLocation, maxConnections: Int? = nil, reconnectTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "pixcrawl.store")
    ) async throws {
        self.location = location
        self.maxConnections = max(1, maxConnections ?? (location.dialect == .sqlite ? 4 : 8))
        self.reconnectTimeout = reconnectTimeout
        self.logger = logger
        if case .sqlite(let path) = location {
            try Self.prepareSQLiteDirectory(path)
        }
        let first = try await Self.open(location)
        state.withLock {
            $0.open = 1
            $0.everConnected = true
            $0.idle.append(first)
        }
    }

    /// Closes every idle connection; borrowed ones close when returned.
    public func close() {
        let idle = state.withLock { state -> [PooledConnection] in
            state.closed = true
            let idle = state.idle
            state.idle.removeAll()
            state.open -= idle.count
            let waiters = state.waiters
            state.waiters.removeAll()
            for waiter in waiters { waiter.resume(throwing: StoreError.connectionFailed("the store was closed")) }
            return idle
        }
        for connection in idle { connection.close() }
    }

    /// Borrows a connection and runs `body` on its thread.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        let pooled = try await acquire()
        do {
            let value = try await pooled.run(body)
            release(pooled)
            return value
        } catch {
            release(pooled)
            throw error
        }
    }

    /// Runs a read-only `body` on a borrowed connection, retried on a fresh connection (with backoff) when
    /// the server went away: reads are safe to repeat, unlike a lone write whose commit may have happened.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await withConnection(body)
            } catch let error as StoreError where error.isConnectionFailure {
                attempt += 1
                if attempt > 8 { throw error }
                try await Task.sleep(for: .milliseconds(min(2_000, 50 * (1 << attempt))))
            }
        }
    }

    /// Runs `body` inside one transaction (`BEGIN IMMEDIATE` on SQLite so read-then-write is safe),
    /// committing on return and rolling back on a thrown error. A transaction that fails because the
    /// connection broke is retried on a fresh connection, and never applied twice: on PostgreSQL each
    /// transaction first records a token of its own in `commit_tokens`, so when the connection broke after
    /// COMMIT was sent and that commit did land, the retry finds its token taken and returns the value the
    /// committed attempt computed instead of running `body` again.
    /// - Parameters:
    ///   - guardsReplay: record the commit token (the default); `false` only for work that runs before the
    ///     `commit_tokens` table exists (migrations, which are idempotent by their own bookkeeping).
    ///   - foreignKeysOff: on SQLite, run with foreign-key enforcement off (it can only change outside a
    ///     transaction) and on again afterwards: what SQLite's table-rebuild procedure needs, so that dropping a
    ///     parent table cascades nowhere. The body checks the keys itself (`PRAGMA foreign_key_check`).
    ///   - body: the transaction's statements.
    @discardableResult
    public func transaction<T: Sendable>(
        guardsReplay: Bool = true, foreignKeysOff: Bool = false,
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        let keysOff = foreignKeysOff && dialect == .sqlite
        let begin = dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        // An embedded SQLite commit cannot lose its reply: it returns or the process is gone.
        let token = guardsReplay && dialect == .postgres ? UUID().uuidString.lowercased() : nil
        let committing = CommitAttempt<T>()
        let prune = token != nil && transactionCount.add(1, ordering: .relaxed).newValue % 1024 == 0
        return try await retrying {
            try await self.withConnection { connection in
                if keysOff { try connection.executeScript("PRAGMA foreign_keys = OFF") }
                defer { if keysOff, !connection.isBroken { try? connection.executeScript("PRAGMA foreign_keys = ON") } }
                try connection.executeScript(begin)
                do {
                    if let token {
                        do {
                            try connection.query("INSERT INTO commit_tokens (token) VALUES ($1)", .text(token))
                        } catch let error as StoreError where error.isUniqueViolation {
                            // An earlier attempt of this very transaction committed; only its reply was lost.
                            try? connection.executeScript("ROLLBACK")
                            guard let value = committing.value else { throw error }
                            return value
                        }
                        if prune {
                            try connection.query(
                                "DELETE FROM commit_tokens WHERE committed_at < now() - interval '1 hour'")
                        }
                    }
                    let value = try body(connection)
                    committing.value = value
                    try connection.executeScript("COMMIT")
                    return value
                } catch {
                    if !connection.isBroken { try? connection.executeScript("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    /// Runs `body` on a borrowed connection without `BEGIN`/`COMMIT`: each statement commits on its own, in one
    /// round trip. For work that is one atomic statement (a PostgreSQL data-modifying `WITH` …). Retried like
    /// ``transaction(_:)`` when the connection broke or the statement lost a deadlock (a failed statement
    /// changed nothing).
    @discardableResult
    public func autocommit<T: Sendable>(
        _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await retrying { try await self.withConnection(body) }
    }

    private func retrying<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as StoreError where error.isConnectionFailure || Self.isBusy(error) {
                attempt += 1
                if attempt > 8 { throw error }
                logger.warning(
                    "retrying transaction", metadata: ["pixcrawl.attempt": "\(attempt)", "pixcrawl.error": "\(error)"])
                try await Task.sleep(for: .milliseconds(min(2_000, 50 * (1 << attempt))))
            }
        }
    }

    static func isBusy(_ error: StoreError) -> Bool {
        error.detail.contains("database is locked") || error.detail.contains("database is busy")
            || error.detail.contains("deadlock detected") || error.detail.contains("could not serialize")
    }

    // MARK: Pool

    private func acquire() async throws -> PooledConnection {
        enum Next {
            case ready(PooledConnection)
            case create
            case wait
        }
        let next: Next = try state.withLock { state in
            if state.closed { throw StoreError.connectionFailed("the store was closed") }
            if let connection = state.idle.popLast() { return .ready(connection) }
            if state.open < maxConnections {
                state.open += 1
                return .create
            }
            return .wait
        }
        switch next {
        case .ready(let connection):
            if connection.isBroken {
                connection.close()
                state.withLock { $0.open -= 1 }
                return try await acquire()
            }
            return connection
        case .create:
            return try await createCounted()
        case .wait:
            let handed = try await withCheckedThrowingContinuation { continuation in
                state.withLock { $0.waiters.append(continuation) }
            }
            // nil: a slot was freed for us to open a new connection (already counted).
            if let handed { return handed }
            return try await createCounted()
        }
    }

    /// Opens a connection whose slot is already counted in `open`; retries with backoff while the
    /// server is away, up to `reconnectTimeout`.
    private func createCounted() async throws -> PooledConnection {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: reconnectTimeout)
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await Self.open(location)
            } catch let error as StoreError where error.isConnectionFailure && clock.now < deadline {
                logger.warning(
                    "store unreachable, reconnecting",
                    metadata: ["pixcrawl.store": "\(location)", "pixcrawl.error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            } catch {
                let waiter = state.withLock { state -> CheckedContinuation<PooledConnection?, any Error>? in
                    state.open -= 1
                    if !state.waiters.isEmpty {
                        state.open += 1
                        return state.waiters.removeFirst()
                    }
                    return nil
                }
                waiter?.resume(returning: nil)
                throw error
            }
        }
    }

    private func release(_ connection: PooledConnection) {
        let broken = connection.isBroken
        let action = state.withLock { state -> (CheckedContinuation<PooledConnection?, any Error>?, PooledConnection?, Bool) in
            if state.closed {
                state.open -= 1
                return (nil, nil, true)
            }
            if broken {
                state.open -= 1
                if !state.waiters.isEmpty {
                    state.open += 1
                    return (state.waiters.removeFirst(), nil, true)
                }
                return (nil, nil, true)
            }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), connection, false) }
            state.idle.append(connection)
            return (nil, nil, false)
        }
        if action.2 { connection.close() }
        action.0?.resume(returning: action.1)
    }

    private static func open(_ location: DatabaseLocation) async throws -> PooledConnection {
        let pooled = PooledConnection()
        try await pooled.connect(location)
        return pooled
    }

    private static func prepareSQLiteDirectory(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.connectionFailed(
                "cannot create the directory for the SQLite store \(path): "
                    + "\((error as NSError).localizedDescription)")
        }
    }
}

/// A connection with the serial queue it is used on.
// Safe: `connection` is only touched on `queue`, by the single borrower the pool lent it to.
final class PooledConnection: @unchecked Sendable {
    private let queue = DispatchQueue(label: "pixcrawl.store.connection")
    private var connection: (any SQLConnection)?

    var isBroken: Bool { queue.sync { connection?.isBroken ?? true } }

    func connect(_ location: DatabaseLocation) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                do {
                    switch location {
                    case .sqlite(let path):
                        self.connection = try SQLiteConnection(path: path)
                    case .postgres(let conninfo, let schema):
                        self.connection = try PostgresConnection(conninfo: conninfo, schema: schema)
                    }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let connection = self.connection else {
                    continuation.resume(throwing: StoreError.connectionFailed("connection is closed"))
                    return
                }
                continuation.resume(with: Result { try body(connection) })
            }
        }
    }

    func close() {
        queue.async { self.connection = nil }
    }
}

/// The value an attempt of a transaction computed before it sent COMMIT: what a retry returns when it
/// learns that commit landed.
private final class CommitAttempt<T: Sendable>: Sendable {
    private let box = Mutex<T?>(nil)

    var value: T? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
