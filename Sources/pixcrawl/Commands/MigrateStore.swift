import ArgumentParser

extension PixCrawl {
    /// `pixcrawl migrate-store`.
    struct MigrateStore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate-store", abstract: "Move an embedded SQLite store into PostgreSQL.")

        func run() async throws {
            try notImplemented("migrate-store", capability: "the store-migration capability")
        }
    }
}
