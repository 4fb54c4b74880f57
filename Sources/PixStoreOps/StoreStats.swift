import Foundation
import PixCore
import PixSQL
import PixStore

/// Computes a ``StatsReport`` from the store. Every number comes from the queries in ``Query``, one per
/// dialect side by side; ratios and durations are computed here from exact counts, so both engines give
/// the same report for the same rows.
public struct StoreStats: Sendable {
    private let database: SQLDatabase

    /// - Parameter database: the store to read.
    public init(database: SQLDatabase) {
        self.database = database
    }

    /// The report for the window `[now - since, now)`.
    /// - Parameters:
    ///   - since: the window's length (e.g. 24h).
    ///   - now: the window's end, default the current time.
    ///   - topHosts: how many failing hosts to list.
    public func report(since: TimeSpan, now: Date = Date(), topHosts: Int = 10) async throws -> StatsReport {
        // Whole seconds: exactly representable, so the bound edges are the same text in both engines.
        let end = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let start = since.before(end)
        let hourAgo = end.addingTimeInterval(-3600)
        return try await database.read { connection in
            let dialect = connection.dialect
            let window: [SQLValue] = [.date(start), .date(end)]

            let totals = try connection.query(Query.imageTotals(dialect), window).first
            let hourly = try connection.query(Query.imagesPerHour(dialect), window)
            let categories = try connection.query(Query.errorsByCategory(dialect), window)
            let running = try connection.query(Query.runningJobs(dialect), [])
            let accepted = try connection.query(Query.imagesBySource(dialect), window)
            let rejected = try connection.query(Query.rejectionsBySource(dialect), window)
            let hosts = try connection.query(Query.failingHosts(dialect), window + [.int(topHosts)])
            let lastHour = try connection.query(Query.imageTotals(dialect), [.date(hourAgo), .date(end)]).first

            var perHour: [Date: Int] = [:]
            for row in hourly {
                if let label = row.string("hour"), let hour = Self.hourStart(label) { perHour[hour] = row.int("n") ?? 0 }
            }
            var hours: [StatsReport.HourCount] = []
            var hour = Self.floorToHour(start)
            while hour < end {
                hours.append(StatsReport.HourCount(hour: hour, images: perHour[hour] ?? 0))
                hour = hour.addingTimeInterval(3600)
            }

            let errorsTotal = categories.reduce(0) { $0 + ($1.int("n") ?? 0) }
            let byCategory = categories.map { row -> StatsReport.CategoryCount in
                let count = row.int("n") ?? 0
                return StatsReport.CategoryCount(
                    category: row.string("category") ?? "", count: count,
                    share: errorsTotal > 0 ? Double(count) / Double(errorsTotal) : 0)
            }.sorted { ($0.count, $1.category) > ($1.count, $0.category) }

            let jobs = running.map { row -> StatsReport.RunningJob in
                let started = row.string("started_at").flatMap(CanonicalTimestamp.milliseconds)
                let endMillis = Int64(end.timeIntervalSince1970) * 1000
                return StatsReport.RunningJob(
                    id: row.int64("id") ?? 0, name: row.string("name") ?? "",
                    startedAt: started.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                    runningSeconds: started.map { max(0, (endMillis - $0) / 1000) } ?? 0)
            }

            var rejectedBySource: [String: Int] = [:]
            for row in rejected { rejectedBySource[row.string("source") ?? "", default: 0] += row.int("n") ?? 0 }
            var sources: [StatsReport.SourceCount] = []
            for row in accepted {
                let source = row.string("source") ?? ""
                let count = row.int("n") ?? 0
                let sized = row.int("sized") ?? 0
                let failed = rejectedBySource.removeValue(forKey: source) ?? 0
                sources.append(
                    StatsReport.SourceCount(
                        source: source, accepted: count, rejected: failed,
                        successRate: count + failed > 0 ? Double(count) / Double(count + failed) : nil,
                        meanBytes: sized > 0 ? Double(row.int64("bytes") ?? 0) / Double(sized) : nil))
            }
            for (source, failed) in rejectedBySource {
                sources.append(
                    StatsReport.SourceCount(
                        source: source, accepted: 0, rejected: failed, successRate: failed > 0 ? 0 : nil,
                        meanBytes: nil))
            }
            sources.sort { ($0.accepted, $1.source) > ($1.accepted, $0.source) }

            let lastHourImages = lastHour?.int("n") ?? 0
            let lastHourBytes = lastHour?.int64("bytes") ?? 0
            return StatsReport(
                windowStart: start, windowEnd: end,
                imagesAccepted: totals?.int("n") ?? 0,
                imagesPerHour: hours,
                distinctKeywords: totals?.int("keywords") ?? 0,
                distinctSources: totals?.int("sources") ?? 0,
                errorsTotal: errorsTotal,
                errorsByCategory: byCategory,
                runningJobs: jobs,
                sources: sources,
                topFailingHosts: hosts.map { StatsReport.HostCount(host: $0.string("host") ?? "", errors: $0.int("n") ?? 0) },
                lastHour: StatsReport.Throughput(
                    images: lastHourImages, bytes: lastHourBytes, imagesPerMinute: Double(lastHourImages) / 60,
                    bytesPerSecond: Double(lastHourBytes) / 3600))
        }
    }

    static func floorToHour(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    /// `2026-11-23T11` (both dialects' hour label) → the hour's start.
    static func hourStart(_ label: String) -> Date? {
        CanonicalTimestamp.milliseconds(label + ":00:00Z").map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// The statements behind the report, SQLite and PostgreSQL side by side. `$1`/`$2` are the window's
    /// start (inclusive) and end (exclusive). SQLite keeps timestamps as ISO-8601 UTC text, which compares
    /// chronologically with the bound ISO text; PostgreSQL compares `timestamptz`.
    enum Query {
        /// Images in the window: count, distinct keywords and sources, bytes.
        static func imageTotals(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                """
                SELECT COUNT(*) AS n, COUNT(DISTINCT keyword) AS keywords, COUNT(DISTINCT source) AS sources,
                    COALESCE(SUM(file_size), 0) AS bytes
                FROM images WHERE created_at >= $1 AND created_at < $2
                """
            case .postgres:
                """
                SELECT COUNT(*) AS n, COUNT(DISTINCT keyword) AS keywords, COUNT(DISTINCT source) AS sources,
                    COALESCE(SUM(file_size), 0) AS bytes
                FROM images WHERE created_at >= $1 AND created_at < $2
                """
            }
        }

        /// Images per hour, labelled `YYYY-MM-DDTHH` (UTC).
        static func imagesPerHour(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                """
                SELECT substr(created_at, 1, 13) AS hour, COUNT(*) AS n
                FROM images WHERE created_at >= $1 AND created_at < $2
                GROUP BY substr(created_at, 1, 13)
                """
            case .postgres:
                """
                SELECT to_char(date_trunc('hour', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24') AS hour,
                    COUNT(*) AS n
                FROM images WHERE created_at >= $1 AND created_at < $2
                GROUP BY 1
                """
            }
        }

        /// Error records per category.
        static func errorsByCategory(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                "SELECT category, COUNT(*) AS n FROM error_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY category"
            case .postgres:
                "SELECT category, COUNT(*) AS n FROM error_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY category"
            }
        }

        /// Jobs running now (not windowed).
        static func runningJobs(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                "SELECT id, name, started_at FROM crawl_jobs WHERE status = 'running' ORDER BY id"
            case .postgres:
                "SELECT id, name, started_at FROM crawl_jobs WHERE status = 'running' ORDER BY id"
            }
        }

        /// Accepted images per source: count, bytes and how many have a size.
        static func imagesBySource(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                """
                SELECT source, COUNT(*) AS n, COALESCE(SUM(file_size), 0) AS bytes, COUNT(file_size) AS sized
                FROM images WHERE created_at >= $1 AND created_at < $2 GROUP BY source
                """
            case .postgres:
                """
                SELECT source, COUNT(*) AS n, COALESCE(SUM(file_size), 0) AS bytes, COUNT(file_size) AS sized
                FROM images WHERE created_at >= $1 AND created_at < $2 GROUP BY source
                """
            }
        }

        /// Rejected candidates (error records with a URL) per source of their chunk.
        static func rejectionsBySource(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                """
                SELECT c.source AS source, COUNT(*) AS n
                FROM error_logs e JOIN crawl_chunks c ON c.id = e.chunk_id
                WHERE e.url IS NOT NULL AND e.created_at >= $1 AND e.created_at < $2 GROUP BY c.source
                """
            case .postgres:
                """
                SELECT c.source AS source, COUNT(*) AS n
                FROM error_logs e JOIN crawl_chunks c ON c.id = e.chunk_id
                WHERE e.url IS NOT NULL AND e.created_at >= $1 AND e.created_at < $2 GROUP BY c.source
                """
            }
        }

        /// Hosts of `error_logs.url` with the most records; `$3` is the limit. The host is what follows the
        /// first `://` up to `/`, `?`, `#` or the port, after any `user@`; `[…]` for IPv6; lowercased.
        /// Ties are broken bytewise (`COLLATE "C"` is SQLite's BINARY).
        static func failingHosts(_ dialect: SQLDialect) -> String {
            switch dialect {
            case .sqlite:
                """
                WITH a AS (SELECT substr(url, instr(url, '://') + 3) AS r FROM error_logs
                           WHERE instr(url, '://') > 0 AND created_at >= $1 AND created_at < $2),
                     b AS (SELECT CASE WHEN instr(r, '/') > 0 THEN substr(r, 1, instr(r, '/') - 1) ELSE r END AS r FROM a),
                     c AS (SELECT CASE WHEN instr(r, '?') > 0 THEN substr(r, 1, instr(r, '?') - 1) ELSE r END AS r FROM b),
                     d AS (SELECT CASE WHEN instr(r, '#') > 0 THEN substr(r, 1, instr(r, '#') - 1) ELSE r END AS r FROM c),
                     e AS (SELECT CASE WHEN instr(r, '@') > 0 THEN substr(r, instr(r, '@') + 1) ELSE r END AS r FROM d),
                     f AS (SELECT lower(CASE
                               WHEN substr(r, 1, 1) = '[' AND instr(r, ']') > 0 THEN substr(r, 1, instr(r, ']'))
                               WHEN instr(r, ':') > 0 THEN substr(r, 1, instr(r, ':') - 1)
                               ELSE r END) AS host FROM e)
                SELECT host, COUNT(*) AS n FROM f WHERE host <> '' GROUP BY host ORDER BY n DESC, host LIMIT $3
                """
            case .postgres:
                """
                SELECT host, COUNT(*) AS n FROM (
                    SELECT lower(substring(url FROM '://(?:[^/?#@]*@)?(\\[[^]/?#]*\\]|[^/?#:]*)')) AS host
                    FROM error_logs WHERE url LIKE '%://%' AND created_at >= $1 AND created_at < $2) AS h
                WHERE host <> '' GROUP BY host ORDER BY n DESC, host COLLATE "C" LIMIT $3
                """
            }
        }
    }
}
