import Crypto
import Foundation
import PixBlob
import PixCoordinate
import PixCore
import PixStore
import PixTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Storage consistency check (fsck)")
struct StorageCheckTests {
    /// A crawled job of 6 images, one of whose files is then deleted, plus two orphan files: one old, one fresh.
    struct Damaged {
        let harness: CoordinatorHarness
        let jobID: Int64
        let blobs: LocalBlobStore
        let lostImage: ImageRecord
        let oldOrphan: BlobKey
        let freshOrphan: BlobKey
    }

    static func orphan(_ seed: String, blobs: LocalBlobStore, age: TimeInterval) throws -> BlobKey {
        let bytes = Array("not referenced by any row \(seed)".utf8)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let key = try BlobKey(sha256: digest, format: .jpeg)
        _ = try blobs.put(bytes, for: key)
        if age > 0 {
            let when = Date().addingTimeInterval(-age).timeIntervalSince1970
            var times = [
                timespec(tv_sec: Int(when), tv_nsec: 0), timespec(tv_sec: Int(when), tv_nsec: 0),
            ]
            #expect(utimensat(AT_FDCWD, blobs.fileURL(for: key).path, &times, 0) == 0)
        }
        return key
    }

    /// Runs `body` with a damaged store (``damaged(_:harness:)``) and closes its harness however `body` ends.
    static func withDamaged(_ backend: Backend, _ body: (Damaged) async throws -> Void) async throws {
        try await CoordinatorHarness.with(backend) { harness in try await body(try await damaged(harness)) }
    }

    static func damaged(_ harness: CoordinatorHarness) async throws -> Damaged {
        let spec = try harness.sources.addURLList((0..<6).map { harness.image($0) })
        let job = try await harness.submit(keywords: ["fox"], maxImages: 6, sources: [spec], chunkSize: 6)
        try await harness.run([harness.worker("fsck", jobID: job.id)])
        let images = try await harness.store.images(jobID: job.id, validOnly: true, afterID: 0, limit: 10)
        #expect(images.count == 6)
        let blobs = LocalBlobStore(root: harness.blobRoot)
        let lost = try #require(images.last)
        #expect(try blobs.delete(BlobKey(sha256: lost.sha256, format: lost.format)))
        return Damaged(
            harness: harness, jobID: job.id, blobs: blobs, lostImage: lost,
            oldOrphan: try orphan("old", blobs: blobs, age: 7_200), freshOrphan: try orphan("fresh", blobs: blobs, age: 0))
    }

    @Test("a check reports orphans and rows without files and changes nothing", arguments: Backend.allCases)
    func report(backend: Backend) async throws {
        try await Self.withDamaged(backend) { damaged in
            let store = damaged.harness.store
            let report = try await StorageCheck(store: store, blobs: damaged.blobs, grace: .seconds(3_600)).run(repair: false)
            #expect(report.blobsScanned == 7)
            #expect(report.rowsScanned == 6)
            #expect(report.orphanCount == 2)
            #expect(report.orphansInGrace == 1)
            #expect(Set(report.orphanExamples.map(\.key)) == [damaged.oldOrphan, damaged.freshOrphan])
            #expect(report.missingCount == 1)
            #expect(report.missingExamples.map(\.imageID) == [damaged.lostImage.id])
            #expect(report.orphansDeleted == 0 && report.rowsMarked == 0)
            #expect(!report.isClean)
            #expect(try damaged.blobs.exists(damaged.oldOrphan))
            #expect(try await store.job(id: damaged.jobID)?.counters.validImages == 6)
        }
    }

    @Test("repair deletes orphans past the grace period and marks rows without files", arguments: Backend.allCases)
    func repair(backend: Backend) async throws {
        try await Self.withDamaged(backend) { damaged in
            let store = damaged.harness.store
            let check = StorageCheck(store: store, blobs: damaged.blobs, grace: .seconds(3_600))
            let repaired = try await check.run(repair: true)
            #expect(repaired.orphansDeleted == 1)
            #expect(repaired.rowsMarked == 1)
            #expect(!(try damaged.blobs.exists(damaged.oldOrphan)), "the old orphan is deleted")
            #expect(try damaged.blobs.exists(damaged.freshOrphan), "an orphan younger than the grace period is kept")
            let lost = try #require(try await store.image(id: damaged.lostImage.id))
            #expect(!lost.isValid)
            #expect(lost.rejectionReason == SQLCrawlStore.missingBlobReason)
            #expect(try await store.job(id: damaged.jobID)?.counters.validImages == 5)
            try await expectInvariant(store, jobID: damaged.jobID)

            let again = try await check.run(repair: true)
            #expect(again.missingCount == 0)
            #expect(again.previouslyMarked == 1)
            #expect(again.orphanCount == 1 && again.orphansInGrace == 1 && again.orphansDeleted == 0)
            #expect(try await store.job(id: damaged.jobID)?.counters.validImages == 5, "marking happens once")
        }
    }

    @Test("pixcrawl fsck: exit 3 while a row lacks its file, --repair marks it, orphans alone exit 0")
    func command() async throws {
        try await Self.withDamaged(.sqlite) { damaged in
            let store = WorkerProcess.storeArguments(damaged.harness.store.database.location)
            let storage = ["--storage", damaged.harness.blobRoot.path]
            let check = try WorkerProcess(["fsck"] + store + storage)
            #expect(try await check.wait() == 3, "\(check.output)")
            #expect(check.output.contains("orphan files    2"), "\(check.output)")
            #expect(check.output.contains("missing files   1"), "\(check.output)")
            #expect(check.output.contains("missing image \(damaged.lostImage.id) of job \(damaged.jobID)"))

            let repair = try WorkerProcess(["fsck", "--repair", "--grace", "30m"] + store + storage)
            #expect(try await repair.wait() == 0, "\(repair.output)")
            #expect(repair.output.contains("1 orphan(s) deleted, 1 row(s) marked"), "\(repair.output)")

            // Left: the orphan younger than the grace period, which is reclaimable space, not an error.
            let after = try WorkerProcess(["fsck", "--json"] + store + storage)
            #expect(try await after.wait() == 0, "\(after.output)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(after.output.utf8)) as? [String: Any])
            #expect(json["missing"] as? Int == 0)
            #expect(json["orphans"] as? Int == 1)
            #expect(json["previously_marked"] as? Int == 1)
            #expect(try damaged.blobs.exists(damaged.freshOrphan))

            let bad = try WorkerProcess(["fsck", "--grace", "soon"] + store + storage)
            #expect(try await bad.wait() != 0)
            #expect(bad.output.contains("--grace"), "\(bad.output)")
        }
    }
}
