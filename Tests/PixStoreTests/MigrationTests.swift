import Foundation
import PixStore
import PixTestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("migrate twice: the second run applies nothing", arguments: Backend.allCases)
    func idempotent(backend: Backend) async throws {
        let store = try await SQLCrawlStore.open(try TestStores.freshLocation(backend))
        defer { store.close() }
        let migrator = try Migrator(database: store.database, directory: TestStores.migrationsDirectory)
        let first = try await migrator.migrate()
        #expect(!first.isEmpty)
        let second = try await migrator.migrate()
        #expect(second.isEmpty)
        let status = try await migrator.status()
        #expect(status.count == first.count)
        #expect(status.allSatisfy { $0.appliedAt != nil })
        #expect(try await migrator.isCurrent())
    }

    @Test("status lists pending migrations before migrate", arguments: Backend.allCases)
    func statusBeforeMigrate(backend: Backend) async throws {
        let store = try await SQLCrawlStore.open(try TestStores.freshLocation(backend))
        defer { store.close() }
        let migrator = try Migrator(database: store.database, directory: TestStores.migrationsDirectory)
        let status = try await migrator.status()
        #expect(!status.isEmpty)
        #expect(status.allSatisfy { $0.appliedAt == nil })
        #expect(try await migrator.isCurrent() == false)
    }

    @Test("an applied migration whose file changed is refused", arguments: Backend.allCases)
    func editedFileRefused(backend: Backend) async throws {
        let store = try await SQLCrawlStore.open(try TestStores.freshLocation(backend))
        defer { store.close() }
        let original = try MigrationFile.load(from: TestStores.migrationsDirectory, dialect: store.dialect)
        try await Migrator(database: store.database, files: original).migrate()
        var edited = original
        edited[0] = try MigrationFile(name: original[0].name, sql: original[0].sql + "\n-- edited\n")
        let error = await #expect(throws: StoreError.self) {
            try await Migrator(database: store.database, files: edited).migrate()
        }
        #expect(error?.isMigrationChecksumMismatch == true)
        await #expect(throws: StoreError.self) { try await Migrator(database: store.database, files: edited).status() }
    }

    @Test("two concurrent migrate runs apply each file once", arguments: Backend.allCases)
    func concurrentMigrate(backend: Backend) async throws {
        let location = try TestStores.freshLocation(backend)
        let left = try await SQLCrawlStore.open(location)
        let right = try await SQLCrawlStore.open(location)
        defer {
            left.close()
            right.close()
        }
        let files = try MigrationFile.load(from: TestStores.migrationsDirectory, dialect: left.dialect)
        async let a = Migrator(database: left.database, files: files).migrate()
        async let b = Migrator(database: right.database, files: files).migrate()
        let (appliedA, appliedB) = try await (a, b)
        #expect(appliedA.count + appliedB.count == files.count)
        let rows = try await left.database.withConnection { connection in
            try connection.query("SELECT COUNT(*) AS n FROM schema_migrations").first?.int("n")
        }
        #expect(rows == files.count)
    }

    @Test("a new migration file is applied on the next run", arguments: Backend.allCases)
    func newFileApplied(backend: Backend) async throws {
        let store = try await SQLCrawlStore.open(try TestStores.freshLocation(backend))
        defer { store.close() }
        let original = try MigrationFile.load(from: TestStores.migrationsDirectory, dialect: store.dialect)
        try await Migrator(database: store.database, files: original).migrate()
        let extra = try MigrationFile(name: "999_test_extra.sql", sql: "CREATE TABLE test_extra (id INTEGER PRIMARY KEY);")
        let applied = try await Migrator(database: store.database, files: original + [extra]).migrate()
        #expect(applied.map(\.name) == ["999_test_extra.sql"])
    }
}
