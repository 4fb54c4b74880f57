import CLibPQ
import Foundation

/// A libpq connection with text parameters; the session's `search_path` is the PixCrawler schema and its time zone
/// is UTC.
///
/// Data statements (`SELECT`, `INSERT`, `UPDATE`, `DELETE`, `WITH`) with few parameters are prepared once per
/// connection (`PQprepare`) and then only executed (`PQexecPrepared`), so the server parses and plans the chunk
/// claim and completion statements once instead of on every call; everything else goes through `PQexecParams`.
final class PostgresConnection: SQLConnection {
    let dialect = SQLDialect.postgres
    private var connection: OpaquePointer?
    private(set) var isBroken = false
    /// Prepared statement names by SQL text.
    private var prepared: [String: String] = [:]
    /// Statements with more parameters (multi-row inserts, whose text varies with the batch) are not prepared.
    private static let maxPreparedParameters = 64
    /// At most this many statements are prepared per connection; later ones run unprepared.
    private static let maxPreparedStatements = 256

    /// Connects to `conninfo` (a libpq URL without PixCrawler's own parameters) and selects `schema`.
    init(conninfo: String, schema: String, connectTimeoutSeconds: Int = 10) throws {
        var info = conninfo
        if !info.contains("connect_timeout") {
            info += (info.contains("?") ? "&" : "?") + "connect_timeout=\(connectTimeoutSeconds)"
        }
        guard let conn = PQconnectdb(info) else {
            throw StoreError.connectionFailed("cannot allocate a PostgreSQL connection")
        }
        connection = conn
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: PQerrorMessage(conn)))
            let host = PQhost(conn).map { String(cString: $0) } ?? "?"
            let port = PQport(conn).map { String(cString: $0) } ?? "?"
            let database = PQdb(conn).map { String(cString: $0) } ?? "?"
            PQfinish(conn)
            connection = nil
            throw StoreError.connectionFailed(
                "cannot connect to PostgreSQL at \(host):\(port) database \(database): \(message)")
        }
        try executeScript(
            "SET TimeZone TO 'UTC'; SET search_path TO \(Self.quoteIdentifier(schema)), public; "
                + "SET application_name TO 'pixcrawl'; SET client_min_messages TO warning")
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// The underlying socket, for waiting on notifications.
    var socket: Int32 { connection.map { PQsocket($0) } ?? -1 }

    func executeScript(_ sql: String) throws {
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        if !Self.isTransactionControl(sql) {
            // A script may change what a prepared statement refers to (migrations); prepare again afterwards.
            prepared.removeAll()
        }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, operation: "script")
    }

    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        let texts: [String?] = binds.map { value in
            switch value {
            case .null: nil
            case .int(let number): String(number)
            case .double(let number): String(number)
            case .bool(let flag): flag ? "true" : "false"
            case .text(let text): text
            case .date(let date): SQLTimestamp.format(date)
            case .uuid(let uuid): uuid.uuidString.lowercased()
            }
        }
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { for pointer in cStrings { free(pointer) } }
        let statement = try preparedName(for: sql, parameterCount: binds.count)
        let result: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buffer in
            let count = Int32(buffer.count)
            guard let base = buffer.baseAddress else {
                if let statement { return PQexecPrepared(connection, statement, 0, nil, nil, nil, 0) }
                return PQexecParams(connection, sql, 0, nil, nil, nil, nil, 0)
            }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                if let statement { return PQexecPrepared(connection, statement, count, values, nil, nil, 0) }
                return PQexecParams(connection, sql, count, nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        try check(result, operation: "statement")
        guard let result else { return [] }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String: Int] = [:]
        for index in 0..<columnCount {
            columns[String(cString: PQfname(result, Int32(index)))] = index
        }
        var rows: [SQLRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var cells: [SQLRow.Cell] = []
            cells.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(.null)
                } else {
                    cells.append(.text(String(cString: PQgetvalue(result, row, column))))
                }
            }
            rows.append(SQLRow(columns: columns, cells: cells))
        }
        return rows
    }

    /// The name of the prepared statement for `sql`, preparing it on first use; `nil` when it is not prepared.
    private func preparedName(for sql: String, parameterCount: Int) throws -> String? {
        if let name = prepared[sql] { return name }
        guard parameterCount <= Self.maxPreparedParameters, prepared.count < Self.maxPreparedStatements,
            Self.isDataStatement(sql), let connection
        else { return nil }
        let name = "pixcrawl_\(prepared.count + 1)_\(UInt32.random(in: 0 ... .max))"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        try check(result, operation: "statement")
        prepared[sql] = name
        return name
    }

    private static func isDataStatement(_ sql: String) -> Bool {
        let head = sql.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }.prefix(6)
        let word = String(decoding: head, as: UTF8.self).uppercased()
        return ["SELECT", "INSERT", "UPDATE", "DELETE"].contains(word) || word.hasPrefix("WITH")
    }

    private static func isTransactionControl(_ sql: String) -> Bool {
        ["BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"].contains(sql.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Reads pending `NOTIFY` payloads without blocking: `(channel, payload)` pairs.
    func drainNotifications() throws -> [(String, String)] {
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        if PQconsumeInput(connection) == 0 {
            isBroken = true
            throw StoreError.connectionFailed(
                "PostgreSQL connection lost: \(Self.trimmed(String(cString: PQerrorMessage(connection))))")
        }
        var received: [(String, String)] = []
        while let notify = PQnotifies(connection) {
            received.append(
                (String(cString: notify.pointee.relname), String(cString: notify.pointee.extra)))
            PQfreemem(notify)
        }
        return received
    }

    private func check(_ result: OpaquePointer?, operation: String) throws {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return
        }
        if let connection, PQstatus(connection) != CONNECTION_OK {
            isBroken = true
            throw StoreError.connectionFailed(
                "PostgreSQL connection lost: \(Self.trimmed(String(cString: PQerrorMessage(connection))))")
        }
        let message = result.map { Self.trimmed(String(cString: PQresultErrorMessage($0))) } ?? "no result"
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        let constraint = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "n"))) }
            .map { String(cString: $0) }
        switch sqlState {
        case "23505": throw StoreError.uniqueViolation(constraint: constraint, detail: message)
        case "23503": throw StoreError.foreignKeyViolation(constraint: constraint, detail: message)
        case "23514": throw StoreError.checkViolation(constraint: constraint, detail: message)
        case "23502":
            let column = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "c"))) }.map { String(cString: $0) }
            throw StoreError.notNullViolation(column: column, detail: message)
        case .some(let state) where state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03":
            isBroken = true
            throw StoreError.connectionFailed("PostgreSQL connection lost: \(message)")
        default:
            throw StoreError.queryFailed(operation: "PostgreSQL \(operation)", message: message)
        }
    }

    static func trimmed(_ message: String) -> String {
        message.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " ")
    }

    /// Quotes an identifier that has already been validated as `[a-z_][a-z0-9_]*`.
    static func quoteIdentifier(_ name: String) -> String { "\"\(name)\"" }
}
