import Foundation

/// Applies numbered SQL migrations in order, once, recording each with its checksum.
///
/// Concurrent runs are serialised: PostgreSQL takes a transaction-scoped advisory lock keyed by the
/// schema, SQLite takes the write lock with `BEGIN IMMEDIATE`. Each file is applied in its own
/// transaction, after re-reading what is applied under the lock, so nothing is applied twice.
public struct Migrator: Sendable {
    /// The state of one migration file.
    public struct Entry: Sendable, Hashable {
        public let version: Int
        public let name: String
        /// When it was applied, or `nil` while pending.
        public let appliedAt: Date?
    }

    private let database: SQLDatabase
    private let files: [MigrationFile]

    /// - Parameters:
    ///   - database: the store to migrate.
    ///   - files: the migrations of the store's dialect (see ``MigrationFile/load(from:dialect:)``).
    public init(database: SQLDatabase, files: [MigrationFile]) {
        self.database = database
        self.files = files
    }

    /// Loads the dialect's files from `directory` (default: ``MigrationFile/defaultDirectory(environment:)``).
    public init(database: SQLDatabase, directory: URL? = nil) throws {
        self.init(
            database: database,
            files: try MigrationFile.load(from: directory ?? MigrationFile.defaultDirectory(), dialect: database.dialect))
    }

    /// Applies every pending migration; returns the ones this call applied (empty when up to date).
    /// Refuses to do anything when an applied file's checksum changed.
    @discardableResult
    public func migrate() async throws -> [MigrationFile] {
        var applied: [MigrationFile] = []
        for file in files {
            // SQLite migrations run with foreign keys off (a CHECK changes only by rebuilding the table, and
            // dropping a parent would cascade); every key is checked before the migration commits.
            let didApply = try await database.transaction(guardsReplay: false, foreignKeysOff: true) {
                [lockKey] connection in
                try Self.lockAndPrepare(connection, lockKey: lockKey)
                let recorded = try Self.recorded(connection)
                try Self.verify(files: files, recorded: recorded)
                if recorded[file.version] != nil { return false }
                do {
                    try connection.executeScript(file.sql)
                } catch {
                    throw StoreError.migrationFailed(file: file.name, reason: "\(error)")
                }
                if connection.dialect == .sqlite, let broken = try connection.query("PRAGMA foreign_key_check").first {
                    throw StoreError.migrationFailed(
                        file: file.name,
                        reason: "it leaves a row of \(broken.string("table") ?? "a table") without its parent "
                            + "\(broken.string("parent") ?? "")")
                }
                try connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    .int(file.version), .text(file.name), .text(file.checksum))
                return true
            }
            if didApply { applied.append(file) }
        }
        // Verify once more when nothing was pending, so an edited file is refused even then.
        if applied.isEmpty { _ = try await status() }
        return applied
    }

    /// Applied and pending migrations, in order. Throws when an applied file was edited.
    public func status() async throws -> [Entry] {
        let recorded = try await database.withConnection { [lockKey] connection -> [Int: RecordedMigration] in
            if connection.dialect == .postgres {
                let exists = try connection.query(
                    "SELECT to_regclass($1) IS NOT NULL AS present", .text("\(lockKey.schema).schema_migrations"))
                guard exists.first?.bool("present") == true else { return [:] }
            } else {
                let exists = try connection.query(
                    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
                guard exists.first?.int("n") == 1 else { return [:] }
            }
            return try Self.recorded(connection)
        }
        try Self.verify(files: files, recorded: recorded)
        return files.map { Entry(version: $0.version, name: $0.name, appliedAt: recorded[$0.version]?.appliedAt) }
    }

    /// True when every file is applied (what `/readyz` checks).
    public func isCurrent() async throws -> Bool {
        try await status().allSatisfy { $0.appliedAt != nil }
    }

    // MARK: Internals

    struct RecordedMigration: Sendable {
        let name: String
        let checksum: String
        let appliedAt: Date?
    }

    private struct LockKey: Sendable {
        let schema: String
    }

    private var lockKey: LockKey {
        switch database.location {
        case .postgres(_, let schema): LockKey(schema: schema)
        case .sqlite: LockKey(schema: "main")
        }
    }

    private static func lockAndPrepare(_ connection: any SQLConnection, lockKey: LockKey) throws {
        if connection.dialect == .postgres {
            try connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", .text("pixcrawl.migrate:\(lockKey.schema)"))
            try connection.executeScript(
                "CREATE SCHEMA IF NOT EXISTS \(PostgresConnection.quoteIdentifier(lockKey.schema)); "
                    + "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    + "checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())")
        } else {
            try connection.executeScript(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    + "checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))")
        }
    }

    private static func recorded(_ connection: any SQLConnection) throws -> [Int: RecordedMigration] {
        var result: [Int: RecordedMigration] = [:]
        for row in try connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations") {
            guard let version = row.int("version") else { continue }
            result[version] = RecordedMigration(
                name: row.string("name") ?? "", checksum: row.string("checksum") ?? "", appliedAt: row.date("applied_at"))
        }
        return result
    }

    private static func verify(files: [MigrationFile], recorded: [Int: RecordedMigration]) throws {
        for file in files {
            if let record = recorded[file.version], record.checksum != file.checksum {
                throw StoreError.migrationChecksumMismatch(file: file.name)
            }
        }
    }
}
