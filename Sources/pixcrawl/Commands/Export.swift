import ArgumentParser
import Foundation
import PixBlob
import PixCore
import PixExport
import PixStore

extension PixCrawl {
    /// `pixcrawl export`: export a job now, issue a fresh link, or list a job's exports.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Export a job's validated images as an archive with an expiring download link.",
            discussion: "`pixcrawl export JOB --format zip` runs the export in this process and prints the archive's "
                + "path, size, SHA-256 and a download token. The token is shown once: only its hash is stored.",
            subcommands: [Create.self, Link.self, List.self],
            defaultSubcommand: Create.self)
    }
}

/// Where blobs and archives live: `--storage`, `--output-dir`.
struct ExportStorageOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Storage holding images/ and exports/: a directory or s3://bucket/prefix?endpoint=…. "
                + "Default: $PIXCRAWL_STORAGE_URL, else storage/.",
            valueName: "url"))
    var storage: String?

    @Option(
        name: .customLong("output-dir"),
        help: ArgumentHelp("Where archives are published (default: STORAGE/exports).", valueName: "dir"))
    var outputDirectory: String?

    /// The storage: a directory, a `file://` URL or an `s3://` location.
    func selection() throws -> StorageSelection { try StorageSelection(storage) }

    /// The directory archives are published under (staged under, for object storage).
    func exportsDirectory() throws -> URL {
        try selection().exportsDirectory(override: outputDirectory)
    }
}

extension ExportFormat: ExpressibleByArgument {}
extension ExportLayout: ExpressibleByArgument {}

/// Byte counts for people: `12.3 MB`.
func formatBytes(_ bytes: Int64) -> String {
    ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
}

/// Dates for people and scripts alike: ISO 8601, UTC.
func formatDate(_ date: Date?) -> String {
    date.map { $0.formatted(.iso8601) } ?? "-"
}

extension PixCrawl.Export {
    /// `pixcrawl export [create] JOB --format …`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Export a job's valid images now, in this process (the default).")

        @OptionGroup var store: StoreOptions
        @OptionGroup var storage: ExportStorageOptions

        @Argument(help: "The crawl job to export.")
        var job: Int64

        @Option(help: "Archive format: zip, tar, tar.gz, webdataset, csv or jsonl (csv/jsonl: the manifest alone).")
        var format: ExportFormat

        @Option(help: "Layout inside zip/tar: flat (images/…) or imagefolder (SPLIT/KEYWORD/…).")
        var layout: ExportLayout = .flat

        @Option(
            name: .customLong("dedup-near"),
            help: ArgumentHelp(
                "Drop images whose dHash is within this Hamming distance (0–64) of a kept one, keeping the largest.",
                valueName: "n"))
        var dedupNear: Int?

        @Option(help: ArgumentHelp("Split weights, e.g. train=0.8,val=0.1,test=0.1.", valueName: "weights"))
        var split: String?

        @Option(help: "Seed of the split assignment: the same seed gives the same split.")
        var seed: UInt64 = 0

        @Option(name: .customLong("min-width"), help: ArgumentHelp("Export only images at least this wide.", valueName: "px"))
        var minWidth: Int?

        @Option(
            name: .customLong("min-height"), help: ArgumentHelp("Export only images at least this high.", valueName: "px"))
        var minHeight: Int?

        @Option(help: ArgumentHelp("Lifetime of the download link: 7d, 12h, 30m.", valueName: "duration"))
        var expires: String = "7d"

        @Option(name: .customLong("shard-size"), help: "Samples per WebDataset shard.")
        var shardSize: Int = 1000

        @OptionGroup var resize: ResizeArguments

        @Option(help: "A display name for the export.")
        var name: String?

        @Flag(help: "Only queue the export for `pixcrawl worker` instead of running it here.")
        var queue = false

        func run() async throws {
            try await reportingErrors {
                let lifetime = try LinkLifetime(parsing: expires)
                var options = ExportOptions(
                    layout: layout, nearDuplicateDistance: dedupNear, split: split, seed: seed, minWidth: minWidth,
                    minHeight: minHeight, linkLifetimeSeconds: lifetime.seconds, shardSize: shardSize)
                options.resize = resize.options
                try options.validate(for: format)
                let selection = try storage.selection()
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let runner = try selection.exportRunner(
                    store: store,
                    workerID: "cli-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)",
                    exportsOverride: storage.outputDirectory, logger: self.store.logger("pixcrawl.export"))
                let queued = try await runner.enqueue(crawlJobID: job, format: format, options: options, name: name)
                if queue {
                    print("export \(queued.id) queued (\(format.rawValue)); a `pixcrawl worker` will run it")
                    print("follow it with: pixcrawl export list \(job)")
                    return
                }
                let outcome = try await runner.run(exportID: queued.id)
                print("export \(outcome.export.id) completed: \(outcome.exportedImages) images")
                if outcome.skippedImages > 0 {
                    print("left out: \(outcome.skippedImages) images that could not be re-encoded (see the log)")
                }
                print("archive:  \(describeArchive(outcome.archive))")
                print("size:     \(outcome.fileSize) bytes (\(formatBytes(Int64(outcome.fileSize))))")
                print("sha256:   \(outcome.sha256)")
                print("token:    \(outcome.downloadToken.value)")
                print("expires:  \(formatDate(outcome.export.expiresAt))")
                if let url = outcome.export.downloadURL, url.hasPrefix("http") {
                    print("url:      \(url)")
                    print("(a presigned object-storage URL: anyone holding it can download until it expires)")
                }
                print("The token is shown only now (only its hash is stored). Download with:")
                print("  pixcrawl download \(outcome.downloadToken.value) -o FILE")
            }
        }
    }

    /// `pixcrawl export link EXPORT`.
    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "link", abstract: "Issue a fresh download token for a completed export whose archive exists.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The export id (see `pixcrawl export list JOB`).")
        var export: Int64

        @Option(help: ArgumentHelp("Lifetime of the link: 7d, 12h, 30m.", valueName: "duration"))
        var expires: String = "7d"

        @Option(
            help: ArgumentHelp(
                "Storage holding the archive (for s3:// storage). Default: $PIXCRAWL_STORAGE_URL, else storage/.",
                valueName: "url"))
        var storage: String?

        func run() async throws {
            try await reportingErrors {
                let lifetime = try LinkLifetime(parsing: expires)
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let link = try await StorageSelection(storage).exportDownloads(store: store)
                    .issueLink(exportID: export, lifetime: lifetime)
                print("token:    \(link.token.value)")
                print("expires:  \(formatDate(link.record.expiresAt))")
                print("The token is shown only now (only its hash is stored). Download with:")
                print("  pixcrawl download \(link.token.value) -o FILE")
            }
        }
    }

    /// `pixcrawl export list JOB`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a crawl job's exports.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The crawl job.")
        var job: Int64

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let exports = try await store.exports(crawlJobID: job)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    encoder.dateEncodingStrategy = .iso8601
                    print(String(decoding: try encoder.encode(exports), as: UTF8.self))
                    return
                }
                if exports.isEmpty {
                    print("job \(job) has no exports yet; start one with `pixcrawl export \(job) --format zip`")
                    return
                }
                print(
                    "EXPORT  STATUS     FORMAT      PROGRESS  IMAGES         SIZE        EXPIRES                   FILE / ERROR")
                for export in exports {
                    let images = "\(export.exportedImages)/\(export.totalImages)"
                    let size = export.fileSize.map(formatBytes) ?? "-"
                    let detail =
                        switch export.status {
                        case .failed: export.errorMessage ?? ""
                        case .expired: "(deleted) " + (export.filePath ?? "")
                        default: export.filePath ?? ""
                        }
                    print(
                        pad("\(export.id)", 8) + pad(export.status.rawValue, 11) + pad(export.format, 12)
                            + pad("\(export.progress)%", 10) + pad(images, 15) + pad(size, 12)
                            + pad(formatDate(export.expiresAt), 26) + detail)
                }
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }
}
