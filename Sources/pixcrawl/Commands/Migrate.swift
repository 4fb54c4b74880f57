import ArgumentParser
import Foundation
import PixStore

extension PixCrawl {
    /// `pixcrawl migrate`: applies pending schema migrations, or lists them with `--status`.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending schema migrations to the store (safe to run again; concurrent runs are serialised).")

        @OptionGroup var store: StoreOptions

        @Flag(help: "List applied and pending migrations instead of applying them.")
        var status = false

        func run() async throws {
            try await reportingErrors {
                let location = try store.location()
                let database = try await SQLDatabase(location: location, logger: store.logger("pixcrawl.store"))
                defer { database.close() }
                let migrator = try Migrator(database: database, directory: store.migrationsURL)
                if status {
                    for entry in try await migrator.status() {
                        let state = entry.appliedAt.map { "applied \(ISO8601DateFormatter().string(from: $0))" } ?? "pending"
                        print("\(entry.name)  \(state)")
                    }
                    return
                }
                let applied = try await migrator.migrate()
                if applied.isEmpty {
                    print("\(location): up to date, nothing to apply")
                } else {
                    for file in applied { print("applied \(file.name)") }
                    print("\(location): \(applied.count) migration(s) applied")
                }
            }
        }
    }
}
