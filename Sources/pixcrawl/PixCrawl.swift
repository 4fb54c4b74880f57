import ArgumentParser

@main
struct PixCrawl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixcrawl",
        abstract: "Distributed image-crawl coordinator.")
}
