import Foundation
import PixCore
import PixStore
import PixStoreOps
import PixTestSupport
import Synchronization
import Testing

@Suite("SQLite backup")
struct BackupTests {
    static func backupPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixcrawl-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("backup.sqlite").path
    }

    @Test("a backup taken while another task writes opens as a store with the same rows, consistent")
    func backupWhileWriting() async throws {
        let (store, seed) = try await makeSeededSQLiteStore()
        defer { store.close() }
        let jobID = try #require(seed.jobs[.pending])
        let before = try await AppView.read(store)
        let path = try Self.backupPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }

        let state = WriterState()
        let summary = try await withThrowingTaskGroup(of: SQLiteBackup.Summary?.self) { group in
            group.addTask {
                // The writer: one image per transaction, counters in the same transaction, until told to stop.
                var index = 10_000
                while !state.stop.load(ordering: .relaxed) {
                    index += 1
                    let image = NewImage(
                        originalURL: "http://127.0.0.1/w/\(index).jpg", filename: "\(index).jpg", storageURL: nil,
                        width: 2, height: 2, fileSize: index, format: .png, sha256: String(format: "%064lx", index),
                        perceptualHash: nil, keyword: "writer", source: "demo")
                    _ = try await store.insertImages(jobID: jobID, images: [image])
                    state.written.add(1, ordering: .relaxed)
                }
                return nil
            }
            group.addTask {
                while state.written.load(ordering: .relaxed) < 20 { try await Task.sleep(for: .milliseconds(5)) }
                defer { state.stop.store(true, ordering: .relaxed) }
                let summary = try await SQLiteBackup(location: store.database.location).write(to: path)
                // Let the writer commit a few more rows after the snapshot.
                let after = state.written.load(ordering: .relaxed)
                while state.written.load(ordering: .relaxed) < after + 5 { try await Task.sleep(for: .milliseconds(5)) }
                return summary
            }
            var summary: SQLiteBackup.Summary?
            for try await result in group { if let result { summary = result } }
            return try #require(summary)
        }
        #expect(summary.path == path)
        #expect(summary.pages > 0)
        #expect(summary.bytes > 0)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the backup is one self-contained file")

        let restored = try await SQLCrawlStore.open(.sqlite(path: path))
        defer { restored.close() }
        let live = try await AppView.read(store)
        let copy = try await AppView.read(restored)
        // Everything the writer did not touch is identical.
        #expect(copy.profiles == before.profiles)
        #expect(copy.projects == before.projects)
        #expect(copy.workers == before.workers)
        #expect(copy.errors == before.errors)
        #expect(copy.activity == before.activity)
        let jobIndex = try #require(before.jobs.firstIndex { $0.id == jobID })
        for index in before.jobs.indices where index != jobIndex {
            #expect(copy.jobs[index] == before.jobs[index])
            #expect(copy.images[index] == before.images[index])
            #expect(copy.chunks[index] == before.chunks[index])
        }
        // The written job: a consistent snapshot between "before" and "now".
        let backedUp = copy.images[jobIndex]
        let current = live.images[jobIndex]
        #expect(backedUp.count >= 20)
        #expect(backedUp.count < current.count)
        #expect(Array(current.prefix(backedUp.count)) == backedUp, "the backup holds a prefix of the committed rows")
        let job = try #require(try await restored.job(id: jobID))
        #expect(job.counters.totalImages == backedUp.count, "counters and rows come from one instant")
        #expect(job.counters.validImages == backedUp.count)
        let check = try await restored.database.withConnection {
            try $0.query("PRAGMA integrity_check").first?.string("integrity_check")
        }
        #expect(check == "ok")
    }

    @Test("an existing file is refused unless overwriting is asked for")
    func existingFile() async throws {
        let store = try await TestStores.make(.sqlite)
        defer { store.close() }
        let path = try Self.backupPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: path))
        let backup = try SQLiteBackup(location: store.database.location)
        let error = await #expect(throws: StoreOperationsError.self) { try await backup.write(to: path) }
        #expect(error?.isBackupFailed == true)
        #expect(error?.description.contains("already exists") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a database")
        _ = try await backup.write(to: path, overwrite: true)
        let restored = try await SQLCrawlStore.open(.sqlite(path: path))
        defer { restored.close() }
        #expect(try await Migrator(database: restored.database, directory: TestStores.migrationsDirectory).isCurrent())
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
    }

    @Test("PostgreSQL is refused with a pointer to pg_dump")
    func postgresRefused() throws {
        let error = #expect(throws: StoreOperationsError.self) {
            try SQLiteBackup(location: try DatabaseLocation.parse("postgres://pixcrawl@127.0.0.1:5432/pixcrawl"))
        }
        #expect(error?.isBackupNeedsSQLite == true)
        #expect(error?.description.contains("pg_dump") == true)
        #expect(error?.description.contains("pg_restore") == true)
    }
}

/// Shared between the writer task and the backup task.
final class WriterState: Sendable {
    let stop = Atomic<Bool>(false)
    let written = Atomic<Int>(0)
}
