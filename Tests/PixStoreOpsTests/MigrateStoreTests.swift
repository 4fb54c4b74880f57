import Foundation
import PixCore
import PixStore
import PixStoreOps
import PixTestSupport
import Testing

@Suite("migrate-store: SQLite into PostgreSQL")
struct MigrateStoreTests {
    func options(
        batch: Int = 4, resume: Bool = false, force: Bool = false, stopAfter: Int? = nil
    ) -> StoreCopier.Options {
        StoreCopier.Options(
            batchSize: batch, resume: resume, force: force, migrationsDirectory: TestStores.migrationsDirectory,
            stopAfterBatches: stopAfter)
    }

    @Test("a populated store moves over, verifies, and the app then works on PostgreSQL with fresh ids")
    func fullMigration() async throws {
        let (source, seed) = try await makeSeededSQLiteStore()
        defer { source.close() }
        let target = try TestStores.freshLocation(.postgres)
        let report = try await StoreCopier(from: source.database.location, to: target, options: options()).run()

        #expect(
            report.appliedMigrations == [
                "001_initial.sql", "002_chunk_claim_index.sql", "003_url_lists.sql",
                "004_commit_tokens.sql", "005_host_budgets.sql", "006_billion_image_jobs.sql", "007_crawl_time_resize.sql",
            ])
        #expect(report.verification.passed, "\(report.verification.mismatches)")
        #expect(report.verification.tables.map(\.table) == StoreTables.copyOrder)
        let sourceCounts = try await rowCounts(source.database)
        for table in report.verification.tables {
            #expect(table.sourceRows == sourceCounts[table.table], "\(table.table)")
            #expect(table.targetRows == table.sourceRows, "\(table.table)")
            #expect(table.sourceRows > 0, "the seed fills \(table.table)")
            #expect(table.sourceChecksum == table.targetChecksum, "\(table.table)")
        }
        #expect(report.tables.map(\.copiedThisRun) == report.tables.map(\.sourceRows))

        let postgres = try await SQLCrawlStore.open(target)
        defer { postgres.close() }
        #expect(try await rowCounts(postgres.database) == sourceCounts)

        // The application reads identical records from both stores.
        let before = try await AppView.read(source)
        let after = try await AppView.read(postgres)
        #expect(after.profiles == before.profiles)
        #expect(after.tokens == before.tokens)
        #expect(after.projects == before.projects)
        #expect(after.jobs == before.jobs)
        #expect(after.chunks == before.chunks)
        #expect(after.images == before.images)
        // 007's columns travel too: a job's resize spec and images' derivatives.
        #expect(after.jobs.contains { $0.resize != nil })
        #expect(after.images.joined().contains { $0.derivative?.byteCount == 5_000_000_000 })
        #expect(after.errors == before.errors)
        #expect(after.errorSummaries == before.errorSummaries)
        #expect(after.activity == before.activity)
        #expect(after.workers == before.workers)
        #expect(Set(after.jobs.map(\.status)) == Set(JobStatus.allCases))
        #expect(Set(after.chunks.joined().map(\.status)) == Set(ChunkStatus.allCases))

        // Awkward values arrive exactly, typed.
        let firstImage = seed.imageIDs[0]
        let exact = try await postgres.database.withConnection { connection in
            (
                try connection.query("SELECT keywords::text AS k FROM crawl_jobs WHERE id = $1", .int(seed.jobs[.running]!))
                    .first?.string("k"),
                try connection.query(
                    """
                    SELECT is_duplicate, created_at::text AS created, downloaded_at::text AS downloaded,
                        labels->'a' #>> '{}' AS a, labels->'b'->>6 AS big, jsonb_typeof(labels->'b'->2) AS kind,
                        metadata->>'ctl' AS ctl, perceptual_hash, filename
                    FROM images WHERE id = $1
                    """, .int(firstImage)
                ).first,
                try connection.query(
                    "SELECT id::text AS id, onboarding_completed, updated_at::text AS updated FROM profiles WHERE email = 'UPPER@example.com'"
                ).first,
                try connection.query("SELECT pg_typeof(onboarding_completed)::text AS t FROM profiles LIMIT 1").first?.string("t")
            )
        }
        let keywords = try JSONDecoder().decode([String].self, from: Data(try #require(exact.0).utf8))
        #expect(keywords == Awkward.keywords)
        let image = try #require(exact.1)
        #expect(image.string("is_duplicate") == "t")
        #expect(image.string("created") == "2024-02-29 23:59:59.999+00")
        #expect(image.string("downloaded") == "2024-01-01 00:00:00.123456+00")
        #expect(image.string("a") == "last wins")
        #expect(image.string("big") == "12345678901234567890")
        #expect(image.string("kind") == "boolean")
        #expect(image.string("ctl") == "\u{1}\t")
        #expect(image.int64("perceptual_hash") == -1)
        #expect(image.string("filename") == Awkward.maxFilename)
        let upper = try #require(exact.2)
        #expect(upper.string("id") == "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9")
        #expect(upper.string("onboarding_completed") == "t")
        #expect(upper.string("updated") == "2024-06-01 10:00:00+00")
        #expect(exact.3 == "boolean")

        // New rows get ids above every copied id (and above SQLite's AUTOINCREMENT high-water mark).
        let copiedJobs = try await maxID(postgres.database, "crawl_jobs")
        let copiedChunks = try await maxID(postgres.database, "crawl_chunks")
        let project = try #require(before.projects.first)
        let job = try await postgres.createJob(
            NewCrawlJob(projectID: project.id, name: "after the move", keywords: ["fox"], maxImages: 5, sources: ["demo"]),
            chunks: [NewChunk(keyword: "fox", source: "demo", rangeStart: 0, rangeEnd: 5)])
        #expect(job.id > copiedJobs)
        let chunks = try await postgres.chunks(jobID: job.id)
        #expect(chunks.allSatisfy { $0.id > copiedChunks })
        let claimed = try #require(try await postgres.claimChunk(workerID: "worker-pg", lease: .seconds(60), jobID: job.id))
        #expect(
            try await postgres.insertImages(
                jobID: job.id,
                images: [
                    NewImage(
                        originalURL: "http://127.0.0.1/new.jpg", filename: "new.jpg", storageURL: nil, width: 1, height: 1,
                        fileSize: 1, format: .jpeg, sha256: String(repeating: "f", count: 64), perceptualHash: nil,
                        keyword: "fox",
                        source: "demo")
                ]) == 1)
        #expect(try await postgres.completeChunk(chunkID: claimed.chunk.id, token: claimed.leaseToken, finalProgress: nil))
        try await postgres.recordErrors([NewErrorLog(jobID: job.id, category: .network, message: "new")])
        let newError = try await maxID(postgres.database, "error_logs")
        #expect(newError == seed.deletedErrorID + 1)
        let newProfile = try await postgres.createProfile(NewProfile(email: "after@example.com"))
        let token = try await postgres.createAPIToken(
            profileID: newProfile.id, name: "t", tokenHash: String(repeating: "9", count: 64), prefix: "pxc_9")
        #expect(token.id > before.tokens.joined().map(\.id).max() ?? 0)
        let sequence = try #require(report.sequences.first { $0.table == "error_logs" && $0.column == "id" })
        #expect(sequence.lastValue == seed.deletedErrorID)
    }

    @Test("killed halfway, then --resume: the same checksums as one clean run")
    func resumeAfterInterruption() async throws {
        let (source, _) = try await makeSeededSQLiteStore()
        defer { source.close() }
        let clean = try TestStores.freshLocation(.postgres)
        let cleanReport = try await StoreCopier(from: source.database.location, to: clean, options: options(batch: 3)).run()
        #expect(cleanReport.verification.passed)

        let interrupted = try TestStores.freshLocation(.postgres)
        for stop in [5, 9] {
            let error = await #expect(throws: StoreOperationsError.self) {
                try await StoreCopier(
                    from: source.database.location, to: interrupted,
                    options: options(batch: 3, resume: stop != 5, stopAfter: stop)
                ).run()
            }
            #expect(error?.isInterrupted == true, "\(String(describing: error))")
        }
        // A half-copied target is refused without --resume, naming the way out.
        let refused = await #expect(throws: StoreOperationsError.self) {
            try await StoreCopier(from: source.database.location, to: interrupted, options: options(batch: 3)).run()
        }
        #expect(refused?.isTargetNotEmpty == true)
        #expect(refused?.description.contains("--resume") == true)

        let partial = try await SQLDatabase(location: interrupted)
        let (partialRows, recorded) = try await partial.withConnection { connection in
            (
                try rowCountsSync(connection).values.reduce(0, +),
                try connection.query("SELECT SUM(rows_copied) AS n FROM store_migration_progress").first?.int("n") ?? -1
            )
        }
        partial.close()
        let total = cleanReport.tables.reduce(0) { $0 + $1.sourceRows }
        #expect(partialRows == recorded, "every committed batch is recorded in the same transaction")
        #expect(partialRows > 0 && partialRows < total)

        let resumed = try await StoreCopier(
            from: source.database.location, to: interrupted, options: options(batch: 3, resume: true)
        ).run()
        #expect(resumed.verification.passed, "\(resumed.verification.mismatches)")
        #expect(resumed.verification == cleanReport.verification)
        #expect(resumed.tables.reduce(0) { $0 + $1.copiedThisRun } == total - partialRows)
        // Same sequence positions (their names differ only by schema).
        #expect(
            resumed.sequences.map { "\($0.table).\($0.column)=\($0.lastValue)" }
                == cleanReport.sequences.map { "\($0.table).\($0.column)=\($0.lastValue)" })

        let a = try await SQLCrawlStore.open(clean)
        let b = try await SQLCrawlStore.open(interrupted)
        defer {
            a.close()
            b.close()
        }
        #expect(try await AppView.read(a) == AppView.read(b))

        // Resuming a finished copy copies nothing and still verifies.
        let again = try await StoreCopier(
            from: source.database.location, to: interrupted, options: options(batch: 3, resume: true)
        ).run()
        #expect(again.verification.passed)
        #expect(again.tables.allSatisfy { $0.copiedThisRun == 0 })
    }

    @Test("a target holding rows migrate-store did not write is refused, even with --resume")
    func foreignRowsRefused() async throws {
        let (source, _) = try await makeSeededSQLiteStore()
        defer { source.close() }
        let target = try await TestStores.make(.postgres)
        defer { target.close() }
        _ = try await target.createProfile(NewProfile(email: "already-here@example.com"))
        for resume in [false, true] {
            let error = await #expect(throws: StoreOperationsError.self) {
                try await StoreCopier(
                    from: source.database.location, to: target.database.location, options: options(resume: resume)
                ).run()
            }
            #expect(error?.isTargetNotEmpty == true)
            #expect(error?.subject == "profiles")
        }
        #expect(try await target.listProfiles().map(\.email) == ["already-here@example.com"])
    }

    @Test("workers with unexpired leases on the source stop the copy unless --force")
    func liveLeasesRefused() async throws {
        let source = try await TestStores.make(.sqlite)
        defer { source.close() }
        let profile = try await source.createProfile(NewProfile(email: "lease@example.com"))
        let project = try await source.createProject(NewProject(name: "p", userID: profile.id))
        let job = try await source.createJob(
            NewCrawlJob(projectID: project.id, name: "j", keywords: ["k"], maxImages: 10, sources: ["demo"]),
            chunks: [NewChunk(keyword: "k", source: "demo", rangeStart: 0, rangeEnd: 10)])
        _ = try #require(try await source.claimChunk(workerID: "busy-worker", lease: .seconds(600), jobID: job.id))

        let target = try TestStores.freshLocation(.postgres)
        let error = await #expect(throws: StoreOperationsError.self) {
            try await StoreCopier(from: source.database.location, to: target, options: options()).run()
        }
        #expect(error?.isSourceActive == true)
        #expect(error?.description.contains("busy-worker") == true)
        #expect(error?.description.contains("--force") == true)

        let forced = try await StoreCopier(from: source.database.location, to: target, options: options(force: true)).run()
        #expect(forced.verification.passed)
        #expect(forced.verification["crawl_chunks"]?.targetRows == 1)
    }

    @Test("a table the copy order does not know stops the copy before anything is written")
    func unknownTable() async throws {
        let source = try await TestStores.make(.sqlite)
        defer { source.close() }
        try await source.database.withConnection { connection in
            try connection.executeScript("CREATE TABLE mystery_cache (id INTEGER PRIMARY KEY, value TEXT)")
        }
        let target = try TestStores.freshLocation(.postgres)
        let error = await #expect(throws: StoreOperationsError.self) {
            try await StoreCopier(from: source.database.location, to: target, options: options()).run()
        }
        #expect(error?.isUnknownTable == true)
        #expect(error?.subject == "mystery_cache")
        #expect(error?.description.contains("StoreTables.copyOrder") == true)
    }

    @Test("a source behind the migrations is refused with the command that fixes it")
    func sourceNotMigrated() async throws {
        let location = try TestStores.freshLocation(.sqlite)
        let source = try await SQLDatabase(location: location)
        let files = try MigrationFile.load(from: TestStores.migrationsDirectory, dialect: .sqlite)
        try await Migrator(database: source, files: files).migrate()
        try await source.withConnection { try $0.query("DELETE FROM schema_migrations") }
        source.close()
        let error = await #expect(throws: StoreOperationsError.self) {
            try await StoreCopier(from: location, to: try TestStores.freshLocation(.postgres), options: options()).run()
        }
        #expect(error?.isSourceNotMigrated == true)
        #expect(error?.description.contains("pixcrawl migrate") == true)
    }

    @Test("verification names the table and the first differing id of a changed, a missing and an extra row")
    func verificationFindsDifferences() async throws {
        let (source, seed) = try await makeSeededSQLiteStore()
        defer { source.close() }
        let target = try TestStores.freshLocation(.postgres)
        let copier = try StoreCopier(from: source.database.location, to: target, options: options(batch: 50))
        #expect(try await copier.run().verification.passed)

        let postgres = try await SQLDatabase(location: target)
        defer { postgres.close() }
        let changed = seed.imageIDs[2]
        let missingError = try await postgres.withConnection { connection -> Int64 in
            try connection.query("UPDATE images SET title = title || ' ' WHERE id = $1", .int(changed))
            try connection.query("UPDATE activity_logs SET metadata = '{\"name\": \"x\"}' WHERE user_id IS NOT NULL")
            let first = try connection.query("SELECT MIN(id) AS m FROM error_logs").first?.int64("m") ?? 0
            try connection.query("DELETE FROM error_logs WHERE id = $1", .int(first))
            try connection.query(
                "INSERT INTO workers (id, hostname, pid, version) VALUES ('worker-0', 'extra', 1, 'x')")
            return first
        }
        let report = try await copier.verify()
        #expect(!report.passed)
        #expect(Set(report.mismatches.map(\.table)) == ["images", "activity_logs", "error_logs", "workers"])
        #expect(report["images"]?.firstDifferingKey == "\(changed)")
        #expect(report["images"]?.firstDifferingColumn == "title")
        #expect(report["images"]?.sourceRows == report["images"]?.targetRows)
        #expect(report["activity_logs"]?.firstDifferingColumn == "metadata")
        #expect(report["error_logs"]?.firstDifferingKey == "\(missingError)")
        #expect(report["error_logs"]?.targetRows == (report["error_logs"]?.sourceRows ?? 0) - 1)
        #expect(report["workers"]?.firstDifferingKey == "worker-0")
        #expect(report["profiles"]?.matches == true)
    }

    @Test("a PostgreSQL source or an SQLite target is refused")
    func wrongDirection() async throws {
        let sqlite = try TestStores.freshLocation(.sqlite)
        let postgres = try TestStores.freshLocation(.postgres)
        #expect(throws: StoreOperationsError.self) { try StoreCopier(from: postgres, to: postgres) }
        #expect(throws: StoreOperationsError.self) { try StoreCopier(from: sqlite, to: sqlite) }
        let missing = #expect(throws: StoreOperationsError.self) { try StoreCopier(from: sqlite, to: postgres) }
        #expect(missing?.description.contains("no SQLite store") == true)
    }
}
