import PixCore
import PixSQL
import PixStore

/// Renders a row the same way from either engine, for checksums: booleans as `t`/`f`, timestamps in UTC
/// milliseconds, JSON re-serialised canonically, UUIDs lowercase, `CHAR(n)` without its padding, numbers
/// by value, and NULL as a marker no value can produce. Values that cannot be read as their column's kind
/// render as `!` and their raw text, so they can only ever match the identical raw text.
enum CanonicalRow {
    /// The canonical rendering of each column of `row` (selected with `table.selectList`).
    static func values(_ row: SQLRow, table: TableSchema) -> [String?] {
        zip(row.cells, table.columns).map { cell, column in value(cell, kind: column.kind) }
    }

    /// One column, `nil` for SQL NULL.
    static func value(_ cell: SQLRow.Cell, kind: ColumnKind) -> String? {
        switch cell {
        case .null:
            return nil
        case .int(let number):
            switch kind {
            case .integer: return String(number)
            case .double: return String(Double(number))
            case .boolean: return number == 0 ? "f" : "t"
            case .json: return CanonicalJSON.canonicalNumber(String(number))
            case .timestamp, .uuid: return "!" + String(number)
            case .text, .paddedText: return String(number)
            }
        case .double(let number):
            switch kind {
            case .integer:
                if number == number.rounded(), let exact = Int64(exactly: number) { return String(exact) }
                return "!" + String(number)
            case .double: return String(number)
            case .boolean: return number == 0 ? "f" : "t"
            case .json: return CanonicalJSON.canonicalNumber(String(number))
            case .timestamp, .uuid: return "!" + String(number)
            case .text, .paddedText: return String(number)
            }
        case .text(let text):
            switch kind {
            case .integer: return Int64(text).map { String($0) } ?? "!" + text
            case .double: return Double(text).map { String($0) } ?? "!" + text
            case .boolean:
                switch text {
                case "t", "true", "1": return "t"
                case "f", "false", "0": return "f"
                default: return "!" + text
                }
            case .timestamp: return CanonicalTimestamp.canonical(text) ?? "!" + text
            case .json: return CanonicalJSON.canonical(text) ?? "!" + text
            case .uuid: return text.lowercased()
            case .text: return text
            case .paddedText:
                var trimmed = Substring(text)
                while trimmed.last == " " { trimmed = trimmed.dropLast() }
                return String(trimmed)
            }
        }
    }

    /// The bytes a row contributes to its table's checksum: each value length-prefixed, NULL as `-`.
    static func encode(_ values: [String?]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values {
            if let value {
                bytes += Array("\(value.utf8.count):".utf8)
                bytes += Array(value.utf8)
                bytes.append(UInt8(ascii: ","))
            } else {
                bytes += Array("-,".utf8)
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
