import Crypto
import Foundation
import PixBlob
import PixCore
import PixS3
import PixTestSupport
import Testing

/// The blob stores the contract runs on: a local folder and a bucket on a real S3-compatible server.
enum BlobBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local, s3

    var testDescription: String { rawValue }
}

/// A fresh, empty blob store of one backend, with its digest-verifying twin over the same storage.
struct BlobStoreUnderTest {
    let store: any BlobStore
    let verifying: any BlobStore
    private let folder: URL?

    init(_ backend: BlobBackend) throws {
        switch backend {
        case .local:
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("pixblob-\(UUID().uuidString)")
            store = LocalBlobStore(root: root)
            verifying = LocalBlobStore(root: root, verifiesDigest: true)
            folder = root
        case .s3:
            let client = try S3TestBucket("blobs", prefix: "crawls/run 1/").client()
            store = S3BlobStore(client: client)
            verifying = S3BlobStore(client: client, verifiesDigest: true)
            folder = nil
        }
    }

    /// Removes a local store's folder (a bucket is one per test and left to the server).
    func close() {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// The content address of `bytes`.
    static func key(_ bytes: [UInt8], _ format: ImageFormat = .jpeg) throws -> BlobKey {
        let digest = SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        return try BlobKey(sha256: digest, format: format)
    }
}

/// The ``BlobStore`` contract, the same for every backend.
@Suite struct BlobStoreContractTests {
    @Test(arguments: BlobBackend.allCases)
    func storesContentAddressedBlobs(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let bytes = S3TestBucket.pattern(30_000, seed: 5)
        let key = try BlobStoreUnderTest.key(bytes)
        let stored = try under.store.put(bytes, for: key)
        #expect(stored.created && stored.byteCount == bytes.count && stored.key == key)
        #expect(stored.storageURL == under.store.storageURL(for: key))
        #expect(stored.storageURL.hasSuffix(key.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? key.path))
        #expect(try under.store.get(key) == bytes)
        #expect(try under.store.exists(key))
        #expect(try under.store.listKeys() == [key])
    }

    @Test("blobs stored to be flushed later read back at once, and one flush covers them all", arguments: BlobBackend.allCases)
    func storesDeferredBlobs(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        try under.store.flushDeferred()  // nothing stored yet: nothing to do
        let contents = (0..<3).map { S3TestBucket.pattern(5_000 + $0, seed: UInt64(10 + $0)) }
        for bytes in contents {
            let stored = try under.store.putDeferred(bytes, for: try BlobStoreUnderTest.key(bytes))
            #expect(stored.created && stored.byteCount == bytes.count)
            #expect(try under.store.get(stored.key) == bytes)
        }
        try under.store.flushDeferred()
        #expect(try Set(under.store.listKeys()) == Set(contents.map { try BlobStoreUnderTest.key($0) }))
        #expect(try !under.store.putDeferred(contents[0], for: try BlobStoreUnderTest.key(contents[0])).created)
    }

    @Test(arguments: BlobBackend.allCases)
    func aDedupHitMakesTheBlobYoungAgain(_ backend: BlobBackend) async throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let bytes = Array("an orphan about to be referenced again".utf8)
        let key = try BlobStoreUnderTest.key(bytes)
        func modified() throws -> Date? {
            var found: Date?
            try under.store.forEachBlob { if $0.key == key { found = $0.modified } }
            return found
        }
        _ = try under.store.put(bytes, for: key)
        let first = try #require(try modified())
        // S3's LastModified counts whole seconds: wait out what remains of the second after the first store.
        let remaining = first.addingTimeInterval(1).timeIntervalSinceNow
        if remaining > 0 { try await Task.sleep(for: .seconds(remaining) + .milliseconds(10)) }
        #expect(try !under.store.put(bytes, for: key).created)
        let second = try #require(try modified())
        #expect(second > first, "fsck --repair ages orphans by this time: the reused blob must be young again")
    }

    @Test(arguments: BlobBackend.allCases)
    func storingTwiceIsANoOp(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let bytes = Array("first content".utf8)
        let key = try BlobStoreUnderTest.key(bytes, .png)
        #expect(try under.store.put(bytes, for: key).created)
        let again = try under.store.put(bytes, for: key)
        #expect(!again.created && again.byteCount == bytes.count)
        #expect(try under.store.listKeys() == [key])
    }

    @Test(arguments: BlobBackend.allCases, [false, true])
    func storesFiles(_ backend: BlobBackend, consuming: Bool) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let spool = scratch.appendingPathComponent("download.part")
        let bytes = S3TestBucket.pattern(300_000, seed: 9)
        try Data(bytes).write(to: spool)
        let key = try BlobStoreUnderTest.key(bytes, .png)
        let stored = try under.store.put(contentsOf: spool, for: key, consuming: consuming)
        #expect(stored.created && stored.byteCount == bytes.count)
        #expect(try under.store.get(key) == bytes)
        #expect(FileManager.default.fileExists(atPath: spool.path) == !consuming)
        // Idempotent for files too; a consumed spool file is removed even when not needed.
        try Data(bytes).write(to: spool)
        #expect(try !under.store.put(contentsOf: spool, for: key, consuming: consuming).created)
        #expect(FileManager.default.fileExists(atPath: spool.path) == !consuming)
    }

    @Test(arguments: BlobBackend.allCases)
    func deletesAndListsKeys(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let store = under.store
        let contents = (0..<5).map { Array("blob \($0)".utf8) }
        let keys = try contents.map { try BlobStoreUnderTest.key($0) }
        for (bytes, key) in zip(contents, keys) { _ = try store.put(bytes, for: key) }
        #expect(try store.listKeys() == keys.sorted())
        #expect(try store.delete(keys[0]))
        #expect(try !store.delete(keys[0]))
        #expect(try !store.exists(keys[0]))
        #expect(try store.listKeys() == Array(keys.dropFirst()).sorted())
        #expect {
            _ = try store.get(keys[0])
        } throws: { ($0 as? BlobStoreError)?.code == .notFound }
    }

    @Test(arguments: BlobBackend.allCases)
    func listsBlobsWithSizes(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let contents = (0..<3).map { S3TestBucket.pattern(1000 * ($0 + 1), seed: UInt64($0 + 20)) }
        let keys = try contents.map { try BlobStoreUnderTest.key($0, .webp) }
        for (bytes, key) in zip(contents, keys) { _ = try under.store.put(bytes, for: key) }
        var listings: [BlobListing] = []
        try under.store.forEachBlob { listings.append($0) }
        listings.sort { $0.key < $1.key }
        let expected = zip(keys, contents).sorted { $0.0 < $1.0 }
        #expect(listings.map(\.key) == expected.map(\.0))
        #expect(listings.map(\.size) == expected.map { Int64($0.1.count) })
        #expect(listings.allSatisfy { $0.modified > Date(timeIntervalSince1970: 1_700_000_000) })

        struct Stop: Error {}
        #expect(throws: Stop.self) { try under.store.forEachBlob { _ in throw Stop() } }
    }

    @Test(arguments: BlobBackend.allCases)
    func verifyingStoreRefusesMismatchedContent(_ backend: BlobBackend) throws {
        let under = try BlobStoreUnderTest(backend)
        defer { under.close() }
        let wrong = try BlobStoreUnderTest.key(Array("other".utf8))
        #expect {
            _ = try under.verifying.put(Array("content".utf8), for: wrong)
        } throws: { ($0 as? BlobStoreError)?.code == .digestMismatch }
        #expect(try !under.verifying.exists(wrong))
        let right = Array("content".utf8)
        #expect(try under.verifying.put(right, for: BlobStoreUnderTest.key(right)).created)
        #expect(try under.store.listKeys().count == 1)
    }
}
