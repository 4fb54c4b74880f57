import CSQLite
import Foundation

/// A connection to the embedded SQLite store: WAL, foreign keys on, a generous busy timeout.
final class SQLiteConnection: SQLConnection {
    let dialect = SQLDialect.sqlite
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private(set) var isBroken = false

    /// Opens (creating if needed) the database file at `path`.
    init(path: String, busyTimeoutMilliseconds: Int32 = 30_000) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw StoreError.connectionFailed("cannot open SQLite store at \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        do {
            try executeScript(
                """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA foreign_keys = ON;
                PRAGMA temp_store = MEMORY;
                """)
        } catch {
            close()
            throw StoreError.connectionFailed("cannot open SQLite store at \(path): \(error)")
        }
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    func executeScript(_ sql: String) throws {
        guard let handle else { throw StoreError.connectionFailed("SQLite connection is closed") }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw mapError(rc, message: message, operation: "script")
        }
    }

    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        guard let handle else { throw StoreError.connectionFailed("SQLite connection is closed") }
        let statement = try prepared(sql, handle: handle)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let number): rc = sqlite3_bind_int64(statement, index, number)
            case .double(let number): rc = sqlite3_bind_double(statement, index, number)
            case .bool(let flag): rc = sqlite3_bind_int64(statement, index, flag ? 1 : 0)
            case .text(let text): rc = Self.bindText(statement, index, text)
            case .date(let date): rc = Self.bindText(statement, index, SQLTimestamp.format(date))
            case .uuid(let uuid): rc = Self.bindText(statement, index, uuid.uuidString.lowercased())
            }
            guard rc == SQLITE_OK else { throw mapError(rc, message: lastMessage, operation: "bind") }
        }
        var columns: [String: Int] = [:]
        let count = Int(sqlite3_column_count(statement))
        for index in 0..<count {
            columns[String(cString: sqlite3_column_name(statement, Int32(index)))] = index
        }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw mapError(rc, message: lastMessage, operation: "statement") }
            var cells: [SQLRow.Cell] = []
            cells.reserveCapacity(count)
            for index in 0..<Int32(count) {
                switch sqlite3_column_type(statement, index) {
                case SQLITE_NULL: cells.append(.null)
                case SQLITE_INTEGER: cells.append(.int(sqlite3_column_int64(statement, index)))
                case SQLITE_FLOAT: cells.append(.double(sqlite3_column_double(statement, index)))
                default:
                    if let text = sqlite3_column_text(statement, index) {
                        cells.append(.text(String(cString: text)))
                    } else {
                        cells.append(.null)
                    }
                }
            }
            rows.append(SQLRow(columns: columns, cells: cells))
        }
        return rows
    }

    private var lastMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    private static func bindText(_ statement: OpaquePointer, _ index: Int32, _ text: String) -> Int32 {
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        return sqlite3_bind_text(statement, index, text, -1, transient)
    }

    private func prepared(_ sql: String, handle: OpaquePointer) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let translated = Self.translatePlaceholders(sql)
        let rc = sqlite3_prepare_v3(handle, translated, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw mapError(rc, message: lastMessage, operation: "prepare")
        }
        if statements.count > 256 {
            for old in statements.values { sqlite3_finalize(old) }
            statements.removeAll()
        }
        statements[sql] = statement
        return statement
    }

    /// Rewrites PostgreSQL-style `$N` placeholders as SQLite's numbered `?N`, outside quoted text.
    static func translatePlaceholders(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count)
        var quote: Character?
        var iterator = sql.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "$" {
                guard let next = iterator.next() else {
                    output.append(character)
                    break
                }
                output.append(next.isASCII && next.isNumber ? "?" : "$")
                output.append(next)
            } else {
                output.append(character)
            }
        }
        return output
    }

    private func mapError(_ rc: Int32, message: String, operation: String) -> StoreError {
        switch rc {
        case 2067, 1555:  // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            return .uniqueViolation(constraint: Self.constraintName(message), detail: message)
        case 787:  // SQLITE_CONSTRAINT_FOREIGNKEY
            return .foreignKeyViolation(constraint: nil, detail: message)
        case 275:  // SQLITE_CONSTRAINT_CHECK
            return .checkViolation(constraint: Self.constraintName(message), detail: message)
        case 1299:  // SQLITE_CONSTRAINT_NOTNULL
            return .notNullViolation(column: Self.constraintName(message), detail: message)
        case SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_IOERR:
            isBroken = true
            return .connectionFailed("SQLite \(operation): \(message)")
        default:
            if rc & 0xff == SQLITE_IOERR { isBroken = true }
            return .queryFailed(operation: "SQLite \(operation)", message: message)
        }
    }

    /// `UNIQUE constraint failed: images.crawl_job_id, images.sha256` → `images.crawl_job_id, images.sha256`.
    private static func constraintName(_ message: String) -> String? {
        guard let colon = message.firstIndex(of: ":") else { return nil }
        return message[message.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
