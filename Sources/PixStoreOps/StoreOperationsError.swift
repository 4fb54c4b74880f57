import PixCore
import PixSQL
import PixStore

/// An error from a store operation (migrate-store, verification, retention, backup, stats) with a
/// description a person can act on. Never carries a password or a full connection string.
public struct StoreOperationsError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case unsupportedStores
        case targetNotEmpty
        case sourceActive
        case sourceNotMigrated
        case unknownTable
        case schemaMismatch
        case conversionFailed
        case copyFailed
        case resumeStateInvalid
        case interrupted
        case snapshotLost
        case backupFailed
        case backupNeedsSQLite
        case invalidTimeSpan
    }

    private let code: Code
    /// The table, file or value the error is about, when there is one.
    public let subject: String?
    /// What went wrong and what to do about it.
    public let description: String

    private init(_ code: Code, subject: String? = nil, _ description: String) {
        self.code = code
        self.subject = subject
        self.description = description
    }

    /// migrate-store copies from an SQLite store into a PostgreSQL store only.
    public static func unsupportedStores(_ detail: String) -> StoreOperationsError {
        StoreOperationsError(.unsupportedStores, detail)
    }

    /// The target already holds rows (in `table`) that migrate-store did not write, or `--resume` was not given.
    public static func targetNotEmpty(table: String, resumable: Bool) -> StoreOperationsError {
        let hint =
            resumable
            ? "it holds an interrupted migrate-store: re-run with --resume to continue it"
            : "it holds rows migrate-store did not write: point --to at an empty schema (e.g. ?schema=pixcrawl_new)"
        return StoreOperationsError(
            .targetNotEmpty, subject: table, "the target store is not empty (table \(table) has rows); \(hint)")
    }

    /// Workers hold unexpired leases on the source.
    public static func sourceActive(leases: Int, owners: [String]) -> StoreOperationsError {
        let who = owners.isEmpty ? "" : " (held by \(owners.prefix(5).joined(separator: ", ")))"
        return StoreOperationsError(
            .sourceActive,
            "workers are active on the source store: \(leases) unexpired lease(s)\(who); stop the workers and wait "
                + "for their leases to expire, or pass --force if they are gone for good")
    }

    /// The source store is not at the migration level this binary's migrations describe.
    public static func sourceNotMigrated(_ detail: String) -> StoreOperationsError {
        StoreOperationsError(.sourceNotMigrated, detail)
    }

    /// A table exists that the copy order does not know: copying it silently could lose or misorder rows.
    public static func unknownTable(_ table: String, side: String) -> StoreOperationsError {
        StoreOperationsError(
            .unknownTable, subject: table,
            "the \(side) store has a table \(table) that migrate-store does not know; add it to "
                + "StoreTables.copyOrder (in foreign-key order) before migrating")
    }

    /// The two stores' tables or columns differ, or a table cannot be copied as described.
    public static func schemaMismatch(table: String, _ detail: String) -> StoreOperationsError {
        StoreOperationsError(.schemaMismatch, subject: table, "table \(table): \(detail)")
    }

    /// A source value cannot be represented in the target column.
    public static func conversionFailed(table: String, key: String, column: String, _ detail: String)
        -> StoreOperationsError
    {
        StoreOperationsError(
            .conversionFailed, subject: table, "table \(table), row \(key), column \(column): \(detail)")
    }

    /// The target refused a batch (a foreign key to a missing row, a value longer than its column, …).
    public static func copyFailed(table: String, afterKey: String?, _ detail: String) -> StoreOperationsError {
        let position = afterKey.map { "rows after key \($0)" } ?? "the first rows"
        return StoreOperationsError(
            .copyFailed, subject: table,
            "copying table \(table) (\(position)) failed: \(detail); fix the source row and re-run with --resume")
    }

    /// The progress recorded in the target does not match its rows.
    public static func resumeStateInvalid(table: String, _ detail: String) -> StoreOperationsError {
        StoreOperationsError(.resumeStateInvalid, subject: table, "cannot resume table \(table): \(detail)")
    }

    /// The copy stopped after a given number of batches (a test hook standing in for a kill).
    public static func interrupted(afterBatches: Int) -> StoreOperationsError {
        StoreOperationsError(
            .interrupted, "stopped after \(afterBatches) committed batch(es); re-run with --resume to continue")
    }

    /// The source's read snapshot ended before the copy did (its connection broke).
    public static func snapshotLost() -> StoreOperationsError {
        StoreOperationsError(
            .snapshotLost, "the source store's read snapshot was lost during the copy; re-run with --resume")
    }

    /// The online backup failed.
    public static func backupFailed(_ detail: String) -> StoreOperationsError {
        StoreOperationsError(.backupFailed, detail)
    }

    /// `pixcrawl backup` was pointed at PostgreSQL.
    public static func backupNeedsSQLite() -> StoreOperationsError {
        StoreOperationsError(
            .backupNeedsSQLite,
            "pixcrawl backup copies the embedded SQLite store; for PostgreSQL use pg_dump, e.g. "
                + "pg_dump --format=custom --schema=pixcrawl --file=pixcrawl.dump \"$PIXCRAWL_DATABASE_URL\" "
                + "(restore with pg_restore --dbname=…)")
    }

    /// A time span such as `30d` could not be read.
    public static func invalidTimeSpan(_ text: String) -> StoreOperationsError {
        StoreOperationsError(
            .invalidTimeSpan, subject: text,
            "'\(text)' is not a time span: use a number and a unit, e.g. 90s, 45m, 24h, 30d, 2w (or 1d12h)")
    }

    // Kinds, for callers and tests that react to one.

    /// See ``unsupportedStores(_:)``.
    public var isUnsupportedStores: Bool { code == .unsupportedStores }
    /// See ``targetNotEmpty(table:resumable:)``.
    public var isTargetNotEmpty: Bool { code == .targetNotEmpty }
    /// See ``sourceActive(leases:owners:)``.
    public var isSourceActive: Bool { code == .sourceActive }
    /// See ``sourceNotMigrated(_:)``.
    public var isSourceNotMigrated: Bool { code == .sourceNotMigrated }
    /// See ``unknownTable(_:side:)``.
    public var isUnknownTable: Bool { code == .unknownTable }
    /// See ``schemaMismatch(table:_:)``.
    public var isSchemaMismatch: Bool { code == .schemaMismatch }
    /// See ``conversionFailed(table:key:column:_:)``.
    public var isConversionFailed: Bool { code == .conversionFailed }
    /// See ``copyFailed(table:afterKey:_:)``.
    public var isCopyFailed: Bool { code == .copyFailed }
    /// See ``resumeStateInvalid(table:_:)``.
    public var isResumeStateInvalid: Bool { code == .resumeStateInvalid }
    /// See ``interrupted(afterBatches:)``.
    public var isInterrupted: Bool { code == .interrupted }
    /// See ``snapshotLost()``.
    public var isSnapshotLost: Bool { code == .snapshotLost }
    /// See ``backupFailed(_:)``.
    public var isBackupFailed: Bool { code == .backupFailed }
    /// See ``backupNeedsSQLite()``.
    public var isBackupNeedsSQLite: Bool { code == .backupNeedsSQLite }
    /// See ``invalidTimeSpan(_:)``.
    public var isInvalidTimeSpan: Bool { code == .invalidTimeSpan }
}
