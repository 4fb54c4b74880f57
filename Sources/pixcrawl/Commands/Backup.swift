import ArgumentParser
import Foundation
import PixStore
import PixStoreOps

extension PixCrawl {
    /// `pixcrawl backup`: a consistent copy of the embedded SQLite store, taken while workers run.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Back up the embedded SQLite store to a file (online: workers may keep running).",
            discussion: """
                Uses SQLite's online backup API: the file holds one consistent snapshot of the store, checked \
                with PRAGMA quick_check before it is moved into place. To restore, stop every pixcrawl process, \
                move the store's -wal and -shm files away, and copy the backup over the store file.

                For PostgreSQL use pg_dump / pg_restore instead, e.g. \
                pg_dump --format=custom --schema=pixcrawl --file=pixcrawl.dump "$PIXCRAWL_DATABASE_URL".
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("The backup file to write.", valueName: "file"))
        var to: String

        @Flag(help: "Replace the backup file if it exists.")
        var force = false

        func run() async throws {
            try await reportingErrors {
                let location = try store.location()
                let started = ContinuousClock.now
                let summary = try await SQLiteBackup(location: location).write(to: to, overwrite: force)
                let elapsed = ContinuousClock.now - started
                let megabytes = Double(summary.bytes) / 1_000_000
                print(
                    "backed up \(location) to \(summary.path): \(summary.pages) pages, "
                        + String(
                            format: "%.1f MB in %.1fs", megabytes,
                            Double(elapsed.components.seconds)
                                + Double(elapsed.components.attoseconds) / 1e18))
            }
        }
    }
}
