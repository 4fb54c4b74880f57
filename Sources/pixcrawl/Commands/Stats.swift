import ArgumentParser

extension PixCrawl {
    /// `pixcrawl stats`.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show crawl statistics.")

        func run() async throws {
            try notImplemented("stats", capability: "the store-migration and stats capability")
        }
    }
}
