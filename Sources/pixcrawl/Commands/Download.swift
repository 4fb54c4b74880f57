import ArgumentParser
import Foundation
import PixExport
import PixStore

extension PixCrawl {
    /// `pixcrawl download TOKEN -o FILE`.
    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "download",
            abstract: "Download an export archive by its token and verify its size and SHA-256.",
            discussion: "The token must be live: after its expiry it is refused (\"expired\"); issue a fresh one with "
                + "`pixcrawl export link EXPORT`. Each download is counted on the token's record.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The download token printed by `pixcrawl export` or `pixcrawl export link`.")
        var token: String

        @Option(
            name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp(
                "The file to write (or a directory to write the archive's own name into); for a WebDataset export, "
                    + "the directory that receives its shards, indexes and manifests.",
                valueName: "file"))
        var output: String

        @Option(
            help: ArgumentHelp(
                "Storage holding the archive (for s3:// storage). Default: $PIXCRAWL_STORAGE_URL, else storage/.",
                valueName: "url"))
        var storage: String?

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let downloaded = try await StorageSelection(storage).exportDownloads(store: store)
                    .download(token: token, to: URL(fileURLWithPath: output))
                if downloaded.files.isEmpty {
                    print("wrote \(downloaded.file.path) (\(downloaded.size) bytes, \(formatBytes(downloaded.size)))")
                    print("sha256 verified: \(downloaded.sha256)")
                } else {
                    let shards = downloaded.files.filter { $0.hasSuffix(".tar") }
                    print("wrote \(downloaded.files.count) files into \(downloaded.file.path)")
                    print("\(shards.count) shards, each verified against its index's sha256")
                }
                print(
                    "export \(downloaded.exportID); link expires \(formatDate(downloaded.record.expiresAt)), "
                        + "downloads so far: \(downloaded.record.downloadCount)")
            }
        }
    }
}
