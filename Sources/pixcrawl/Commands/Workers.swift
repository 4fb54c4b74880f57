import ArgumentParser

extension PixCrawl {
    /// `pixcrawl workers`.
    struct Workers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "workers", abstract: "List registered worker processes.")

        func run() async throws {
            try notImplemented("workers", capability: "the coordinator")
        }
    }
}
