import ArgumentParser

extension PixCrawl {
    /// `pixcrawl worker`.
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run a worker that claims chunks and exports from the shared store.")

        func run() async throws {
            try notImplemented("worker", capability: "the coordinator")
        }
    }
}
