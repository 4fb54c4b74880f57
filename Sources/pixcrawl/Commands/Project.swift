import ArgumentParser

extension PixCrawl {
    /// `pixcrawl project`.
    struct Project: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "project", abstract: "Manage crawl projects.")

        func run() async throws {
            try notImplemented("project", capability: "the coordinator")
        }
    }
}
