import Foundation
import PixCore
import PixExport
import PixStore
import PixTestSupport
import Testing

@Suite("Export store")
struct ExportStoreTests {
    private func queue(_ fixture: ExportJobFixture, format: String = "zip") async throws -> ExportJobRecord {
        try await fixture.store.createExport(
            NewExportJob(crawlJobID: fixture.job.id, format: format, optionsJSON: #"{"seed":5}"#))
    }

    @Test(
        "an export is claimed by one process at a time; progress and completion need the lease token",
        arguments: Backend.allCases)
    func claimAndLease(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let store = fixture.store
        let queued = try await queue(fixture)
        #expect(queued.status == .pending)
        #expect(queued.optionsJSON.contains("seed"))

        let claimed = try #require(try await store.claimExport(workerID: "a", lease: .seconds(60), exportID: nil))
        #expect(claimed.export.id == queued.id)
        #expect(claimed.export.status == .running)
        #expect(claimed.export.attempts == 1)
        #expect(claimed.export.leaseOwner == "a")
        #expect(try await store.claimExport(workerID: "b", lease: .seconds(60), exportID: nil) == nil)
        #expect(try await store.claimExport(workerID: "b", lease: .seconds(60), exportID: queued.id) == nil)

        let progress = ExportProgress(totalImages: 10, exportedImages: 4, percent: 40)
        #expect(
            try await store.updateExportProgress(exportID: queued.id, token: "wrong", lease: .seconds(60), progress: progress)
                == false)
        #expect(
            try await store.updateExportProgress(
                exportID: queued.id, token: claimed.leaseToken, lease: .seconds(60), progress: progress))
        let running = try #require(try await store.export(id: queued.id))
        #expect((running.progress, running.exportedImages, running.totalImages) == (40, 4, 10))

        let archive = CompletedArchive(
            filePath: "exports/job-1/none.zip", fileSize: 10, sha256: String(repeating: "a", count: 64), exportedImages: 10,
            totalImages: 10)
        await #expect(throws: StoreError.self) {
            try await store.completeExport(exportID: queued.id, token: "wrong", archive: archive, download: nil)
        }
        let completed = try await store.completeExport(
            exportID: queued.id, token: claimed.leaseToken, archive: archive,
            download: NewDownloadRecord(tokenHash: DownloadToken.generate().hash, lifetime: .seconds(3600), downloadURL: "/d"))
        #expect(completed.status == .completed)
        #expect(completed.progress == 100)
        #expect(completed.sha256 == archive.sha256)
        #expect(completed.downloadURL == "/d")
        #expect(completed.leaseOwner == nil)
        let expiresAt = try #require(completed.expiresAt)
        #expect(expiresAt > Date().addingTimeInterval(3000) && expiresAt < Date().addingTimeInterval(4000))
        #expect(try await store.failExport(exportID: queued.id, token: claimed.leaseToken, message: "late") == false)
    }

    @Test(
        "an expired lease is taken over, the old holder is locked out, and the last attempt fails",
        arguments: Backend.allCases)
    func takeover(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let store = fixture.store
        let queued = try await queue(fixture)
        let first = try #require(try await store.claimExport(workerID: "a", lease: .seconds(-1), exportID: nil))
        let second = try #require(try await store.claimExport(workerID: "b", lease: .seconds(-1), exportID: queued.id))
        #expect(second.export.attempts == 2)
        #expect(second.leaseToken != first.leaseToken)
        let progress = ExportProgress(totalImages: 1, exportedImages: 0, percent: 0)
        #expect(
            try await store.updateExportProgress(
                exportID: queued.id, token: first.leaseToken, lease: .seconds(60), progress: progress) == false)
        let third = try #require(try await store.claimExport(workerID: "c", lease: .seconds(-1), exportID: nil))
        #expect(third.export.attempts == 3)
        #expect(try await store.claimExport(workerID: "d", lease: .seconds(60), exportID: nil) == nil)
        let failed = try #require(try await store.export(id: queued.id))
        #expect(failed.status == .failed)
        #expect(failed.errorMessage?.contains("lease expired") == true)
    }

    @Test("failing and releasing need the lease; a released export is claimable again", arguments: Backend.allCases)
    func failAndRelease(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let store = fixture.store
        let first = try await queue(fixture)
        let second = try await queue(fixture, format: "webdataset")
        let claim = try #require(try await store.claimExport(workerID: "a", lease: .seconds(60), exportID: first.id))
        #expect(try await store.releaseExport(exportID: first.id, token: claim.leaseToken))
        #expect(try await store.export(id: first.id)?.status == .pending)
        let again = try #require(try await store.claimExport(workerID: "b", lease: .seconds(60), exportID: nil))
        #expect(again.export.id == first.id, "oldest first")
        #expect(try await store.failExport(exportID: first.id, token: "wrong", message: "x") == false)
        #expect(try await store.failExport(exportID: first.id, token: again.leaseToken, message: "disk full"))
        let failed = try #require(try await store.export(id: first.id))
        #expect(failed.status == .failed)
        #expect(failed.errorMessage == "disk full")
        #expect(try await store.exports(crawlJobID: fixture.job.id).map(\.id) == [second.id, first.id])

        await #expect(throws: StoreError.self) {
            try await store.createDownloadRecord(
                exportID: first.id, NewDownloadRecord(tokenHash: DownloadToken.generate().hash, lifetime: .seconds(60)))
        }
        await #expect(throws: StoreError.self) {
            try await store.createExport(NewExportJob(crawlJobID: fixture.job.id, format: "rar"))
        }
        await #expect(throws: StoreError.self) {
            try await store.createExport(NewExportJob(crawlJobID: fixture.job.id, format: "zip", optionsJSON: "[1]"))
        }
    }

    @Test("a download record refuses a token hash that is not 64 lowercase hex digits")
    func tokenHashShape() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        let token = DownloadToken.generate()
        await #expect(throws: StoreError.self) {
            try await fixture.store.createDownloadRecord(
                exportID: 1, NewDownloadRecord(tokenHash: token.value, lifetime: .seconds(60)))
        }
    }
}
