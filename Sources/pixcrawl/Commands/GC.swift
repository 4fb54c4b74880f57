import ArgumentParser
import Foundation
import PixExport
import PixStore

extension PixCrawl {
    /// `pixcrawl gc`.
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Delete export archives whose download links have all expired, and mark those exports expired.",
            discussion: "An archive with a live link is never deleted. Temporary files of interrupted exports older "
                + "than a day are removed too.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var storage: ExportStorageOptions

        func run() async throws {
            try await reportingErrors {
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let report = try await ExportGarbageCollector(
                    store: store, exportsDirectory: try storage.exportsDirectory()
                ).collect()
                for archive in report.archives {
                    let path = archive.path ?? "(no file recorded)"
                    switch archive.outcome {
                    case .deleted:
                        print("export \(archive.exportID): expired, deleted \(path) (\(formatBytes(archive.bytes)))")
                    case .alreadyGone:
                        print("export \(archive.exportID): expired, \(path) was already gone")
                    case .noFile:
                        print("export \(archive.exportID): expired (no archive file)")
                    case .failed(let reason):
                        print("export \(archive.exportID): expired, but \(path) could not be deleted: \(reason)")
                    }
                }
                for file in report.temporaryFiles {
                    print("removed leftover temporary file \(file)")
                }
                if report.archives.isEmpty && report.temporaryFiles.isEmpty {
                    print("gc: nothing to collect (no export has only expired links)")
                } else {
                    print(
                        "gc: \(report.archives.count) export(s) expired, \(formatBytes(report.bytesFreed)) freed, "
                            + "\(report.temporaryFiles.count) temporary file(s) removed")
                }
            }
        }
    }
}
