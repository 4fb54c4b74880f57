import ArgumentParser

extension PixCrawl {
    /// `pixcrawl download`.
    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "download", abstract: "Download an export archive by its token and verify it.")

        func run() async throws {
            try notImplemented("download", capability: "the export stage")
        }
    }
}
