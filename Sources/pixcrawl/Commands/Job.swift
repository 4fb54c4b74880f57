import ArgumentParser

extension PixCrawl {
    /// `pixcrawl job`.
    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "job", abstract: "Cancel a job or retry its failed chunks.")

        func run() async throws {
            try notImplemented("job", capability: "the coordinator")
        }
    }
}
