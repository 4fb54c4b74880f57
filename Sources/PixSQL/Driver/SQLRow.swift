import Foundation

/// One result row: column values as the driver returned them (text for PostgreSQL, typed for SQLite).
public struct SQLRow: Sendable {
    /// A raw column value.
    public enum Cell: Sendable, Hashable {
        case null
        case int(Int64)
        case double(Double)
        case text(String)
    }

    let columns: [String: Int]
    package let cells: [Cell]

    init(columns: [String: Int], cells: [Cell]) {
        self.columns = columns
        self.cells = cells
    }

    /// The raw cell of `column`; `.null` when the column is absent.
    public subscript(column: String) -> Cell {
        guard let index = columns[column] else { return .null }
        return cells[index]
    }

    /// True when `column` is SQL NULL.
    public func isNull(_ column: String) -> Bool { self[column] == .null }

    /// The column as text, or `nil` when NULL.
    public func string(_ column: String) -> String? {
        switch self[column] {
        case .null: nil
        case .text(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        }
    }

    /// The column as a 64-bit integer, or `nil` when NULL or not a number.
    public func int64(_ column: String) -> Int64? {
        switch self[column] {
        case .null: nil
        case .int(let value): value
        case .double(let value): Int64(value)
        case .text(let value): Int64(value) ?? Double(value).map { Int64($0) }
        }
    }

    /// The column as `Int`, or `nil`.
    public func int(_ column: String) -> Int? { int64(column).map { Int($0) } }

    /// The column as `Double`, or `nil`.
    public func double(_ column: String) -> Double? {
        switch self[column] {
        case .null: nil
        case .int(let value): Double(value)
        case .double(let value): value
        case .text(let value): Double(value)
        }
    }

    /// The column as a boolean: SQLite stores 0/1, PostgreSQL answers `t`/`f`.
    public func bool(_ column: String) -> Bool? {
        switch self[column] {
        case .null: nil
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .text(let value): value == "t" || value == "true" || value == "1"
        }
    }

    /// The column as a timestamp.
    public func date(_ column: String) -> Date? { string(column).flatMap(SQLTimestamp.parse) }

    /// The column as a UUID.
    public func uuid(_ column: String) -> UUID? { string(column).flatMap(UUID.init(uuidString:)) }

    /// Decodes a JSON column.
    public func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T? {
        guard let text = string(column) else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// Non-optional accessors for NOT NULL columns: a NULL here is a schema bug, reported as such.
    public func require<T>(_ value: T?, _ column: String) throws -> T {
        guard let value else { throw StoreError.corruptRow(column: column) }
        return value
    }
}

extension SQLRow {
    /// The columns named `prefix…`, renamed without the prefix: one row of a joined result that carries two
    /// records (`SELECT c.*, j.id AS j_id, …`).
    package func unprefixed(_ prefix: String) -> SQLRow {
        var renamed: [String: Int] = [:]
        for (name, index) in columns where name.hasPrefix(prefix) {
            renamed[String(name.dropFirst(prefix.count))] = index
        }
        return SQLRow(columns: renamed, cells: cells)
    }
}
