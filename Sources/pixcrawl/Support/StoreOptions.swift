import ArgumentParser
import Foundation
import Logging
import PixStore

/// Options every command that touches the store shares.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "Store URL: postgres://user@host:port/db, sqlite:PATH or a file path. "
                + "Default: $PIXCRAWL_DATABASE_URL, else storage/pixcrawl.sqlite.", valueName: "url"))
    var databaseURL: String?

    @Option(help: ArgumentHelp("PostgreSQL schema holding PixCrawler's tables (default: pixcrawl).", valueName: "name"))
    var schema: String?

    @Option(
        name: .customLong("migrations-dir"),
        help: ArgumentHelp("Folder with postgres/ and sqlite/ migrations (default: found automatically).", valueName: "dir"))
    var migrationsDirectory: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The store location from the flag or the environment.
    func location() throws -> DatabaseLocation {
        try DatabaseLocation.parse(
            databaseURL ?? environment["PIXCRAWL_DATABASE_URL"], schema: schema ?? environment["PIXCRAWL_DATABASE_SCHEMA"])
    }

    var migrationsURL: URL {
        migrationsDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? MigrationFile.defaultDirectory()
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    /// Opens the store. With `migrate`, pending migrations are applied first (the one-command local mode);
    /// otherwise a store with pending migrations is refused with a hint.
    func openStore(migrate: Bool) async throws -> SQLCrawlStore {
        let store = try await SQLCrawlStore.open(try location(), logger: logger("pixcrawl.store"))
        do {
            let migrator = try Migrator(database: store.database, directory: migrationsURL)
            if migrate {
                try await migrator.migrate()
            } else if try await !migrator.isCurrent() {
                throw CLIError("the store has pending migrations: run `pixcrawl migrate` first")
            }
        } catch {
            store.close()
            throw error
        }
        return store
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
