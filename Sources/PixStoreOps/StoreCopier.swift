import Foundation
import Logging
import PixCore
import PixSQL
import PixStore

/// Moves an embedded SQLite store into PostgreSQL: applies the target's migrations, copies every table of
/// ``StoreTables/copyOrder`` in batches (multi-row `INSERT`s with bound parameters, one transaction per
/// batch), preserving ids and converting types, advances the target's sequences past the copied ids, and
/// ends by comparing both stores (``StoreVerifier``).
///
/// The source is read inside one read transaction, so the copy and the verification see one consistent
/// snapshot even if something writes to it. Each batch commits together with its progress row in the
/// target (``StoreTables/progressTable``), so a copy killed at any instant resumes with
/// ``Options/resume`` exactly after its last committed batch and ends identical to one clean run.
public struct StoreCopier: Sendable {
    /// How to copy.
    public struct Options: Sendable {
        /// Rows read from the source and committed to the target per transaction.
        public var batchSize: Int
        /// Continue an interrupted copy instead of refusing a non-empty target.
        public var resume: Bool
        /// Copy even while workers hold unexpired leases on the source.
        public var force: Bool
        /// The migrations folder (default: ``MigrationFile/defaultDirectory(environment:)``).
        public var migrationsDirectory: URL?
        /// Test hook: stop with ``StoreOperationsError/interrupted(afterBatches:)`` after committing this many
        /// batches, as a kill would, leaving a target that ``resume`` continues.
        public var stopAfterBatches: Int?

        /// Options; the defaults copy 5,000 rows per batch into an empty target.
        public init(
            batchSize: Int = 5000, resume: Bool = false, force: Bool = false, migrationsDirectory: URL? = nil,
            stopAfterBatches: Int? = nil
        ) {
            self.batchSize = batchSize
            self.resume = resume
            self.force = force
            self.migrationsDirectory = migrationsDirectory
            self.stopAfterBatches = stopAfterBatches
        }
    }

    /// Where one table's copy stands.
    public struct Progress: Sendable, Hashable {
        /// The table being copied.
        public let table: String
        /// Rows in the target so far (including those of earlier, interrupted runs).
        public let copied: Int
        /// Rows in the source.
        public let total: Int
        /// Rows this run copied.
        public let copiedThisRun: Int
        /// Time this run spent on the table.
        public let elapsed: Duration

        /// Rows per second in this run, once there is something to measure.
        public var rowsPerSecond: Double? {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return seconds > 0 && copiedThisRun > 0 ? Double(copiedThisRun) / seconds : nil
        }

        /// Time left at the current rate.
        public var eta: Duration? {
            guard let rate = rowsPerSecond else { return nil }
            return .milliseconds(Int64(Double(max(0, total - copied)) / rate * 1000))
        }
    }

    /// What the copy is doing, for progress output.
    public enum Event: Sendable {
        /// Target migrations applied (file names; empty when it was up to date).
        case migrated([String])
        /// A table's copy begins (or resumes).
        case tableStarted(Progress)
        /// A batch of the table committed.
        case batchCommitted(Progress)
        /// A table was already complete from an earlier run.
        case tableAlreadyCopied(table: String, rows: Int)
        /// Sequences were advanced.
        case sequencesAdvanced([SequenceAdvance])
        /// Verification of a table begins.
        case verifying(table: String)
    }

    /// One table's outcome.
    public struct TableCopy: Sendable, Hashable, Codable {
        /// The table.
        public let table: String
        /// Rows in the source snapshot.
        public let sourceRows: Int
        /// Rows copied by this run (the rest came from earlier runs).
        public let copiedThisRun: Int
    }

    /// A PostgreSQL sequence moved past the copied ids.
    public struct SequenceAdvance: Sendable, Hashable, Codable {
        /// The table.
        public let table: String
        /// The column the sequence feeds (`id`).
        public let column: String
        /// The sequence, schema-qualified.
        public let sequence: String
        /// The last value handed out; the next id is one more (0: the table is empty, the next id is 1).
        public let lastValue: Int64
    }

    /// The outcome of a copy.
    public struct Report: Sendable {
        /// Target migrations this run applied.
        public let appliedMigrations: [String]
        /// Per table, in copy order.
        public let tables: [TableCopy]
        /// Sequences advanced.
        public let sequences: [SequenceAdvance]
        /// The comparison of both stores after the copy.
        public let verification: VerificationReport
    }

    private let source: DatabaseLocation
    private let target: DatabaseLocation
    private let options: Options
    private let logger: Logger

    /// - Parameters:
    ///   - source: the SQLite store to read (left unchanged).
    ///   - target: the PostgreSQL store (schema) to fill.
    ///   - options: batch size, resume, force.
    ///   - logger: for connection events.
    public init(
        from source: DatabaseLocation, to target: DatabaseLocation, options: Options = Options(),
        logger: Logger = Logger(label: "pixcrawl.migrate-store")
    ) throws {
        guard source.dialect == .sqlite else {
            throw StoreOperationsError.unsupportedStores("the source must be an SQLite store (sqlite:PATH)")
        }
        guard target.dialect == .postgres else {
            throw StoreOperationsError.unsupportedStores("the target must be a PostgreSQL store (postgres://…)")
        }
        if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
            throw StoreOperationsError.unsupportedStores("no SQLite store at \(path)")
        }
        self.source = source
        self.target = target
        self.options = options
        self.logger = logger
    }

    private var schema: String {
        if case .postgres(_, let schema) = target { return schema }
        return DatabaseLocation.defaultSchema
    }

    /// Runs the copy and the verification. A verification mismatch is reported, not thrown: check
    /// ``VerificationReport/passed``.
    /// - Parameter onEvent: progress callback (called from the copying task).
    public func run(onEvent: (@Sendable (Event) -> Void)? = nil) async throws -> Report {
        try await withStores { sourceDB, targetDB in
            if !options.force { try await Self.refuseLiveLeases(sourceDB) }
            let applied = try await migrateTarget(sourceDB: sourceDB, targetDB: targetDB)
            onEvent?(.migrated(applied))
            let plan = try await StoreVerifier.plan(source: sourceDB, target: targetDB)
            var progress = try await prepareProgress(targetDB, plan: plan)
            var tables: [TableCopy] = []
            var batches = 0
            for table in plan {
                tables.append(
                    try await copy(
                        table, sourceDB: sourceDB, targetDB: targetDB, state: &progress, batches: &batches,
                        onEvent: onEvent))
            }
            let sequences = try await advanceSequences(plan: plan, sourceDB: sourceDB, targetDB: targetDB)
            onEvent?(.sequencesAdvanced(sequences))
            let verification = try await StoreVerifier(source: sourceDB, target: targetDB)
                .verify(plan: plan) { onEvent?(.verifying(table: $0)) }
            return Report(appliedMigrations: applied, tables: tables, sequences: sequences, verification: verification)
        }
    }

    /// Compares the two stores without copying anything.
    public func verify(onEvent: (@Sendable (Event) -> Void)? = nil) async throws -> VerificationReport {
        try await withStores { sourceDB, targetDB in
            let plan = try await StoreVerifier.plan(source: sourceDB, target: targetDB)
            return try await StoreVerifier(source: sourceDB, target: targetDB)
                .verify(plan: plan) { onEvent?(.verifying(table: $0)) }
        }
    }

    // MARK: Stores and snapshot

    private func withStores<T: Sendable>(
        _ body: (SQLDatabase, SQLDatabase) async throws -> T
    ) async throws -> T {
        // One source connection: the read transaction below spans every statement of the run.
        let sourceDB = try await SQLDatabase(location: source, maxConnections: 1, logger: logger)
        defer { sourceDB.close() }
        let targetDB = try await SQLDatabase(location: target, maxConnections: 2, logger: logger)
        defer { targetDB.close() }
        try await sourceDB.withConnection { try $0.executeScript("BEGIN") }
        let value: T
        do {
            value = try await body(sourceDB, targetDB)
        } catch {
            _ = try? await sourceDB.withConnection { try $0.executeScript("ROLLBACK") }
            throw error
        }
        do {
            try await sourceDB.withConnection { try $0.executeScript("COMMIT") }
        } catch {
            throw StoreOperationsError.snapshotLost()
        }
        return value
    }

    /// Chunks and export jobs leased by a worker whose lease has not expired.
    static func refuseLiveLeases(_ sourceDB: SQLDatabase) async throws {
        let leases = try await sourceDB.withConnection { connection in
            try connection.query(
                """
                SELECT lease_owner, lease_expires_at FROM crawl_chunks
                WHERE status = 'active' AND lease_expires_at IS NOT NULL
                UNION ALL
                SELECT lease_owner, lease_expires_at FROM export_jobs
                WHERE status = 'running' AND lease_expires_at IS NOT NULL
                """
            ).map { ($0.string("lease_owner"), $0.string("lease_expires_at")) }
        }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let live = leases.filter { _, expires in
            guard let expires, let millis = CanonicalTimestamp.milliseconds(expires) else { return true }
            return millis > now
        }
        guard live.isEmpty else {
            let owners = Array(Set(live.compactMap(\.0))).sorted()
            throw StoreOperationsError.sourceActive(leases: live.count, owners: owners)
        }
    }

    /// Applies the target's migrations after checking the source is at the same level.
    private func migrateTarget(sourceDB: SQLDatabase, targetDB: SQLDatabase) async throws -> [String] {
        let directory = options.migrationsDirectory ?? MigrationFile.defaultDirectory()
        let files = try MigrationFile.load(from: directory, dialect: .postgres)
        let recorded = try await sourceDB.withConnection { connection -> Set<Int> in
            let present = try connection.query(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
            guard present.first?.int("n") == 1 else { return [] }
            return Set(try connection.query("SELECT version FROM schema_migrations").compactMap { $0.int("version") })
        }
        let expected = Set(files.map(\.version))
        let pending = files.filter { !recorded.contains($0.version) }.map(\.name)
        if !pending.isEmpty {
            throw StoreOperationsError.sourceNotMigrated(
                "the source store has pending migrations (\(pending.joined(separator: ", "))): run "
                    + "`pixcrawl migrate --database-url sqlite:…` on it first")
        }
        let unknown = recorded.subtracting(expected).sorted()
        if !unknown.isEmpty {
            throw StoreOperationsError.sourceNotMigrated(
                "the source store has migrations this pixcrawl does not have (versions "
                    + "\(unknown.map(String.init).joined(separator: ", "))): use the pixcrawl that wrote it")
        }
        return try await Migrator(database: targetDB, files: files).migrate().map(\.name)
    }

    // MARK: Progress state

    struct TableState: Sendable {
        var lastKey: String?
        var rows: Int
        var completed: Bool
    }

    /// Creates the progress table, then refuses a non-empty target unless resuming a copy whose progress
    /// matches the target's rows.
    private func prepareProgress(_ targetDB: SQLDatabase, plan: [TableSchema]) async throws -> [String: TableState] {
        let schema = schema
        let progressTable = "\"\(schema)\".\(StoreTables.progressTable)"
        let resume = options.resume
        return try await targetDB.transaction { connection in
            try connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS \(progressTable) (
                    table_name TEXT PRIMARY KEY,
                    last_key TEXT,
                    rows_copied BIGINT NOT NULL DEFAULT 0,
                    completed BOOLEAN NOT NULL DEFAULT FALSE,
                    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW())
                """)
            var state: [String: TableState] = [:]
            for row in try connection.query("SELECT table_name, last_key, rows_copied, completed FROM \(progressTable)") {
                guard let name = row.string("table_name") else { continue }
                state[name] = TableState(
                    lastKey: row.string("last_key"), rows: row.int("rows_copied") ?? 0,
                    completed: row.bool("completed") ?? false)
            }
            for table in plan {
                let qualified = table.qualified(.postgres, schema: schema)
                let hasRows =
                    try connection.query("SELECT EXISTS (SELECT 1 FROM \(qualified)) AS present").first?.bool("present")
                    ?? false
                guard hasRows else {
                    if resume, let recorded = state[table.name], recorded.rows > 0 {
                        throw StoreOperationsError.resumeStateInvalid(
                            table: table.name, "the progress records \(recorded.rows) rows but the table is empty")
                    }
                    continue
                }
                guard resume else {
                    throw StoreOperationsError.targetNotEmpty(table: table.name, resumable: state[table.name] != nil)
                }
                guard let recorded = state[table.name] else {
                    throw StoreOperationsError.targetNotEmpty(table: table.name, resumable: false)
                }
                let count = try connection.query("SELECT COUNT(*) AS n FROM \(qualified)").first?.int("n") ?? 0
                if count != recorded.rows {
                    throw StoreOperationsError.resumeStateInvalid(
                        table: table.name,
                        "it holds \(count) rows but the progress records \(recorded.rows); start over in an empty schema")
                }
            }
            if !resume {
                try connection.query("DELETE FROM \(progressTable)")
                state = [:]
            }
            return state
        }
    }

    // MARK: Copy

    private func copy(
        _ table: TableSchema, sourceDB: SQLDatabase, targetDB: SQLDatabase, state: inout [String: TableState],
        batches: inout Int, onEvent: (@Sendable (Event) -> Void)?
    ) async throws -> TableCopy {
        let sourceTable = table.qualified(.sqlite, schema: nil)
        let total = try await sourceDB.withConnection { connection in
            try connection.query("SELECT COUNT(*) AS n FROM \(sourceTable)").first?.int("n") ?? 0
        }
        var current = state[table.name] ?? TableState(lastKey: nil, rows: 0, completed: false)
        if current.completed {
            onEvent?(.tableAlreadyCopied(table: table.name, rows: current.rows))
            return TableCopy(table: table.name, sourceRows: total, copiedThisRun: 0)
        }
        let clock = ContinuousClock()
        let started = clock.now
        var copiedThisRun = 0
        func progress() -> Progress {
            Progress(
                table: table.name, copied: current.rows, total: total, copiedThisRun: copiedThisRun,
                elapsed: clock.now - started)
        }
        onEvent?(.tableStarted(progress()))
        let batchSize = max(1, options.batchSize)
        let order = table.keyExpression(.sqlite)
        while true {
            var sql = "SELECT \(table.selectList) FROM \(sourceTable)"
            var binds: [SQLValue] = []
            if let lastKey = current.lastKey {
                sql += " WHERE \(order) > $1"
                binds.append(table.keyBind(lastKey))
            }
            sql += " ORDER BY \(order) LIMIT \(batchSize)"
            let rows = try await sourceDB.withConnection { [sql, binds] in try $0.query(sql, binds) }
            let done = rows.count < batchSize
            let next = TableState(
                lastKey: rows.last.map(table.keyString) ?? current.lastKey, rows: current.rows + rows.count,
                completed: done)
            let statements = try Self.insertStatements(table, rows: rows, schema: schema)
            let progressTable = "\"\(schema)\".\(StoreTables.progressTable)"
            let tableName = table.name
            do {
                try await targetDB.transaction { connection in
                    for (sql, binds) in statements { try connection.query(sql, binds) }
                    try connection.query(
                        """
                        INSERT INTO \(progressTable) (table_name, last_key, rows_copied, completed, updated_at)
                        VALUES ($1, $2, $3, $4, now())
                        ON CONFLICT (table_name) DO UPDATE SET last_key = EXCLUDED.last_key,
                            rows_copied = EXCLUDED.rows_copied, completed = EXCLUDED.completed, updated_at = now()
                        """, .text(tableName), .optional(next.lastKey), .int(next.rows), .bool(next.completed))
                }
            } catch let error as StoreError {
                throw StoreOperationsError.copyFailed(table: table.name, afterKey: current.lastKey, error.detail)
            }
            current = next
            state[table.name] = next
            copiedThisRun += rows.count
            if !rows.isEmpty {
                batches += 1
                onEvent?(.batchCommitted(progress()))
                if let stop = options.stopAfterBatches, batches >= stop {
                    throw StoreOperationsError.interrupted(afterBatches: batches)
                }
            }
            if done { break }
        }
        return TableCopy(table: table.name, sourceRows: total, copiedThisRun: copiedThisRun)
    }

    /// Multi-row `INSERT`s for one batch, each within PostgreSQL's 65,535 bound parameters.
    static func insertStatements(_ table: TableSchema, rows: [SQLRow], schema: String) throws -> [(String, [SQLValue])] {
        guard !rows.isEmpty else { return [] }
        let columns = table.columns
        let perStatement = max(1, min(1000, 65_535 / columns.count))
        let head =
            "INSERT INTO \(table.qualified(.postgres, schema: schema)) (\(table.selectList)) OVERRIDING SYSTEM VALUE VALUES "
        var statements: [(String, [SQLValue])] = []
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let slice = rows[start..<min(start + perStatement, rows.count)]
            var tuples: [String] = []
            tuples.reserveCapacity(slice.count)
            var binds: [SQLValue] = []
            binds.reserveCapacity(slice.count * columns.count)
            for row in slice {
                var placeholders: [String] = []
                placeholders.reserveCapacity(columns.count)
                for (index, column) in columns.enumerated() {
                    binds.append(try bindValue(row.cells[index], column: column, table: table, row: row))
                    placeholders.append("$\(binds.count)\(column.cast)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            statements.append((head + tuples.joined(separator: ", "), binds))
        }
        return statements
    }

    /// Converts an SQLite cell into the value bound for the PostgreSQL column.
    static func bindValue(_ cell: SQLRow.Cell, column: ColumnSchema, table: TableSchema, row: SQLRow) throws -> SQLValue {
        func fail(_ detail: String) -> StoreOperationsError {
            StoreOperationsError.conversionFailed(
                table: table.name, key: table.keyString(row), column: column.name, detail)
        }
        switch (cell, column.kind) {
        case (.null, _):
            return .null
        case (.int(let number), .integer):
            return .int(number)
        case (.double(let number), .integer):
            guard let exact = Int64(exactly: number) else { throw fail("\(number) is not an integer") }
            return .int(exact)
        case (.text(let text), .integer):
            guard let number = Int64(text) else { throw fail("'\(text.prefix(40))' is not an integer") }
            return .int(number)
        case (.int(let number), .double):
            return .double(Double(number))
        case (.double(let number), .double):
            return .double(number)
        case (.text(let text), .double):
            guard let number = Double(text) else { throw fail("'\(text.prefix(40))' is not a number") }
            return .double(number)
        case (.int(let number), .boolean):
            return .bool(number != 0)
        case (.double(let number), .boolean):
            return .bool(number != 0)
        case (.text(let text), .boolean):
            switch text {
            case "t", "true", "1": return .bool(true)
            case "f", "false", "0": return .bool(false)
            default: throw fail("'\(text.prefix(40))' is not a boolean")
            }
        case (.text(let text), .timestamp):
            guard CanonicalTimestamp.milliseconds(text) != nil else {
                throw fail("'\(text.prefix(40))' is not an ISO-8601 timestamp")
            }
            return .text(text)
        case (.text(let text), .json):
            guard CanonicalJSON.canonical(text) != nil else { throw fail("the value is not valid JSON") }
            return .text(text)
        case (.int(let number), .json):
            return .text(String(number))
        case (.double(let number), .json):
            return .text(String(number))
        case (.text(let text), .uuid):
            guard UUID(uuidString: text) != nil else { throw fail("'\(text.prefix(40))' is not a UUID") }
            return .text(text)
        case (.text(let text), .text), (.text(let text), .paddedText):
            return .text(text)
        case (.int(let number), .text), (.int(let number), .paddedText):
            return .text(String(number))
        case (.double(let number), .text), (.double(let number), .paddedText):
            return .text(String(number))
        case (.int, .timestamp), (.double, .timestamp), (.int, .uuid), (.double, .uuid):
            throw fail("a number where a \(column.kind.rawValue) belongs")
        }
    }

    // MARK: Sequences

    /// Moves every sequence owned by a copied column past the largest copied id (and past SQLite's
    /// AUTOINCREMENT high-water mark, so ids of deleted rows are not handed out again).
    private func advanceSequences(plan: [TableSchema], sourceDB: SQLDatabase, targetDB: SQLDatabase) async throws
        -> [SequenceAdvance]
    {
        let highWater = try await sourceDB.withConnection { connection -> [String: Int64] in
            let present = try connection.query(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
            guard present.first?.int("n") == 1 else { return [:] }
            var marks: [String: Int64] = [:]
            for row in try connection.query("SELECT name, seq FROM sqlite_sequence") {
                if let name = row.string("name"), let seq = row.int64("seq") { marks[name] = seq }
            }
            return marks
        }
        let schema = schema
        return try await targetDB.transaction { connection in
            var advanced: [SequenceAdvance] = []
            for table in plan {
                let qualified = table.qualified(.postgres, schema: schema)
                for column in table.columns where column.kind == .integer {
                    guard
                        let sequence = try connection.query(
                            "SELECT pg_get_serial_sequence($1, $2) AS seq", .text(qualified), .text(column.name)
                        ).first?.string("seq")
                    else { continue }
                    let maximum =
                        try connection.query("SELECT MAX(\(column.quoted)) AS m FROM \(qualified)").first?.int64("m") ?? 0
                    let mark = column == table.key ? highWater[table.name] ?? 0 : 0
                    let last = max(maximum, mark)
                    if last > 0 {
                        try connection.query("SELECT setval($1::regclass, $2, true)", .text(sequence), .int(last))
                    } else {
                        try connection.query("SELECT setval($1::regclass, 1, false)", .text(sequence))
                    }
                    advanced.append(
                        SequenceAdvance(table: table.name, column: column.name, sequence: sequence, lastValue: last))
                }
            }
            return advanced
        }
    }
}
