import Foundation
import PixStore

/// The two store engines every conformance test runs against.
public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }
}

/// Creates isolated, migrated stores for tests: a fresh SQLite file, or a fresh schema on the test server.
public enum TestStores {
    /// The repository's migrations folder.
    public static var migrationsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations", isDirectory: true)
    }

    /// A store location no other test uses.
    public static func freshLocation(_ backend: Backend) throws -> DatabaseLocation {
        let name = freshName()
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-tests")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return .sqlite(path: directory.appendingPathComponent("\(name).sqlite").path)
        case .postgres:
            return try DatabaseLocation.parse(try TestPostgres.baseURL(), schema: name)
        }
    }

    /// A schema or file name no other test uses.
    public static func freshName() -> String {
        "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    /// An open, migrated store on its own database or schema.
    public static func make(_ backend: Backend, maxConnections: Int? = nil) async throws -> SQLCrawlStore {
        try await make(at: try freshLocation(backend), maxConnections: maxConnections)
    }

    /// An open, migrated store at `location`.
    public static func make(at location: DatabaseLocation, maxConnections: Int? = nil) async throws -> SQLCrawlStore {
        let store = try await SQLCrawlStore.open(location, maxConnections: maxConnections)
        try await Migrator(database: store.database, directory: migrationsDirectory).migrate()
        return store
    }
}
