import Crypto
import Foundation

/// One numbered SQL migration file, `NNN_name.sql`.
public struct MigrationFile: Sendable, Hashable {
    /// The number before the first underscore.
    public let version: Int
    /// The file name, e.g. `001_initial.sql`.
    public let name: String
    /// The SQL script.
    public let sql: String
    /// SHA-256 of the file's bytes (hex), recorded when applied.
    public let checksum: String

    /// Builds a migration from its file name and contents.
    public init(name: String, sql: String) throws {
        guard let prefix = name.split(separator: "_").first, let version = Int(prefix), name.hasSuffix(".sql") else {
            throw StoreError.invalidConfiguration("migration file \(name) is not named NNN_name.sql")
        }
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads every `NNN_name.sql` of `dialect` below `directory` (`directory/postgres`, `directory/sqlite`),
    /// ordered by version; two files with one version are refused.
    public static func load(from directory: URL, dialect: SQLDialect) throws -> [MigrationFile] {
        let folder = directory.appendingPathComponent(dialect.rawValue, isDirectory: true)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw StoreError.invalidConfiguration(
                "cannot read migrations in \(folder.path); set PIXCRAWL_MIGRATIONS_DIR to the migrations folder")
        }
        var files: [MigrationFile] = []
        for name in names where name.hasSuffix(".sql") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            files.append(try MigrationFile(name: name, sql: text))
        }
        files.sort { $0.version < $1.version }
        for (left, right) in zip(files, files.dropFirst()) where left.version == right.version {
            throw StoreError.invalidConfiguration("two migrations share version \(left.version): \(left.name), \(right.name)")
        }
        guard !files.isEmpty else {
            throw StoreError.invalidConfiguration("no migrations found in \(folder.path)")
        }
        return files
    }

    /// Finds the migrations folder: `PIXCRAWL_MIGRATIONS_DIR`, else a `migrations/` folder in the working
    /// directory or above the executable (a source checkout), else `/usr/share/pixcrawl/migrations`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let configured = environment["PIXCRAWL_MIGRATIONS_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured, isDirectory: true)
        }
        func candidate(_ base: URL) -> URL? {
            var current = base
            for _ in 0..<8 {
                let folder = current.appendingPathComponent("migrations", isDirectory: true)
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("sqlite").path) {
                    return folder
                }
                let parent = current.deletingLastPathComponent()
                if parent.path == current.path { break }
                current = parent
            }
            return nil
        }
        let workingDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        if let found = candidate(workingDirectory) { return found }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        if let found = candidate(executable.deletingLastPathComponent()) { return found }
        return URL(fileURLWithPath: "/usr/share/pixcrawl/migrations", isDirectory: true)
    }
}
