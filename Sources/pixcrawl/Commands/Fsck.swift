import ArgumentParser
import Foundation
import PixBlob
import PixCoordinate
import PixStore
import PixStoreOps

extension PixCrawl {
    /// `pixcrawl fsck`: the consistency check between stored files and image rows.
    struct Fsck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsck",
            abstract: "Check that every image row has its file and every stored file has a row.",
            discussion: """
                Lists the blob store and reads the image rows of every job, with bounded memory, and reports: \
                orphans (files no image row refers to: a worker that crashed between storing a file and writing \
                its row leaves one, and so do the last pages of a crawl, whose images beyond max_images are stored \
                but not recorded) and rows whose file is missing (lost data). With --repair, orphans older than \
                the grace period are deleted (a younger one may be an upload whose row is being written) and rows \
                without a file are marked invalid with the reason BLOB_MISSING, valid_images following. The \
                resized copies a job made at crawl time (crawl --resize) are referenced files like originals; a row \
                whose copy is missing is reported, and --repair forgets the copy (an export then resizes the \
                original).

                Exit status: 0 when no row lacks its file (orphans are only reclaimable space), 1 on errors, 3 when \
                rows without a file remain.
                """)

        @OptionGroup var store: StoreOptions

        @Option(
            name: .customLong("storage"),
            help: ArgumentHelp(
                "Where image files are stored: a directory or s3://bucket/prefix?endpoint=…. "
                    + "Default: $PIXCRAWL_STORAGE_URL, else storage.",
                valueName: "url"))
        var storage: String?

        @Flag(help: "Delete old orphans and mark rows without a file invalid.")
        var repair = false

        @Option(
            help: ArgumentHelp(
                "Orphans younger than this are reported but never deleted (e.g. 30m, 1h, 2d).", valueName: "span"))
        var grace = "1h"

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws {
            guard (try? TimeSpan(parsing: grace)) != nil else {
                throw ValidationError("--grace: '\(grace)' is not a span like 30m, 1h or 2d")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let crawlStore = try await store.openStore(migrate: false)
                defer { crawlStore.close() }
                let blobs = try StorageSelection.blobStore(storage)
                let span = try TimeSpan(parsing: grace)
                let check = StorageCheck(store: crawlStore, blobs: blobs, grace: span.duration)
                let report = try await check.run(repair: repair)
                if json {
                    try printJSON(report)
                } else {
                    printHuman(report)
                }
                if report.missingCount - report.rowsMarked > 0 { throw ExitCode(3) }
            }
        }

        private func printHuman(_ report: StorageCheck.Report) {
            print("files scanned   \(report.blobsScanned) (\(formatBytes(Int(report.blobBytes))))")
            print("rows scanned    \(report.rowsScanned)")
            print(
                "orphan files    \(report.orphanCount) (\(formatBytes(Int(report.orphanBytes))))"
                    + (report.orphansInGrace > 0 ? ", \(report.orphansInGrace) younger than \(grace)" : ""))
            for orphan in report.orphanExamples { print("  orphan  \(orphan.key.path)") }
            print(
                "missing files   \(report.missingCount)"
                    + (report.previouslyMarked > 0 ? " (+\(report.previouslyMarked) marked by an earlier repair)" : ""))
            for row in report.missingExamples {
                print("  missing image \(row.imageID) of job \(row.jobID): \(row.storageURL ?? row.sha256)")
            }
            if report.missingDerivatives > 0 {
                print("missing resized copies \(report.missingDerivatives) (made at crawl time; --repair forgets them)")
            }
            if repair {
                print("repaired        \(report.orphansDeleted) orphan(s) deleted, \(report.rowsMarked) row(s) marked")
                if report.derivativesCleared > 0 {
                    print("                \(report.derivativesCleared) missing resized copy(ies) forgotten")
                }
            }
            if report.isClean {
                print("fsck: clean")
            } else if report.missingCount - report.rowsMarked > 0 {
                print("fsck: \(report.missingCount - report.rowsMarked) row(s) without a file; --repair marks them invalid")
            } else if !repair && report.missingDerivatives > 0 {
                print("fsck: resized copies are missing; --repair forgets them (exports then resize the originals)")
            } else if !repair && report.orphanCount > 0 {
                print("fsck: no row lacks its file; orphans are reclaimable with --repair once older than \(grace)")
            } else {
                print("fsck: repaired what was old enough")
            }
        }

        private func printJSON(_ report: StorageCheck.Report) throws {
            let object: [String: Any] = [
                "files_scanned": report.blobsScanned, "file_bytes": report.blobBytes,
                "rows_scanned": report.rowsScanned, "orphans": report.orphanCount,
                "orphan_bytes": report.orphanBytes, "orphans_in_grace": report.orphansInGrace,
                "orphans_deleted": report.orphansDeleted, "missing": report.missingCount,
                "rows_marked": report.rowsMarked, "previously_marked": report.previouslyMarked,
                "missing_derivatives": report.missingDerivatives, "derivatives_cleared": report.derivativesCleared,
                "orphan_examples": report.orphanExamples.map(\.key.path),
                "missing_examples": report.missingExamples.map(\.imageID),
                "clean": report.isClean,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
