import CLibPQ
import Foundation

/// A libpq connection. Every statement goes through `PQexecParams` with text parameters; the
/// session's `search_path` is the PixCrawler schema and its time zone is UTC.
package final class PostgresConnection: SQLConnection {
    package let dialect = SQLDialect.postgres
    private var connection: OpaquePointer?
    package private(set) var isBroken = false

    /// Connects to `conninfo` (a libpq URL without PixCrawler's own parameters) and selects `schema`.
    package init(conninfo: String, schema: String, connectTimeoutSeconds: Int = 10) throws {
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

    package func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// The underlying socket, for waiting on notifications.
    package var socket: Int32 { connection.map { PQsocket($0) } ?? -1 }

    package func executeScript(_ sql: String) throws {
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, operation: "script")
    }

    @discardableResult
    package func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try execute(sql, binds, prepared: false)
    }

    /// Like ``query(_:_:)``, through a statement prepared once per connection (`PQprepare`), so the server
    /// parses and plans it once instead of on every call. For the hot statements only: the cache is small.
    @discardableResult
    package func queryPrepared(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        do {
            return try execute(sql, binds, prepared: true)
        } catch let error as StoreError where error.detail.contains("cached plan must not change result type") {
            // A table changed under the prepared statement: prepare it again.
            forgetPrepared(sql)
            return try execute(sql, binds, prepared: true)
        }
    }

    /// Prepared statements of this session: SQL text → statement name.
    private var preparedStatements: [String: String] = [:]
    private var preparedCount = 0
    private static let preparedLimit = 64

    private func forgetPrepared(_ sql: String) {
        guard let name = preparedStatements.removeValue(forKey: sql), let connection else { return }
        PQclear(PQexec(connection, "DEALLOCATE \(name)"))
    }

    /// The name of `sql` prepared on this session, preparing it first when needed.
    private func preparedName(_ sql: String, parameterCount: Int) throws -> String {
        if let name = preparedStatements[sql] { return name }
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        if preparedStatements.count >= Self.preparedLimit {
            for name in preparedStatements.values { PQclear(PQexec(connection, "DEALLOCATE \(name)")) }
            preparedStatements.removeAll()
        }
        preparedCount += 1
        let name = "pixcrawl_\(preparedCount)"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        try check(result, operation: "statement")
        preparedStatements[sql] = name
        return name
    }

    private func execute(_ sql: String, _ binds: [SQLValue], prepared: Bool) throws -> [SQLRow] {
        guard let connection else { throw StoreError.connectionFailed("PostgreSQL connection is closed") }
        let name = prepared ? try preparedName(sql, parameterCount: binds.count) : nil
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
        let result: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                if let name {
                    PQexecPrepared(connection, name, Int32(values.count), values.baseAddress, nil, nil, 0)
                } else {
                    PQexecParams(connection, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
                }
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

    /// Reads pending `NOTIFY` payloads without blocking: `(channel, payload)` pairs.
    package func drainNotifications() throws -> [(String, String)] {
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
