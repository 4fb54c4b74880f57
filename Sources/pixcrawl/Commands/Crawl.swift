import ArgumentParser

extension PixCrawl {
    /// `pixcrawl crawl`.
    struct Crawl: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "crawl", abstract: "Crawl keywords into a validated image set (one command, local workers).")

        func run() async throws {
            try notImplemented("crawl", capability: "the coordinator")
        }
    }
}
