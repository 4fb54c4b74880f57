import Foundation

/// Where the store lives: the embedded SQLite file or a PostgreSQL server and schema.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(conninfo: String, schema: String)

    /// Default embedded store file, relative to the working directory.
    public static let defaultSQLitePath = "storage/pixcrawl.sqlite"
    /// Default PostgreSQL schema holding every PixCrawler table.
    public static let defaultSchema = "pixcrawl"

    /// Parses a store URL: `postgres://…` / `postgresql://…` (optional `schema=` query parameter),
    /// `sqlite:PATH` / `sqlite://PATH`, or a plain file path.
    /// - Parameters:
    ///   - url: the URL, typically `PIXCRAWL_DATABASE_URL`; `nil` or empty selects the embedded default.
    ///   - schema: schema override (e.g. `PIXCRAWL_DATABASE_SCHEMA`), used when the URL names none.
    public static func parse(_ url: String?, schema: String? = nil) throws -> DatabaseLocation {
        guard let url = url?.trimmingCharacters(in: .whitespaces), !url.isEmpty else {
            return .sqlite(path: defaultSQLitePath)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            guard var components = URLComponents(string: url) else {
                throw StoreError.invalidConfiguration("the PostgreSQL URL is malformed")
            }
            var chosenSchema = schema ?? defaultSchema
            if let items = components.queryItems {
                if let named = items.first(where: { $0.name == "schema" })?.value { chosenSchema = named }
                let rest = items.filter { $0.name != "schema" }
                components.queryItems = rest.isEmpty ? nil : rest
            }
            guard isValidIdentifier(chosenSchema) else {
                throw StoreError.invalidConfiguration(
                    "schema name '\(chosenSchema)' is invalid: use lowercase letters, digits and _ (max 63)")
            }
            guard let conninfo = components.string else {
                throw StoreError.invalidConfiguration("the PostgreSQL URL is malformed")
            }
            return .postgres(conninfo: conninfo, schema: chosenSchema)
        }
        if url.hasPrefix("sqlite://") { return .sqlite(path: String(url.dropFirst("sqlite://".count))) }
        if url.hasPrefix("sqlite:") { return .sqlite(path: String(url.dropFirst("sqlite:".count))) }
        if url.contains("://") {
            throw StoreError.invalidConfiguration(
                "unsupported store URL scheme; use postgres://…, sqlite:PATH or a file path")
        }
        return .sqlite(path: url)
    }

    /// The SQL dialect of this location.
    public var dialect: SQLDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// A description safe for logs and errors: no password, no query parameters.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let conninfo, let schema):
            guard let components = URLComponents(string: conninfo) else { return "postgres (schema \(schema))" }
            let host = components.host ?? "localhost"
            let port = components.port.map { ":\($0)" } ?? ""
            let user = components.user.map { "\($0)@" } ?? ""
            return "postgres://\(user)\(host)\(port)\(components.path) (schema \(schema))"
        }
    }

    package static func isValidIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        guard first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
