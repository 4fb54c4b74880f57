import ArgumentParser
import Foundation
import Logging
import PixStore
import PixStoreOps
import Synchronization

extension PixCrawl {
    /// `pixcrawl migrate-store`: moves the embedded SQLite store into PostgreSQL, batched, resumable, verified.
    struct MigrateStore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-store",
            abstract: "Move an embedded SQLite store into PostgreSQL (batched, resumable, verified).",
            discussion: """
                Applies the target's migrations, copies every table in foreign-key order in batches (ids kept, \
                types converted), advances the PostgreSQL sequences past the copied ids, then compares both \
                stores: row counts and a checksum over every row of every table. Any difference is reported by \
                table and first differing id, and the exit status is 1.

                Stop the workers first: a source with unexpired leases is refused unless --force. A target that \
                already holds rows is refused unless --resume, which continues an interrupted run from its last \
                committed batch. Progress goes to stderr, the verification table to stdout. Storage URLs are \
                copied unchanged: blobs stay where they are.

                Example: pixcrawl migrate-store --from sqlite:storage/pixcrawl.sqlite \
                --to 'postgres://pixcrawl@db.internal:5432/pixcrawl?schema=pixcrawl'
                """)

        @Option(help: ArgumentHelp("The SQLite store to read: sqlite:PATH or a file path.", valueName: "store"))
        var from: String

        @Option(
            help: ArgumentHelp(
                "The PostgreSQL store to fill: postgres://user@host:port/db (optional ?schema=name).",
                valueName: "url"))
        var to: String

        @Option(
            help: ArgumentHelp("PostgreSQL schema of the target, when the URL names none (default: pixcrawl).", valueName: "name")
        )
        var schema: String?

        @Option(help: "Rows per batch; each batch is one transaction.")
        var batch: Int = 5000

        @Flag(help: "Continue an interrupted migrate-store into the same target.")
        var resume = false

        @Flag(help: "Copy even though workers hold unexpired leases on the source.")
        var force = false

        @Flag(help: "Compare the two stores only; copy nothing.")
        var verifyOnly = false

        @Option(
            name: .customLong("migrations-dir"),
            help: ArgumentHelp("Folder with postgres/ and sqlite/ migrations (default: found automatically).", valueName: "dir"))
        var migrationsDirectory: String?

        @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
        var logLevel: Logger.Level = .notice

        @Option(help: ArgumentHelp("Stop after this many committed batches, as a kill would (for tests).", visibility: .hidden))
        var stopAfterBatches: Int?

        func validate() throws {
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
            if let stopAfterBatches, stopAfterBatches < 1 {
                throw ValidationError("--stop-after-batches must be at least 1")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let source = try DatabaseLocation.parse(from)
                let target = try DatabaseLocation.parse(
                    to, schema: schema ?? ProcessInfo.processInfo.environment["PIXCRAWL_DATABASE_SCHEMA"])
                var logger = Logger(label: "pixcrawl.migrate-store")
                logger.logLevel = logLevel
                let copier = try StoreCopier(
                    from: source, to: target,
                    options: StoreCopier.Options(
                        batchSize: batch, resume: resume, force: force,
                        migrationsDirectory: migrationsDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
                        stopAfterBatches: stopAfterBatches),
                    logger: logger)
                let printer = ProgressPrinter()
                print("migrate-store: \(source) → \(target)")
                let verification: VerificationReport
                if verifyOnly {
                    verification = try await copier.verify(onEvent: printer.handle)
                } else {
                    let report = try await copier.run(onEvent: printer.handle)
                    if !report.appliedMigrations.isEmpty {
                        print("target migrations applied: \(report.appliedMigrations.joined(separator: ", "))")
                    }
                    let copied = report.tables.reduce(0) { $0 + $1.copiedThisRun }
                    print("copied \(copied) row(s) in this run across \(report.tables.count) tables")
                    if !report.sequences.isEmpty {
                        let list = report.sequences.map { "\($0.table).\($0.column) next \($0.lastValue + 1)" }
                        print("sequences advanced: \(list.joined(separator: ", "))")
                    }
                    verification = report.verification
                }
                Self.printVerification(verification)
                guard verification.passed else {
                    let first = verification.mismatches.map { mismatch in
                        mismatch.table + (mismatch.firstDifferingKey.map { " (first differing id \($0))" } ?? "")
                    }
                    throw CLIError("verification failed for \(first.joined(separator: ", "))")
                }
                let rows = verification.tables.reduce(0) { $0 + $1.sourceRows }
                print("verified: \(verification.tables.count) tables, \(rows) rows; counts and checksums are equal")
            }
        }

        static func printVerification(_ report: VerificationReport) {
            print(
                "TABLE".padding(toLength: 18, withPad: " ", startingAt: 0) + "SOURCE ROWS".leftPadded(12)
                    + "TARGET ROWS".leftPadded(13) + "  CHECKSUM          RESULT")
            for table in report.tables {
                let result: String
                if table.matches {
                    result = "ok"
                } else if let key = table.firstDifferingKey {
                    result = "MISMATCH at id \(key)" + (table.firstDifferingColumn.map { " (column \($0))" } ?? "")
                } else {
                    result = "MISMATCH"
                }
                let checksum =
                    table.sourceChecksum == table.targetChecksum
                    ? String(table.sourceChecksum.prefix(16))
                    : String(table.sourceChecksum.prefix(7)) + "≠" + String(table.targetChecksum.prefix(7)) + " "
                print(
                    table.table.padding(toLength: 18, withPad: " ", startingAt: 0) + "\(table.sourceRows)".leftPadded(12)
                        + "\(table.targetRows)".leftPadded(13) + "  " + checksum + "  " + result)
            }
        }
    }
}

/// Writes migrate-store's progress to stderr: per table rows, rows/s and ETA, at most about once a second.
private final class ProgressPrinter: Sendable {
    private let lastPrinted = Mutex<ContinuousClock.Instant?>(nil)

    @Sendable func handle(_ event: StoreCopier.Event) {
        switch event {
        case .migrated(let files):
            if !files.isEmpty { write("applied \(files.count) migration(s) to the target") }
        case .tableStarted(let progress):
            let resumed = progress.copied > 0 ? ", resuming after \(progress.copied) copied" : ""
            write("\(progress.table): \(progress.total) rows\(resumed)")
            lastPrinted.withLock { $0 = ContinuousClock.now }
        case .batchCommitted(let progress):
            let now = ContinuousClock.now
            let due = lastPrinted.withLock { last -> Bool in
                guard progress.copied >= progress.total || last.map({ now - $0 >= .seconds(1) }) ?? true else {
                    return false
                }
                last = now
                return true
            }
            guard due else { return }
            let percent = progress.total > 0 ? Double(progress.copied) * 100 / Double(progress.total) : 100
            var line = "\(progress.table): \(progress.copied)/\(progress.total) rows (\(String(format: "%.1f", percent))%)"
            if let rate = progress.rowsPerSecond { line += ", \(Int(rate)) rows/s" }
            if let eta = progress.eta, progress.copied < progress.total { line += ", ETA \(Self.format(eta))" }
            write(line)
        case .tableAlreadyCopied(let table, let rows):
            write("\(table): already copied (\(rows) rows)")
        case .sequencesAdvanced(let sequences):
            write("advanced \(sequences.count) sequence(s)")
        case .verifying(let table):
            write("verifying \(table)")
        }
    }

    private func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds < 60 { return "\(max(1, seconds))s" }
        if seconds < 3600 { return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" }
        return "\(seconds / 3600)h\(String(format: "%02d", seconds % 3600 / 60))m"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
