import Foundation
import PixCore
import PixStore
import PixStoreOps
import PixTestSupport
import Testing

@Suite("stats")
struct StatsTests {
    /// 2026-01-15T12:00:00Z
    static let now = Date(timeIntervalSince1970: 1_768_478_400)

    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? Date(timeIntervalSince1970: 0)
    }

    /// A known dataset: images, errors and jobs at fixed instants around ``now``.
    static func seed(_ store: SQLCrawlStore) async throws {
        let profile = try await store.createProfile(NewProfile(email: "stats@example.com"))
        let project = try await store.createProject(NewProject(name: "stats", userID: profile.id))
        func job(_ name: String, _ sources: [String]) async throws -> (Int64, [Int64]) {
            let job = try await store.createJob(
                NewCrawlJob(projectID: project.id, name: name, keywords: ["fox"], maxImages: 100, sources: sources),
                chunks: sources.map { NewChunk(keyword: "fox", source: $0, rangeStart: 0, rangeEnd: 10) })
            return (job.id, try await store.chunks(jobID: job.id).map(\.id))
        }
        let (running, runningChunks) = try await job("running", ["openverse", "commons"])
        let (done, doneChunks) = try await job("done", ["demo"])
        let (idle, _) = try await job("running, not started", ["demo"])
        let openverse = runningChunks[0]
        let commons = runningChunks[1]
        let demo = doneChunks[0]

        let images: [(Int64, Int64, String, String, Int?, String)] = [
            (running, openverse, "openverse", "fox", 100, "2026-01-15T11:00:00.000Z"),
            (running, openverse, "openverse", "🦊", 200, "2026-01-15T11:20:00.250Z"),
            (running, openverse, "openverse", "fox", 300, "2026-01-15T11:59:59.999Z"),
            (running, commons, "commons", "cat", 1000, "2026-01-15T11:30:00.000Z"),
            (done, demo, "demo", "fox", 50, "2026-01-15T10:15:00.000Z"),
            (done, demo, "demo", "cat", nil, "2026-01-15T10:15:30.000Z"),
            (running, openverse, "openverse", "fox", 400, "2026-01-14T13:00:00.000Z"),
            (done, demo, "demo", "dog", 10, "2026-01-14T11:59:59.999Z"),  // before the 24h window
            (done, demo, "demo", "dog", 10, "2026-01-15T12:00:00.000Z"),  // at the window's end: excluded
        ]
        let errors: [(Int64?, Int64?, String, String?, String)] = [
            (running, openverse, "NETWORK", "http://a.example.com/x", "2026-01-15T11:10:00.000Z"),
            (running, openverse, "NETWORK", "https://A.Example.com:8443/y?q=1", "2026-01-15T09:00:00.000Z"),
            (running, openverse, "NETWORK", "http://user:pw@a.example.com/z", "2026-01-14T20:00:00.000Z"),
            (running, commons, "HTTP_STATUS", "https://b.example.org/1?x=1", "2026-01-15T11:45:00.000Z"),
            (running, commons, "HTTP_STATUS", "https://b.example.org#frag", "2026-01-15T11:46:00.000Z"),
            (running, openverse, "DECODE", "https://[2001:db8::1]:443/p.jpg", "2026-01-15T11:50:00.000Z"),
            (nil, nil, "DATABASE", nil, "2026-01-15T06:00:00.000Z"),
            (done, demo, "ROBOTS", "not a url", "2026-01-15T10:16:00.000Z"),
            (running, openverse, "NETWORK", "http://old.example.com/", "2026-01-13T00:00:00.000Z"),  // outside
        ]
        try await store.database.transaction { connection in
            for (index, image) in images.enumerated() {
                try connection.query(
                    """
                    INSERT INTO images (crawl_job_id, chunk_id, original_url, filename, sha256, keyword, source, file_size,
                        created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    """, .int(image.0), .int(image.1), .text("http://127.0.0.1/\(index).jpg"), .text("\(index).jpg"),
                    .text(String(repeating: "\(index)", count: 64)), .text(image.3), .text(image.2),
                    image.4.map { .int($0) } ?? .null, .date(Self.at(image.5)))
            }
            for error in errors {
                try connection.query(
                    """
                    INSERT INTO error_logs (job_id, chunk_id, category, message, url, created_at)
                    VALUES ($1, $2, $3, 'x', $4, $5)
                    """, error.0.map { .int($0) } ?? .null, error.1.map { .int($0) } ?? .null, .text(error.2),
                    .optional(error.3), .date(Self.at(error.4)))
            }
            try connection.query(
                "UPDATE crawl_jobs SET status = 'running', started_at = $2 WHERE id = $1", .int(running),
                .date(Self.at("2026-01-15T10:57:54.500Z")))
            try connection.query("UPDATE crawl_jobs SET status = 'completed' WHERE id = $1", .int(done))
            try connection.query("UPDATE crawl_jobs SET status = 'running' WHERE id = $1", .int(idle))
        }
    }

    @Test("the known dataset gives the exact numbers", arguments: Backend.allCases)
    func knownDataset(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        try await Self.seed(store)
        let report = try await StoreStats(database: store.database).report(since: TimeSpan(parsing: "24h"), now: Self.now)

        #expect(report.windowStart == Self.at("2026-01-14T12:00:00.000Z"))
        #expect(report.windowEnd == Self.now)
        #expect(report.imagesAccepted == 7)
        #expect(report.imagesPerHour.count == 24)
        #expect(report.imagesPerHour.first?.hour == Self.at("2026-01-14T12:00:00.000Z"))
        let busy = report.imagesPerHour.filter { $0.images > 0 }
        #expect(
            busy == [
                StatsReport.HourCount(hour: Self.at("2026-01-14T13:00:00.000Z"), images: 1),
                StatsReport.HourCount(hour: Self.at("2026-01-15T10:00:00.000Z"), images: 2),
                StatsReport.HourCount(hour: Self.at("2026-01-15T11:00:00.000Z"), images: 4),
            ])
        #expect(report.distinctKeywords == 3)
        #expect(report.distinctSources == 3)
        #expect(report.errorsTotal == 8)
        #expect(
            report.errorsByCategory == [
                StatsReport.CategoryCount(category: "NETWORK", count: 3, share: 0.375),
                StatsReport.CategoryCount(category: "HTTP_STATUS", count: 2, share: 0.25),
                StatsReport.CategoryCount(category: "DATABASE", count: 1, share: 0.125),
                StatsReport.CategoryCount(category: "DECODE", count: 1, share: 0.125),
                StatsReport.CategoryCount(category: "ROBOTS", count: 1, share: 0.125),
            ])
        #expect(report.runningJobs.map(\.name) == ["running", "running, not started"])
        #expect(report.runningJobs.map(\.runningSeconds) == [3725, 0])
        #expect(report.runningJobs.first?.startedAt == Self.at("2026-01-15T10:57:54.500Z"))
        #expect(report.runningJobs.last?.startedAt == nil)
        #expect(
            report.sources == [
                StatsReport.SourceCount(source: "openverse", accepted: 4, rejected: 4, successRate: 0.5, meanBytes: 250),
                StatsReport.SourceCount(source: "demo", accepted: 2, rejected: 1, successRate: 2.0 / 3.0, meanBytes: 50),
                StatsReport.SourceCount(source: "commons", accepted: 1, rejected: 2, successRate: 1.0 / 3.0, meanBytes: 1000),
            ])
        #expect(
            report.topFailingHosts == [
                StatsReport.HostCount(host: "a.example.com", errors: 3),
                StatsReport.HostCount(host: "b.example.org", errors: 2),
                StatsReport.HostCount(host: "[2001:db8::1]", errors: 1),
            ])
        #expect(
            report.lastHour
                == StatsReport.Throughput(images: 4, bytes: 1600, imagesPerMinute: 4.0 / 60, bytesPerSecond: 1600.0 / 3600))
    }

    @Test("both stores give the same report for the same rows, for several windows")
    func sameOnBothBackends() async throws {
        let sqlite = try await TestStores.make(.sqlite)
        let postgres = try await TestStores.make(.postgres)
        defer {
            sqlite.close()
            postgres.close()
        }
        try await Self.seed(sqlite)
        try await Self.seed(postgres)
        for window in ["1h", "90m", "7d", "1d12h"] {
            let span = try TimeSpan(parsing: window)
            let a = try await StoreStats(database: sqlite.database).report(since: span, now: Self.now, topHosts: 2)
            let b = try await StoreStats(database: postgres.database).report(since: span, now: Self.now, topHosts: 2)
            #expect(a == b, "window \(window)")
            #expect(a.topFailingHosts.count <= 2)
        }
        let week = try await StoreStats(database: postgres.database).report(since: TimeSpan(parsing: "7d"), now: Self.now)
        #expect(week.imagesAccepted == 8)
        #expect(week.errorsTotal == 9)
        #expect(week.topFailingHosts.map(\.host) == ["a.example.com", "b.example.org", "[2001:db8::1]", "old.example.com"])
    }

    @Test("an empty store reports zeros, not errors", arguments: Backend.allCases)
    func emptyStore(backend: Backend) async throws {
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let report = try await StoreStats(database: store.database).report(since: TimeSpan(parsing: "2h"), now: Self.now)
        #expect(report.imagesAccepted == 0)
        #expect(report.imagesPerHour.map(\.images) == [0, 0])
        #expect(report.errorsByCategory.isEmpty)
        #expect(report.sources.isEmpty)
        #expect(report.topFailingHosts.isEmpty)
        #expect(report.lastHour == StatsReport.Throughput(images: 0, bytes: 0, imagesPerMinute: 0, bytesPerSecond: 0))
    }
}
