import Foundation
import PixCore
import PixStore
import PixStoreOps
import PixTestSupport
import Testing

/// The commands end to end: the built `pixcrawl` binary against real stores.
@Suite("pixcrawl migrate-store, stats and backup")
struct OperationsCommandTests {
    static func postgresURL(schema: String) throws -> String {
        let base = try TestPostgres.baseURL()
        return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    static func freshSchema() -> String {
        "ops_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    static var migrations: String { TestStores.migrationsDirectory.path }

    @Test("migrate-store: interrupted, refused without --resume, resumed, verified; a changed row fails --verify-only")
    func migrateStoreCommand() async throws {
        let (source, seed) = try await makeSeededSQLiteStore()
        defer { source.close() }
        guard case .sqlite(let path) = source.database.location else { return }
        let schema = Self.freshSchema()
        let target = try Self.postgresURL(schema: schema)
        let common = [
            "migrate-store", "--from", "sqlite:\(path)", "--to", target, "--migrations-dir", Self.migrations, "--batch", "3",
        ]

        let stopped = try TestProcess.pixcrawl(common + ["--stop-after-batches", "5"])
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("stopped after 5 committed batch(es); re-run with --resume"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("profiles: 4 rows"))

        let refused = try TestProcess.pixcrawl(common)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--resume"))
        #expect(!refused.stderr.contains("postgres@"), "no connection string in errors")

        let resumed = try TestProcess.pixcrawl(common + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after"))
        #expect(resumed.stderr.contains("rows/s"))
        #expect(resumed.stderr.contains("verifying error_logs"))
        #expect(resumed.stdout.contains("verified: \(StoreTables.copyOrder.count) tables"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("sequences advanced:"))
        for table in StoreTables.copyOrder {
            let line = resumed.stdout.split(separator: "\n").first { $0.hasPrefix(table + " ") }
            #expect(line?.hasSuffix("  ok") == true, "\(table): \(String(describing: line))")
        }

        let postgres = try await SQLDatabase(location: try DatabaseLocation.parse(target))
        defer { postgres.close() }
        let changed = seed.imageIDs[1]
        try await postgres.withConnection { try $0.query("UPDATE images SET width = width + 1 WHERE id = $1", .int(changed)) }
        let mismatch = try TestProcess.pixcrawl(
            ["migrate-store", "--verify-only", "--from", path, "--to", target, "--migrations-dir", Self.migrations])
        #expect(mismatch.status == 1)
        #expect(mismatch.stdout.contains("MISMATCH at id \(changed) (column width)"), "\(mismatch.stdout)")
        #expect(mismatch.stderr.contains("verification failed for images (first differing id \(changed))"), "\(mismatch.stderr)")
    }

    @Test("migrate-store refuses live leases in one line that names --force")
    func migrateStoreLiveLeases() async throws {
        let source = try await TestStores.make(.sqlite)
        defer { source.close() }
        let profile = try await source.createProfile(NewProfile(email: "cli-lease@example.com"))
        let project = try await source.createProject(NewProject(name: "p", userID: profile.id))
        let job = try await source.createJob(
            NewCrawlJob(projectID: project.id, name: "j", keywords: ["k"], maxImages: 1, sources: ["demo"]),
            chunks: [NewChunk(keyword: "k", source: "demo", rangeStart: 0, rangeEnd: 1)])
        _ = try #require(try await source.claimChunk(workerID: "cli-worker", lease: .seconds(600), jobID: job.id))
        guard case .sqlite(let path) = source.database.location else { return }
        let output = try TestProcess.pixcrawl(
            [
                "migrate-store", "--from", path, "--to", try Self.postgresURL(schema: Self.freshSchema()),
                "--migrations-dir", Self.migrations,
            ])
        #expect(output.status == 1)
        #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
        #expect(output.stderr.contains("cli-worker") && output.stderr.contains("--force"))
    }

    @Test("stats --json gives identical output on both stores for the known dataset")
    func statsCommand() async throws {
        let sqlite = try await TestStores.make(.sqlite)
        let schema = Self.freshSchema()
        let postgresURL = try Self.postgresURL(schema: schema)
        let postgres = try await SQLCrawlStore.open(try DatabaseLocation.parse(postgresURL))
        defer {
            sqlite.close()
            postgres.close()
        }
        try await Migrator(database: postgres.database, directory: TestStores.migrationsDirectory).migrate()
        try await StatsTests.seed(sqlite)
        try await StatsTests.seed(postgres)
        guard case .sqlite(let path) = sqlite.database.location else { return }
        var outputs: [String] = []
        for url in ["sqlite:\(path)", postgresURL] {
            let output = try TestProcess.pixcrawl(
                [
                    "stats", "--since", "24h", "--until", "2026-01-15T12:00:00Z", "--json", "--database-url", url,
                    "--migrations-dir", Self.migrations,
                ])
            #expect(output.status == 0, "\(output.stderr)")
            outputs.append(output.stdout)
        }
        #expect(outputs[0] == outputs[1])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let report = try decoder.decode(StatsReport.self, from: Data(outputs[0].utf8))
        #expect(report.imagesAccepted == 7)
        #expect(report.errorsByCategory.first == StatsReport.CategoryCount(category: "NETWORK", count: 3, share: 0.375))
        #expect(report.topFailingHosts.first == StatsReport.HostCount(host: "a.example.com", errors: 3))

        let text = try TestProcess.pixcrawl(
            [
                "stats", "--since", "24h", "--until", "2026-01-15T12:00:00Z", "--database-url", postgresURL,
                "--migrations-dir", Self.migrations,
            ])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("images accepted: 7"))
        #expect(text.stdout.contains("NETWORK"))
        #expect(text.stdout.contains("#1 running  running 1h 2m"), "\(text.stdout)")

        let bad = try TestProcess.pixcrawl(["stats", "--since", "yesterday", "--database-url", "sqlite:\(path)"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("not a time span"))
    }

    @Test("backup writes a restorable file, refuses to overwrite, and points PostgreSQL users to pg_dump")
    func backupCommand() async throws {
        let (store, _) = try await makeSeededSQLiteStore()
        defer { store.close() }
        guard case .sqlite(let path) = store.database.location else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-cli-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("store.backup").path

        let first = try TestProcess.pixcrawl(["backup", "--to", file, "--database-url", "sqlite:\(path)"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("backed up sqlite:\(path) to \(file)"))
        let restored = try await SQLCrawlStore.open(.sqlite(path: file))
        defer { restored.close() }
        #expect(try await AppView.read(restored) == AppView.read(store))

        let again = try TestProcess.pixcrawl(["backup", "--to", file, "--database-url", "sqlite:\(path)"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
        let forced = try TestProcess.pixcrawl(["backup", "--to", file, "--force", "--database-url", "sqlite:\(path)"])
        #expect(forced.status == 0, "\(forced.stderr)")

        let postgres = try TestProcess.pixcrawl(
            ["backup", "--to", file, "--database-url", try Self.postgresURL(schema: Self.freshSchema())])
        #expect(postgres.status == 1)
        #expect(postgres.stderr.contains("pg_dump"))

        let help = try TestProcess.pixcrawl(["--help"])
        #expect(help.stdout.contains("  backup "))
    }
}
