import Dispatch
import Foundation
import PixSQL

/// Copies the embedded SQLite store to a file with SQLite's online backup API (through the driver's
/// ``PixSQL/SQLiteOnlineBackup``) while workers keep writing.
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
    public init(location: DatabaseLocation) throws {
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
                        do throws(SQLiteOnlineBackup.Failure) {
                            let copied = try SQLiteOnlineBackup.copy(
                                from: source, to: destination, overwrite: overwrite, busyMilliseconds: milliseconds)
                            return Summary(path: destination, pages: copied.pages, bytes: copied.bytes)
                        } catch {
                            throw StoreOperationsError.backupFailed(error.description)
                        }
                    })
            }
        }
    }
}
