import ArgumentParser

extension PixCrawl {
    /// `pixcrawl export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a job's validated images as an archive with an expiring download link.")

        func run() async throws {
            try notImplemented("export", capability: "the export stage")
        }
    }
}
