import ArgumentParser

extension PixCrawl {
    /// `pixcrawl gc`.
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Delete expired downloads and old logs.")

        func run() async throws {
            try notImplemented("gc", capability: "the export stage")
        }
    }
}
