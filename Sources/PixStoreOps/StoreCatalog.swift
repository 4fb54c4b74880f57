import Foundation
import PixCore
import PixSQL
import PixStore

/// How a column's values travel between the engines and how they are rendered for checksums.
public enum ColumnKind: String, Sendable, Hashable, Codable {
    /// `INTEGER` in SQLite, `smallint`/`integer`/`bigint` in PostgreSQL.
    case integer
    /// `REAL` / `double precision`.
    case double
    /// 0/1 in SQLite, `boolean` in PostgreSQL.
    case boolean
    /// ISO-8601 text in SQLite, `timestamptz` in PostgreSQL.
    case timestamp
    /// Checked JSON text in SQLite, `jsonb` in PostgreSQL.
    case json
    /// Text in SQLite, `uuid` in PostgreSQL.
    case uuid
    /// Text in both.
    case text
    /// `CHAR(n)`: PostgreSQL pads with spaces, so trailing spaces do not count.
    case paddedText
}

/// One column of a table being copied, typed by the target's catalog.
struct ColumnSchema: Sendable, Hashable {
    let name: String
    let kind: ColumnKind
    /// The PostgreSQL cast a bound text parameter needs for this column (`::jsonb`), or empty.
    let cast: String

    var quoted: String { "\"\(name)\"" }
}

/// A table as migrate-store copies and verifies it.
struct TableSchema: Sendable, Hashable {
    let name: String
    /// Columns in the target's order; the source selects them by name in the same order.
    let columns: [ColumnSchema]
    /// The single-column primary key used for keyset paging and resume.
    let key: ColumnSchema

    var keyIndex: Int { columns.firstIndex(of: key) ?? 0 }

    /// The table's name as a statement should spell it in `dialect` (schema-qualified on PostgreSQL).
    func qualified(_ dialect: SQLDialect, schema: String?) -> String {
        switch dialect {
        case .sqlite: "\"\(name)\""
        case .postgres: schema.map { "\"\($0)\".\"\(name)\"" } ?? "\"\(name)\""
        }
    }

    /// The expression rows are ordered and paged by; it sorts identically in both engines (bytewise).
    func keyExpression(_ dialect: SQLDialect) -> String {
        switch (key.kind, dialect) {
        case (.integer, _): key.quoted
        case (.uuid, .sqlite): "lower(\(key.quoted))"
        case (.uuid, .postgres): "\(key.quoted)::text COLLATE \"C\""
        case (_, .sqlite): key.quoted
        case (_, .postgres): "\(key.quoted) COLLATE \"C\""
        }
    }

    /// The bound value for "rows after `key`".
    func keyBind(_ key: String) -> SQLValue {
        if self.key.kind == .integer, let number = Int64(key) { return .int(number) }
        return .text(key)
    }

    /// The key of a fetched row, as recorded in the progress table and reported in mismatches.
    func keyString(_ row: SQLRow) -> String {
        let cell = row.cells[keyIndex]
        switch (cell, key.kind) {
        case (.null, _): return ""
        case (.int(let value), _): return String(value)
        case (.double(let value), _): return String(value)
        case (.text(let value), .uuid): return value.lowercased()
        case (.text(let value), _): return value
        }
    }

    /// Orders two keys the way ``keyExpression(_:)`` sorts them.
    func keyPrecedes(_ left: String, _ right: String) -> Bool {
        if key.kind == .integer, let a = Int64(left), let b = Int64(right) { return a < b }
        return Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8))
    }

    var selectList: String { columns.map(\.quoted).joined(separator: ", ") }
}

/// What one store's catalog says about its tables.
struct StoreCatalog: Sendable {
    struct Table: Sendable {
        var columns: [(name: String, type: String)] = []
        var primaryKey: [String] = []
        var parents: Set<String> = []
    }

    let dialect: SQLDialect
    var tables: [String: Table]

    /// Reads the catalog: every base table with its columns, primary key and referenced tables.
    /// - Parameter schema: the PostgreSQL schema (ignored for SQLite).
    static func read(_ connection: any SQLConnection, schema: String) throws -> StoreCatalog {
        switch connection.dialect {
        case .sqlite: try readSQLite(connection)
        case .postgres: try readPostgres(connection, schema: schema)
        }
    }

    private static func readSQLite(_ connection: any SQLConnection) throws -> StoreCatalog {
        var tables: [String: Table] = [:]
        for row in try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
            guard let name = row.string("name") else { continue }
            var table = Table()
            let columns = try connection.query(
                "SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid", .text(name))
            table.columns = columns.map { ($0.string("name") ?? "", $0.string("type") ?? "") }
            table.primaryKey = columns.filter { ($0.int("pk") ?? 0) > 0 }
                .sorted { ($0.int("pk") ?? 0) < ($1.int("pk") ?? 0) }.compactMap { $0.string("name") }
            table.parents = Set(
                try connection.query(
                    "SELECT DISTINCT \"table\" AS parent FROM pragma_foreign_key_list($1)", .text(name)
                ).compactMap { $0.string("parent") })
            tables[name] = table
        }
        return StoreCatalog(dialect: .sqlite, tables: tables)
    }

    private static func readPostgres(_ connection: any SQLConnection, schema: String) throws -> StoreCatalog {
        var tables: [String: Table] = [:]
        for row in try connection.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
            .text(schema))
        {
            if let name = row.string("table_name") { tables[name] = Table() }
        }
        for row in try connection.query(
            """
            SELECT table_name, column_name, udt_name FROM information_schema.columns
            WHERE table_schema = $1 ORDER BY table_name, ordinal_position
            """, .text(schema))
        {
            guard let table = row.string("table_name"), tables[table] != nil else { continue }
            tables[table]?.columns.append((row.string("column_name") ?? "", row.string("udt_name") ?? ""))
        }
        for row in try connection.query(
            """
            SELECT t.relname AS table_name, a.attname AS column_name FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON TRUE
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE i.indisprimary AND n.nspname = $1 ORDER BY t.relname, k.position
            """, .text(schema))
        {
            guard let table = row.string("table_name"), let column = row.string("column_name") else { continue }
            tables[table]?.primaryKey.append(column)
        }
        for row in try connection.query(
            """
            SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint c
            JOIN pg_class child ON child.oid = c.conrelid
            JOIN pg_class parent ON parent.oid = c.confrelid
            JOIN pg_namespace n ON n.oid = child.relnamespace
            WHERE c.contype = 'f' AND n.nspname = $1
            """, .text(schema))
        {
            guard let child = row.string("child"), let parent = row.string("parent") else { continue }
            tables[child]?.parents.insert(parent)
        }
        return StoreCatalog(dialect: .postgres, tables: tables)
    }

    /// The application tables of this catalog (bookkeeping tables left out).
    var applicationTables: [String] { tables.keys.filter { !StoreTables.isBookkeeping($0) }.sorted() }

    /// Checks both catalogs against ``StoreTables/copyOrder`` and each other, and returns the copy plan:
    /// tables in copy order with their columns typed by the PostgreSQL target.
    /// Fails loudly on a table the order does not know, a missing table, differing columns, a column type
    /// the copier does not convert, a table without a single-column primary key, or a parent listed after
    /// its child.
    static func plan(source: StoreCatalog, target: StoreCatalog) throws -> [TableSchema] {
        let known = Set(StoreTables.copyOrder)
        for (catalog, side) in [(source, "source"), (target, "target")] {
            if let unknown = catalog.applicationTables.first(where: { !known.contains($0) }) {
                throw StoreOperationsError.unknownTable(unknown, side: side)
            }
        }
        var plan: [TableSchema] = []
        var copied = Set<String>()
        for name in StoreTables.copyOrder {
            guard let sourceTable = source.tables[name] else {
                throw StoreOperationsError.schemaMismatch(
                    table: name, "missing in the source store; run `pixcrawl migrate` on it first")
            }
            guard let targetTable = target.tables[name] else {
                throw StoreOperationsError.schemaMismatch(table: name, "missing in the target store")
            }
            for column in sourceTable.columns.map(\.name) + targetTable.columns.map(\.name)
            where !DatabaseLocation.isValidIdentifier(column) {
                throw StoreOperationsError.schemaMismatch(table: name, "column name '\(column)' is not supported")
            }
            let sourceColumns = Set(sourceTable.columns.map(\.name))
            let targetColumns = Set(targetTable.columns.map(\.name))
            if sourceColumns != targetColumns {
                let onlySource = sourceColumns.subtracting(targetColumns).sorted()
                let onlyTarget = targetColumns.subtracting(sourceColumns).sorted()
                throw StoreOperationsError.schemaMismatch(
                    table: name,
                    "columns differ (only in the source: \(onlySource.joined(separator: ", ")); only in the target: "
                        + "\(onlyTarget.joined(separator: ", "))); both stores must be at the same migration")
            }
            let columns = try targetTable.columns.map { column in
                try Self.column(column.name, postgresType: column.type, table: name)
            }
            guard targetTable.primaryKey.count == 1, sourceTable.primaryKey == targetTable.primaryKey,
                let key = columns.first(where: { $0.name == targetTable.primaryKey[0] })
            else {
                throw StoreOperationsError.schemaMismatch(
                    table: name, "migrate-store needs the same single-column primary key in both stores")
            }
            guard [.integer, .uuid, .text].contains(key.kind) else {
                throw StoreOperationsError.schemaMismatch(table: name, "primary key \(key.name) is not a number or text")
            }
            for parent in sourceTable.parents.union(targetTable.parents) where parent != name {
                guard copied.contains(parent) else {
                    throw StoreOperationsError.schemaMismatch(
                        table: name, "references \(parent), which StoreTables.copyOrder lists after it")
                }
            }
            plan.append(TableSchema(name: name, columns: columns, key: key))
            copied.insert(name)
        }
        return plan
    }

    /// Types a target column by its PostgreSQL `udt_name`.
    static func column(_ name: String, postgresType: String, table: String) throws -> ColumnSchema {
        switch postgresType {
        case "int2", "int4", "int8": ColumnSchema(name: name, kind: .integer, cast: "")
        case "float4", "float8": ColumnSchema(name: name, kind: .double, cast: "")
        case "bool": ColumnSchema(name: name, kind: .boolean, cast: "::boolean")
        case "timestamptz": ColumnSchema(name: name, kind: .timestamp, cast: "::timestamptz")
        case "timestamp": ColumnSchema(name: name, kind: .timestamp, cast: "::timestamp")
        case "jsonb": ColumnSchema(name: name, kind: .json, cast: "::jsonb")
        case "json": ColumnSchema(name: name, kind: .json, cast: "::json")
        case "uuid": ColumnSchema(name: name, kind: .uuid, cast: "::uuid")
        case "text", "varchar": ColumnSchema(name: name, kind: .text, cast: "")
        case "bpchar": ColumnSchema(name: name, kind: .paddedText, cast: "")
        default:
            throw StoreOperationsError.schemaMismatch(
                table: table, "column \(name) has type \(postgresType), which migrate-store does not convert")
        }
    }
}
