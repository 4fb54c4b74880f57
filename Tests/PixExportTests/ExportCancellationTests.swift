import Dispatch
import Foundation
import PixBlob
import PixCore
import PixExport
import PixStore
import PixTestSupport
import Synchronization
import Testing

/// A blob store that is not a ``LocalBlobStore`` (so the runner reads blobs as bytes) and can hold the first read
/// until the test lets it go.
private final class GatedBlobStore: BlobStore {
    let inner: LocalBlobStore
    let gated: Bool
    let entered = DispatchSemaphore(value: 0)
    let proceed = DispatchSemaphore(value: 0)
    private let reads = Mutex(0)

    init(inner: LocalBlobStore, gated: Bool) {
        self.inner = inner
        self.gated = gated
    }

    var readCount: Int { reads.withLock { $0 } }

    func get(_ key: BlobKey) throws -> [UInt8] {
        let first = reads.withLock { count in
            count += 1
            return count == 1
        }
        if gated && first {
            entered.signal()
            proceed.wait()
        }
        return try inner.get(key)
    }

    func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob { try inner.put(bytes, for: key) }
    func put(contentsOf file: URL, for key: BlobKey, consuming: Bool) throws -> StoredBlob {
        try inner.put(contentsOf: file, for: key, consuming: consuming)
    }
    func exists(_ key: BlobKey) throws -> Bool { try inner.exists(key) }
    func delete(_ key: BlobKey) throws -> Bool { try inner.delete(key) }
    func forEachKey(_ body: (BlobKey) -> Void) throws { try inner.forEachKey(body) }
    func storageURL(for key: BlobKey) -> String { inner.storageURL(for: key) }
}

@Suite("Export cancellation and non-local blob stores")
struct ExportCancellationTests {
    @Test("blobs that are not local files are streamed as bytes", arguments: [Backend.sqlite])
    func bytesFromBlobStore(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        let images = try await fixture.addImages((1...4).map { ImageSpec(seed: UInt64($0)) })
        let blobs = GatedBlobStore(inner: fixture.blobs, gated: false)
        let runner = fixture.runner(blobs: blobs)
        let queued = try await runner.enqueue(crawlJobID: fixture.job.id, format: .tar, options: .init())
        let outcome = try await runner.run(exportID: queued.id)
        let listing = try ArchiveReader.read(outcome.archive)
        #expect(blobs.readCount == images.count)
        #expect(Set(listing.entries.map(\.sha256)).isSuperset(of: Set(images.map(\.sha256))))
    }

    @Test("a cancelled export is handed back to the queue and leaves no files", arguments: Backend.allCases)
    func cancelledExport(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages((1...6).map { ImageSpec(seed: UInt64($0)) })
        let blobs = GatedBlobStore(inner: fixture.blobs, gated: true)
        let runner = fixture.runner(blobs: blobs)
        let queued = try await runner.enqueue(crawlJobID: fixture.job.id, format: .zip, options: .init())
        let task = Task { try await runner.run(exportID: queued.id) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                blobs.entered.wait()
                continuation.resume()
            }
        }
        task.cancel()
        blobs.proceed.signal()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(blobs.readCount == 1, "no image is read after cancellation")
        let stored = try #require(try await fixture.store.export(id: queued.id))
        #expect(stored.status == .pending)
        #expect(stored.attempts == 0)
        #expect(fixture.exportsContents().filter { !$0.hasSuffix("job-\(fixture.job.id)") }.isEmpty)
        let rerun = try await runner.run(exportID: queued.id)
        #expect(rerun.exportedImages == 6)
    }
}
