import CSQLite
import Foundation

/// Copies the embedded SQLite store to a file with SQLite's online backup API while workers keep writing.
///
/// The whole database is copied in one `sqlite3_backup_step(-1)`: in WAL mode that reads one consistent
/// snapshot without blocking writers (a step-by-step copy would restart whenever another connection
/// writes). The copy goes to a temporary file beside the destination, is switched to a self-contained
/// rollback journal, checked with `PRAGMA quick_check`, and only then renamed into place.
public enum SQLiteOnlineBackup {
    /// A backup that could not be made, and why.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public let description: String

        init(_ description: String) {
            self.description = description
        }
    }

    /// Copies the SQLite database at `source` to `destination` (blocking: call it off the cooperative pool).
    /// - Parameters:
    ///   - source: the database file.
    ///   - destination: the backup file to create.
    ///   - overwrite: replace an existing file (otherwise an existing file is refused).
    ///   - busyMilliseconds: how long to wait for a lock the backup needs.
    /// - Returns: the database pages copied and the size of the backup file.
    /// - Throws: ``Failure``.
    public static func copy(from source: String, to destination: String, overwrite: Bool, busyMilliseconds: Int32)
        throws(Failure) -> (pages: Int, bytes: Int64)
    {
        let files = FileManager.default
        if files.fileExists(atPath: destination) && !overwrite {
            throw Failure("\(destination) already exists; choose another file or pass --force")
        }
        if URL(fileURLWithPath: destination).standardizedFileURL == URL(fileURLWithPath: source).standardizedFileURL {
            throw Failure("the backup file cannot be the store itself")
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
            throw Failure("cannot start the backup: \(message(targetHandle))")
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
            throw Failure("the backup of \(source) failed: \(reason)")
        }

        // A self-contained file: no WAL beside it. Then check what was written before publishing it.
        try execute(targetHandle, "PRAGMA journal_mode = DELETE")
        let check = try scalar(targetHandle, "PRAGMA quick_check")
        guard check == "ok" else {
            throw Failure("the backup failed its integrity check: \(check ?? "no answer")")
        }
        sqlite3_close_v2(targetHandle)
        targetOpen = false

        let descriptor = Foundation.open(temporary, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(temporary, destination) == 0 else {
            throw Failure(
                "cannot move the backup into place at \(destination): \(String(cString: strerror(errno)))")
        }
        finished = true
        let size = (try? files.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.int64Value ?? 0
        return (pages, size)
    }

    private static func open(_ path: String, flags: Int32, busyMilliseconds: Int32) throws(Failure) -> OpaquePointer {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map(message) ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw Failure("cannot open \(path): \(reason)")
        }
        sqlite3_busy_timeout(handle, busyMilliseconds)
        return handle
    }

    private static func execute(_ handle: OpaquePointer, _ sql: String) throws(Failure) {
        _ = try scalar(handle, sql)
    }

    private static func scalar(_ handle: OpaquePointer, _ sql: String) throws(Failure) -> String? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw Failure("\(sql) failed: \(message(handle))")
        }
        defer { sqlite3_finalize(statement) }
        let rc = sqlite3_step(statement)
        guard rc == SQLITE_ROW || rc == SQLITE_DONE else {
            throw Failure("\(sql) failed: \(message(handle))")
        }
        guard rc == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return nil }
        return String(cString: text)
    }

    private static func message(_ handle: OpaquePointer) -> String { String(cString: sqlite3_errmsg(handle)) }
}
