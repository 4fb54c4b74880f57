import CSQLite
import Dispatch
import Foundation

/// Copies the embedded SQLite store to a file with SQLite's online backup API while workers keep writing.
///
/// The whole database is copied in one `sqlite3_backup_step(-1)`: in WAL mode that reads one consistent
/// snapshot without blocking writers (a step-by-step copy would restart whenever another connection
/// writes). The copy goes to a temporary file beside the destination, is switched to a self-contained
/// rollback journal, checked with `PRAGMA quick_check`, and only then renamed into place.
public struct SQLiteBackup: Sendable {
    /// What was written.
    public struct Summary: Sendable, Hashable {
        /// The backup file.
        public let path: String
        /// Database pages copied.
        public let pages: Int
        /// Size of the backup file in bytes.
        public let bytes: Int64
    }

    private let sourcePath: String

    /// - Parameter location: the store to back up; PostgreSQL is refused with a pointer to `pg_dump`.
    public init(location: StoreLocation) throws {
        guard case .sqlite(let path) = location else { throw StoreOperationsError.backupNeedsSQLite() }
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreOperationsError.backupFailed("no SQLite store at \(path)")
        }
        self.sourcePath = path
    }

    /// Writes the backup to `destination`.
    /// - Parameters:
    ///   - destination: the backup file to create.
    ///   - overwrite: replace an existing file (otherwise an existing file is refused).
    ///   - busyTimeout: how long to wait for a lock the backup needs.
    public func write(to destination: String, overwrite: Bool = false, busyTimeout: Duration = .seconds(30))
        async throws -> Summary
    {
        let source = sourcePath
        let milliseconds = Int32(clamping: busyTimeout.components.seconds * 1000)
        return try await withCheckedThrowingContinuation { continuation in
            // Blocking C calls: run them on a thread of their own, never on the cooperative pool.
            DispatchQueue.global().async {
                continuation.resume(
                    with: Swift.Result {
                        try Self.copy(from: source, to: destination, overwrite: overwrite, busyMilliseconds: milliseconds)
                    })
            }
        }
    }

    private static func copy(from source: String, to destination: String, overwrite: Bool, busyMilliseconds: Int32)
        throws -> Summary
    {
        let files = FileManager.default
        if files.fileExists(atPath: destination) && !overwrite {
            throw StoreOperationsError.backupFailed("\(destination) already exists; choose another file or pass --force")
        }
        if URL(fileURLWithPath: destination).standardizedFileURL == URL(fileURLWithPath: source).standardizedFileURL {
            throw StoreOperationsError.backupFailed("the backup file cannot be the store itself")
        }
        let temporary = destination + ".partial-\(getpid())"
        for suffix in ["", "-journal", "-wal", "-shm"] { try? files.removeItem(atPath: temporary + suffix) }
        var finished = false
        defer {
            if !finished { for suffix in ["", "-journal", "-wal", "-shm"] { try? files.removeItem(atPath: temporary + suffix) } }
        }

        let sourceHandle = try open(source, flags: SQLITE_OPEN_READWRITE, busyMilliseconds: busyMilliseconds)
        defer { sqlite3_close_v2(sourceHandle) }
        let targetHandle = try open(
            temporary, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busyMilliseconds: busyMilliseconds)
        var targetOpen = true
        defer { if targetOpen { sqlite3_close_v2(targetHandle) } }

        guard let backup = sqlite3_backup_init(targetHandle, "main", sourceHandle, "main") else {
            throw StoreOperationsError.backupFailed("cannot start the backup: \(message(targetHandle))")
        }
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(busyMilliseconds)))
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                guard ContinuousClock.now < deadline else { break }
                usleep(50_000)
            }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        let pages = Int(sqlite3_backup_pagecount(backup))
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finish == SQLITE_OK else {
            let reason = String(cString: sqlite3_errstr(rc == SQLITE_DONE ? finish : rc))
            throw StoreOperationsError.backupFailed("the backup of \(source) failed: \(reason)")
        }

        // A self-contained file: no WAL beside it. Then check what was written before publishing it.
        try execute(targetHandle, "PRAGMA journal_mode = DELETE")
        let check = try scalar(targetHandle, "PRAGMA quick_check")
        guard check == "ok" else {
            throw StoreOperationsError.backupFailed("the backup failed its integrity check: \(check ?? "no answer")")
        }
        sqlite3_close_v2(targetHandle)
        targetOpen = false

        let descriptor = Foundation.open(temporary, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(temporary, destination) == 0 else {
            throw StoreOperationsError.backupFailed(
                "cannot move the backup into place at \(destination): \(String(cString: strerror(errno)))")
        }
        finished = true
        let size = (try? files.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.int64Value ?? 0
        return Summary(path: destination, pages: pages, bytes: size)
    }

    private static func open(_ path: String, flags: Int32, busyMilliseconds: Int32) throws -> OpaquePointer {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map(message) ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw StoreOperationsError.backupFailed("cannot open \(path): \(reason)")
        }
        sqlite3_busy_timeout(handle, busyMilliseconds)
        return handle
    }

    private static func execute(_ handle: OpaquePointer, _ sql: String) throws {
        _ = try scalar(handle, sql)
    }

    private static func scalar(_ handle: OpaquePointer, _ sql: String) throws -> String? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StoreOperationsError.backupFailed("\(sql) failed: \(message(handle))")
        }
        defer { sqlite3_finalize(statement) }
        let rc = sqlite3_step(statement)
        guard rc == SQLITE_ROW || rc == SQLITE_DONE else {
            throw StoreOperationsError.backupFailed("\(sql) failed: \(message(handle))")
        }
        guard rc == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return nil }
        return String(cString: text)
    }

    private static func message(_ handle: OpaquePointer) -> String { String(cString: sqlite3_errmsg(handle)) }
}
