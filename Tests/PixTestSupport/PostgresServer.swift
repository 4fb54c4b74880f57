import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server of the test process's own: initdb into a temporary folder, started with pg_ctl on a free
/// loopback port (as the `postgres` user when the process runs as root), restartable, stopped with
/// ``stop()`` or when the process exits.
public final class PostgresServer: @unchecked Sendable {
    /// The server's base URL (`postgres://postgres@127.0.0.1:PORT/postgres`).
    public let url: String
    /// Its loopback port.
    public let port: Int
    private let pgCtl: String
    private let data: String
    private let base: URL
    private let options: String
    private let lock = NSLock()
    private var running = true

    nonisolated(unsafe) private static var started: [PostgresServer] = []
    private static let startedLock = NSLock()

    /// Creates a fresh cluster and starts it.
    /// - Parameter maxConnections: `max_connections` of the server.
    public init(maxConnections: Int = 300) throws {
        let initdb = try TestPostgres.findBinary("initdb")
        pgCtl = try TestPostgres.findBinary("pg_ctl")
        base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixcrawl-pg-\(getpid())-\(UUID().uuidString.prefix(8))")
        data = base.appendingPathComponent("data").path
        let socket = base.appendingPathComponent("socket").path
        try FileManager.default.createDirectory(atPath: socket, withIntermediateDirectories: true)
        if getuid() == 0 {
            try TestPostgres.run(["chown", "-R", "postgres", base.path], asPostgres: false)
        }
        try TestPostgres.run(
            [initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], asPostgres: true)
        port = try TestPostgres.freePort()
        options =
            "-p \(port) -k \(socket) -c listen_addresses=127.0.0.1 -c fsync=off "
            + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=\(maxConnections)"
        url = "postgres://postgres@127.0.0.1:\(port)/postgres"
        try pgControl(["-o", options, "-l", base.appendingPathComponent("log").path, "-w", "start"])
        Self.startedLock.withLock {
            if Self.started.isEmpty {
                atexit { PostgresServer.startedLock.withLock { PostgresServer.started }.forEach { $0.stop() } }
            }
            Self.started.append(self)
        }
    }

    private func pgControl(_ arguments: [String]) throws {
        try TestPostgres.run([pgCtl, "-D", data] + arguments, asPostgres: true)
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every connection is cut, the data stays.
    public func restart() throws {
        try lock.withLock {
            try pgControl(["-m", "fast", "-o", options, "-l", base.appendingPathComponent("log").path, "-w", "restart"])
        }
    }

    /// Stops the server immediately and removes its files; later calls do nothing.
    public func stop() {
        lock.withLock {
            guard running else { return }
            running = false
            _ = try? pgControl(["-m", "immediate", "stop"])
            try? FileManager.default.removeItem(at: base)
        }
    }

    /// Runs SQL with `psql` against the server (for tests that act as another client).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let psql = try TestPostgres.findBinary("psql")
        return try TestPostgres.run(
            [
                psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres",
                "-d", database, "-c", sql,
            ], asPostgres: false)
    }
}
