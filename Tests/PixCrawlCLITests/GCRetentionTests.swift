import Foundation
import PixCore
import PixStore
import PixTestSupport
import Testing

@Suite("pixcrawl gc retention")
struct GCRetentionTests {
    @Test("gc --errors-older-than deletes exactly the old error records", arguments: Backend.allCases)
    func errorsOlderThan(backend: Backend) async throws {
        let location = try TestStores.freshLocation(backend)
        let store = try await SQLCrawlStore.open(location)
        defer { store.close() }
        try await Migrator(database: store.database, directory: TestStores.migrationsDirectory).migrate()
        let profile = try await store.createProfile(NewProfile(email: "gc@example.com"))
        let project = try await store.createProject(NewProject(name: "gc", userID: profile.id))
        let job = try await store.createJob(
            NewCrawlJob(projectID: project.id, name: "gc", keywords: ["k"], maxImages: 10, sources: ["demo"]),
            chunks: [NewChunk(keyword: "k", source: "demo", rangeStart: 0, rangeEnd: 10)])
        try await store.recordErrors(
            (0..<5).map { NewErrorLog(jobID: job.id, category: .decode, message: "DECODE: old \($0)") }
                + (0..<3).map { NewErrorLog(jobID: job.id, category: .format, message: "FORMAT: new \($0)") })
        try await store.database.transaction { connection in
            try connection.query(
                "UPDATE error_logs SET created_at = $1 WHERE category = 'DECODE'",
                .date(Date().addingTimeInterval(-40 * 86_400)))
        }
        let url: String
        switch location {
        case .sqlite(let path): url = "sqlite:\(path)"
        case .postgres(let conninfo, let schema): url = conninfo + (conninfo.contains("?") ? "&" : "?") + "schema=\(schema)"
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-gc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try TestProcess.pixcrawl(
            ["gc", "--errors-older-than", "30d", "--storage", directory.path],
            environment: ["PIXCRAWL_DATABASE_URL": url, "PIXCRAWL_MIGRATIONS_DIR": TestStores.migrationsDirectory.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("retention: deleted 5 error record(s)"))
        #expect(try await store.errorSummary(jobID: job.id) == [.format: 3])
    }
}
