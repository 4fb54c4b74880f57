import Crypto
import Foundation
import PixCore
import PixSQL
import PixStore

/// Compares every application table of an SQLite store with a PostgreSQL store row by row: counts, a
/// SHA-256 checksum over a canonical rendering of the rows in key order (see ``ColumnKind``), and the first
/// differing primary key. Both stores are read in pages, never whole.
public struct StoreVerifier: Sendable {
    private let source: SQLDatabase
    private let target: SQLDatabase
    private let batchSize: Int

    /// - Parameters:
    ///   - source: the SQLite store.
    ///   - target: the PostgreSQL store.
    ///   - batchSize: rows read per page from each side.
    public init(source: SQLDatabase, target: SQLDatabase, batchSize: Int = 2000) {
        self.source = source
        self.target = target
        self.batchSize = max(1, batchSize)
    }

    /// Compares the stores table by table.
    /// - Parameter onTable: called as each table is about to be compared.
    public func verify(onTable: (@Sendable (String) -> Void)? = nil) async throws -> VerificationReport {
        let plan = try await Self.plan(source: source, target: target)
        return try await verify(plan: plan, onTable: onTable)
    }

    /// Reads both catalogs and checks them against ``StoreTables/copyOrder``.
    static func plan(source: SQLDatabase, target: SQLDatabase) async throws -> [TableSchema] {
        guard source.dialect == .sqlite, case .postgres(_, let schema) = target.location else {
            throw StoreOperationsError.unsupportedStores(
                "comparing stores needs an SQLite source and a PostgreSQL target")
        }
        let sourceCatalog = try await source.withConnection { try StoreCatalog.read($0, schema: schema) }
        let targetCatalog = try await target.withConnection { try StoreCatalog.read($0, schema: schema) }
        return try StoreCatalog.plan(source: sourceCatalog, target: targetCatalog)
    }

    func verify(plan: [TableSchema], onTable: (@Sendable (String) -> Void)?) async throws -> VerificationReport {
        var tables: [TableVerification] = []
        for table in plan {
            onTable?(table.name)
            tables.append(try await verify(table))
        }
        return VerificationReport(tables: tables)
    }

    private func verify(_ table: TableSchema) async throws -> TableVerification {
        var left = RowCursor(database: source, table: table, batchSize: batchSize)
        var right = RowCursor(database: target, table: table, batchSize: batchSize)
        var leftHash = SHA256()
        var rightHash = SHA256()
        var leftCount = 0
        var rightCount = 0
        var differingKey: String?
        var differingColumn: String?
        while true {
            let a = try await left.next()
            let b = try await right.next()
            if a == nil && b == nil { break }
            if let a {
                leftCount += 1
                leftHash.update(data: CanonicalRow.encode(a.values))
            }
            if let b {
                rightCount += 1
                rightHash.update(data: CanonicalRow.encode(b.values))
            }
            guard differingKey == nil else { continue }
            switch (a, b) {
            case (let a?, nil): differingKey = a.key
            case (nil, let b?): differingKey = b.key
            case (let a?, let b?):
                if a.key != b.key {
                    differingKey = table.keyPrecedes(a.key, b.key) ? a.key : b.key
                } else if a.values != b.values {
                    differingKey = a.key
                    differingColumn = zip(table.columns, zip(a.values, b.values)).first { $0.1.0 != $0.1.1 }?.0.name
                }
            case (nil, nil): break
            }
        }
        return TableVerification(
            table: table.name, sourceRows: leftCount, targetRows: rightCount,
            sourceChecksum: Self.hex(leftHash.finalize()), targetChecksum: Self.hex(rightHash.finalize()),
            firstDifferingKey: differingKey, firstDifferingColumn: differingColumn)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Pages through one table of one store in key order, rendering rows canonically.
struct RowCursor {
    struct Rendered: Sendable {
        let key: String
        let values: [String?]
    }

    let database: SQLDatabase
    let table: TableSchema
    let batchSize: Int
    private var buffer: [Rendered] = []
    private var position = 0
    private var lastKey: String?
    private var exhausted = false

    init(database: SQLDatabase, table: TableSchema, batchSize: Int) {
        self.database = database
        self.table = table
        self.batchSize = batchSize
    }

    mutating func next() async throws -> Rendered? {
        if position == buffer.count {
            guard !exhausted else { return nil }
            let rows = try await fetch(after: lastKey)
            buffer = rows
            position = 0
            if rows.count < batchSize { exhausted = true }
            guard let last = rows.last else {
                exhausted = true
                return nil
            }
            lastKey = last.key
        }
        defer { position += 1 }
        return buffer[position]
    }

    private func fetch(after key: String?) async throws -> [Rendered] {
        let dialect = database.dialect
        let schema: String? = if case .postgres(_, let name) = database.location { name } else { nil }
        let order = table.keyExpression(dialect)
        var sql = "SELECT \(table.selectList) FROM \(table.qualified(dialect, schema: schema))"
        var binds: [SQLValue] = []
        if let key {
            sql += " WHERE \(order) > $1"
            binds.append(table.keyBind(key))
        }
        sql += " ORDER BY \(order) LIMIT \(batchSize)"
        let table = self.table
        return try await database.withConnection { [sql, binds] connection in
            try connection.query(sql, binds).map { row in
                Rendered(key: table.keyString(row), values: CanonicalRow.values(row, table: table))
            }
        }
    }
}
