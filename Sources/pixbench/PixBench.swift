import ArgumentParser

/// `pixbench`: the measuring half of `bench/run` — corpus generation, decode-only limits, queue and insert rates,
/// and job submission for multi-process worker runs. Every subcommand prints one JSON object on standard output.
@main
struct PixBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixbench",
        abstract: "Benchmark helpers for bench/run (each prints one JSON object).",
        subcommands: [Corpus.self, Decode.self, Queue.self, Inserts.self, Submit.self, Count.self])
}
