import ArgumentParser
import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixStore

/// Validation rules on the command line (`crawl`, `validate`); unset options keep the base rules.
struct RuleOptions: ParsableArguments {
    @Option(name: .customLong("min-width"), help: "Smallest accepted width in pixels (default 64).")
    var minWidth: Int?
    @Option(name: .customLong("min-height"), help: "Smallest accepted height in pixels (default 64).")
    var minHeight: Int?
    @Option(name: .customLong("max-width"), help: "Largest accepted width in pixels (default 20000).")
    var maxWidth: Int?
    @Option(name: .customLong("max-height"), help: "Largest accepted height in pixels (default 20000).")
    var maxHeight: Int?
    @Option(help: ArgumentHelp("Accepted formats, comma-separated: jpeg,png,webp (default all three).", valueName: "list"))
    var formats: String?
    @Option(name: .customLong("min-bytes"), help: "Smallest accepted file size in bytes (default 0).")
    var minBytes: Int?
    @Option(name: .customLong("max-bytes"), help: "Largest accepted file size in bytes (default 25 MiB).")
    var maxBytes: Int?
    @Option(name: .customLong("aspect-min"), help: "Smallest accepted width/height ratio.")
    var aspectMin: Double?
    @Option(name: .customLong("aspect-max"), help: "Largest accepted width/height ratio.")
    var aspectMax: Double?
    @Option(
        name: .customLong("validate"),
        help: "How deeply images are checked: header (fast, no decode), full (default) or pixels.")
    var depth: ValidationDepth?

    /// True when no rule option was given.
    var isEmpty: Bool {
        minWidth == nil && minHeight == nil && maxWidth == nil && maxHeight == nil && formats == nil
            && minBytes == nil && maxBytes == nil && aspectMin == nil && aspectMax == nil && depth == nil
    }

    /// `base` with the given options applied.
    func rules(from base: ValidationRules = ValidationRules()) throws -> ValidationRules {
        var rules = base
        if let minWidth { rules.minWidth = minWidth }
        if let minHeight { rules.minHeight = minHeight }
        if let maxWidth { rules.maxWidth = maxWidth }
        if let maxHeight { rules.maxHeight = maxHeight }
        if let minBytes { rules.minBytes = minBytes }
        if let maxBytes { rules.maxBytes = maxBytes }
        if let aspectMin { rules.minAspectRatio = aspectMin }
        if let aspectMax { rules.maxAspectRatio = aspectMax }
        if let depth { rules.depth = depth }
        if let formats {
            var parsed = Set<ImageFormat>()
            for name in formats.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
                let alias = name == "jpg" ? "jpeg" : name
                guard let format = ImageFormat(rawValue: alias) else {
                    throw CLIError("--formats: unknown format '\(name)'; use jpeg, png and/or webp")
                }
                parsed.insert(format)
            }
            rules.formats = parsed
        }
        return rules
    }
}

extension ValidationDepth: ExpressibleByArgument {}

extension PixCrawl {
    /// `pixcrawl validate JOB [rules…]`: re-validates a job's stored images under new rules.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Re-validate a job's stored images under new rules (reads stored files, downloads nothing).",
            discussion: """
                Rules not given keep the job's own. Records a validation run (see `pixcrawl status JOB`), marks each
                image valid or invalid with its reason, and keeps the job's valid image count equal to its valid rows.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var rules: RuleOptions

        @Argument(help: "The job whose images are re-validated.")
        var job: Int64

        @Option(
            name: .customLong("storage-dir"),
            help: ArgumentHelp(
                "Where image files are stored: a directory or s3://bucket/prefix?endpoint=…. "
                    + "Default: $PIXCRAWL_STORAGE_URL, else storage.", valueName: "url"))
        var storageDirectory: String?

        @Option(help: "A name for this validation run.")
        var name: String?

        func run() async throws {
            try await reportingErrors {
                let logger = store.logger("pixcrawl.validate")
                let crawlStore = try await store.openStore(migrate: false)
                defer { crawlStore.close() }
                guard let crawlJob = try await crawlStore.job(id: job) else { throw CLIError("job \(job) not found") }
                let newRules = try rules.rules(from: crawlJob.rules)
                do {
                    try JobPlanner.check(newRules)
                } catch {
                    throw CLIError("\(error)")
                }
                let actor = try await localProfile(crawlStore).id
                let run = ValidationRun(
                    store: crawlStore, blobs: try StorageSelection.blobStore(storageDirectory),
                    pool: BlockingPool(threads: 2), logger: logger)
                let interactive = isatty(STDOUT_FILENO) == 1
                let record = try await run.run(crawlJobID: job, rules: newRules, actor: actor, name: name) { record in
                    guard interactive else { return }
                    print(
                        "\rvalidated \(record.validatedImages)/\(record.totalImages), invalid \(record.invalidImages)",
                        terminator: "")
                    fflush(nil)
                }
                if interactive { print("") }
                let after = try await crawlStore.job(id: job)
                print("validation run \(record.id) of job \(job): \(record.status.rawValue)")
                print("  images checked   \(record.validatedImages) of \(record.totalImages)")
                print("  invalid          \(record.invalidImages)")
                print("  valid images now \(after?.counters.validImages ?? 0)")
            }
        }
    }
}
