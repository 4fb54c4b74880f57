import ArgumentParser

extension PixCrawl {
    /// `pixcrawl validate`.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Re-validate a job's stored images under new rules.")

        func run() async throws {
            try notImplemented("validate", capability: "the coordinator")
        }
    }
}
