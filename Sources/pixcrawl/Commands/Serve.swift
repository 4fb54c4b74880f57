import ArgumentParser

extension PixCrawl {
    /// `pixcrawl serve`.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API, dashboard and metrics.")

        func run() async throws {
            try notImplemented("serve", capability: "the HTTP API service")
        }
    }
}
