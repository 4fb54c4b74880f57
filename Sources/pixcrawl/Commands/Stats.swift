import ArgumentParser
import Foundation
import PixStore
import PixStoreOps

extension PixCrawl {
    /// `pixcrawl stats`: crawl activity in a time window, from either store.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Show crawl statistics: accepted images, errors by category, sources, failing hosts, throughput.",
            discussion: """
                Counts images accepted in the window (in total and per hour), distinct keywords and sources, \
                error records by category with their share, jobs running now and for how long, each source's \
                success rate (accepted / accepted + rejected candidates) and mean image size, the hosts with the \
                most error records, and the throughput of the last hour. Both stores give the same numbers.
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("The window, back from now: e.g. 90m, 24h, 7d, 2w, 1d12h.", valueName: "span"))
        var since: String = "24h"

        @Option(
            help: ArgumentHelp(
                "End of the window, ISO-8601 (e.g. 2026-01-15T12:00:00Z); default: now.", valueName: "time"))
        var until: String?

        @Option(help: "How many failing hosts to list.")
        var top: Int = 10

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            do {
                _ = try TimeSpan(parsing: since)
            } catch {
                throw ValidationError("--since: \(error)")
            }
            guard top >= 1 else { throw ValidationError("--top must be at least 1") }
            if let until, Self.parseInstant(until) == nil {
                throw ValidationError("--until: '\(until)' is not an ISO-8601 time such as 2026-01-15T12:00:00Z")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let span = try TimeSpan(parsing: since)
                let store = try await self.store.openStore(migrate: false)
                defer { store.close() }
                let end = until.flatMap(Self.parseInstant) ?? Date()
                let report = try await StoreStats(database: store.database).report(since: span, now: end, topHosts: top)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    encoder.dateEncodingStrategy = .iso8601
                    print(String(decoding: try encoder.encode(report), as: UTF8.self))
                } else {
                    Self.printText(report, store: try self.store.location(), span: span)
                }
            }
        }

        static func printText(_ report: StatsReport, store: DatabaseLocation, span: TimeSpan) {
            print("store: \(store)")
            print("window: last \(span) (\(stamp(report.windowStart)) to \(stamp(report.windowEnd)))")
            print(
                "images accepted: \(report.imagesAccepted)  (distinct keywords: \(report.distinctKeywords), "
                    + "distinct sources: \(report.distinctSources))")
            let hour = report.lastHour
            print(
                "last hour: \(hour.images) images, \(bytes(hour.bytes))  ("
                    + String(format: "%.2f images/min, %@/s", hour.imagesPerMinute, bytes(Int64(hour.bytesPerSecond)))
                    + ")")
            let busy = report.imagesPerHour.filter { $0.images > 0 }
            if !busy.isEmpty {
                print("\nimages per hour (hours without images left out):")
                for entry in busy { print("  \(stamp(entry.hour).prefix(16))  \(entry.images)") }
            }
            print("\nerrors: \(report.errorsTotal)")
            for entry in report.errorsByCategory {
                print(
                    "  " + entry.category.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + String(format: "%8d  %5.1f%%", entry.count, entry.share * 100))
            }
            print("\nrunning jobs: \(report.runningJobs.count)")
            for job in report.runningJobs {
                print("  #\(job.id) \(job.name)  running \(duration(job.runningSeconds))")
            }
            if !report.sources.isEmpty {
                print("\nSOURCE          ACCEPTED  REJECTED  SUCCESS  MEAN SIZE")
                for source in report.sources {
                    let rate = source.successRate.map { String(format: "%6.1f%%", $0 * 100) } ?? "      -"
                    let mean = source.meanBytes.map { bytes(Int64($0.rounded())) } ?? "-"
                    print(
                        "  " + source.source.padding(toLength: 14, withPad: " ", startingAt: 0)
                            + String(format: "%8d  %8d  ", source.accepted, source.rejected) + rate + "  " + mean)
                }
            }
            if !report.topFailingHosts.isEmpty {
                print("\ntop failing hosts:")
                let width = report.topFailingHosts.map(\.host.count).max() ?? 0
                for host in report.topFailingHosts {
                    print(
                        "  " + host.host.padding(toLength: width, withPad: " ", startingAt: 0)
                            + String(format: "  %8d", host.errors))
                }
            }
        }

        static func parseInstant(_ text: String) -> Date? {
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: text)
        }

        static func stamp(_ date: Date) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: date)
        }

        static func bytes(_ count: Int64) -> String {
            let units = ["B", "kB", "MB", "GB", "TB"]
            var value = Double(count)
            var unit = 0
            while value >= 1000 && unit < units.count - 1 {
                value /= 1000
                unit += 1
            }
            return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
        }

        static func duration(_ seconds: Int64) -> String {
            if seconds < 60 { return "\(seconds)s" }
            if seconds < 3600 { return "\(seconds / 60)m \(seconds % 60)s" }
            return "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        }
    }
}
