/// Which SQL engine a connection speaks.
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    case sqlite
    case postgres
}

/// A blocking connection to one database. Not thread-safe: a ``SQLDatabase`` lends it to one
/// caller at a time, on a thread of its own, never on the Swift cooperative pool.
public protocol SQLConnection: AnyObject {
    /// The connection's SQL dialect.
    var dialect: SQLDialect { get }

    /// Runs one statement with bound parameters (`$1`, `$2`, … in both dialects) and returns its rows.
    /// - Parameters:
    ///   - sql: the statement; values never appear in it, only placeholders.
    ///   - binds: the values for `$1…$n`.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]

    /// Runs one statement like ``query(_:_:)``, through a statement the connection prepares once and reuses
    /// (PostgreSQL: parsed and planned once per session). For the few statements on hot paths.
    @discardableResult
    func queryPrepared(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]

    /// Runs a script of several statements without parameters (migrations only).
    func executeScript(_ sql: String) throws

    /// True when the connection can no longer be used and must be replaced.
    var isBroken: Bool { get }
}

extension SQLConnection {
    /// Engines that cache every statement anyway (SQLite) run it as ``query(_:_:)``.
    @discardableResult
    public func queryPrepared(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try query(sql, binds)
    }

    /// Runs a statement and returns the number of rows of its `RETURNING` clause or result.
    @discardableResult
    public func query(_ sql: String, _ binds: SQLValue...) throws -> [SQLRow] {
        try query(sql, binds)
    }

    /// Runs a hot statement through the connection's prepared-statement cache (see ``queryPrepared(_:_:)``).
    @discardableResult
    public func queryPrepared(_ sql: String, _ binds: SQLValue...) throws -> [SQLRow] {
        try queryPrepared(sql, binds)
    }
}
