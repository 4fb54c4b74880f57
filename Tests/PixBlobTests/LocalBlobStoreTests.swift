import Crypto
import Foundation
import PixBlob
import PixCore
import PixTestSupport
import Testing

/// What only a local folder does beyond the ``BlobStoreContractTests``: its file layout, temporary files and
/// modification times.
@Suite struct LocalBlobStoreTests {
    let root: URL
    let store: LocalBlobStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pixblob-\(UUID().uuidString)")
        store = LocalBlobStore(root: root)
    }

    func key(_ bytes: [UInt8], _ format: ImageFormat = .jpeg) throws -> BlobKey {
        try BlobStoreUnderTest.key(bytes, format)
    }

    func filesUnder(_ directory: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(path)
            }
        }
        return files.sorted()
    }

    @Test func writesContentAddressedFiles() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let bytes = S3TestBucket.pattern(30_000, seed: 5)
        let key = try key(bytes)
        let stored = try store.put(bytes, for: key)
        let sha = key.sha256
        let expected = "images/\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha).jpg"
        #expect(key.path == expected)
        #expect(stored.created && stored.byteCount == bytes.count)
        #expect(stored.storageURL == root.appendingPathComponent(expected).absoluteString)
        #expect(filesUnder(root) == [expected], "no temporary file is left behind")
        #expect(try Data(contentsOf: root.appendingPathComponent(expected)) == Data(bytes))
        #expect(try store.get(key) == bytes)
        #expect(try store.exists(key))
        #expect(try store.verify(key))
    }

    @Test func storingTwiceIsANoOp() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let bytes = Array("first content".utf8)
        let key = try key(bytes, .png)
        #expect(try store.put(bytes, for: key).created)
        let file = store.fileURL(for: key)
        let before = try FileManager.default.attributesOfItem(atPath: file.path)[.systemFileNumber] as? Int
        let again = try store.put(bytes, for: key)
        #expect(!again.created && again.byteCount == bytes.count)
        let after = try FileManager.default.attributesOfItem(atPath: file.path)[.systemFileNumber] as? Int
        #expect(before == after, "the existing file was not replaced")
        #expect(try store.listKeys() == [key])
    }

    @Test(
        "a blob damaged under its name (a copy a crash caught before it reached the disk) is written again by the next put of its key",
        arguments: [false, true])
    func aDamagedBlobIsWrittenAgain(deferred: Bool) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let bytes = S3TestBucket.pattern(10_000, seed: 7)
        let key = try key(bytes)
        func store(_ bytes: [UInt8]) throws -> StoredBlob {
            deferred ? try self.store.putDeferred(bytes, for: key) : try self.store.put(bytes, for: key)
        }
        #expect(try self.store.putDeferred(bytes, for: key).created)
        let file = self.store.fileURL(for: key)
        // The same size, other bytes: what a file renamed into place before its data was written may hold.
        try Data(repeating: 0, count: bytes.count).write(to: file)
        #expect(try store(bytes).created)
        #expect(try self.store.get(key) == bytes)
        #expect(try self.store.verify(key))
        // Cut short, too.
        try Data(bytes.prefix(100)).write(to: file)
        #expect(try store(bytes).created)
        #expect(try self.store.get(key) == bytes)
        // An intact blob is left as it is.
        #expect(try !store(bytes).created)
        #expect(filesUnder(root) == [key.path], "no temporary file is left behind")
    }

    @Test func aDedupHitMakesAnOldFileYoungAgain() throws {
        let bytes: [UInt8] = Array("an orphan about to be referenced again".utf8)
        let key = try BlobKey(sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined(), format: .jpeg)
        _ = try store.put(bytes, for: key)
        let path = root.appendingPathComponent(key.path).path
        let old = Date().addingTimeInterval(-7 * 86_400)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
        let again = try store.put(bytes, for: key)
        #expect(!again.created)
        let modified = try #require(
            try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        #expect(modified > Date().addingTimeInterval(-3600), "fsck's one-hour grace must cover the reused file")
    }

    @Test func refusesKeysThatAreNotContentAddresses() throws {
        let invalid = [
            "", "../../etc/passwd", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
            String(repeating: "A", count: 64), String(repeating: "g", count: 64),
            String(repeating: "a", count: 62) + "/.", String(repeating: "a", count: 60) + ".jpg",
        ]
        for digest in invalid {
            #expect(throws: BlobStoreError.self, "\(digest)") { try BlobKey(sha256: digest, format: .jpeg) }
        }
        let sha = String(repeating: "ab", count: 32)
        #expect(throws: BlobStoreError.self) { try BlobKey(path: "images/ab/ab/\(sha).exe") }
        #expect(throws: BlobStoreError.self) { try BlobKey(path: "images/cd/ab/\(sha).jpg") }
        #expect(throws: BlobStoreError.self) { try BlobKey(path: "../images/ab/ab/\(sha).jpg") }
        let parsed = try BlobKey(path: "images/ab/ab/\(sha).tif")
        #expect(parsed == (try BlobKey(sha256: sha, format: .tiff)))
    }

    @Test func verifyingStoreRefusesMismatchedContent() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let verifying = LocalBlobStore(root: root, verifiesDigest: true)
        let wrong = try key(Array("other".utf8))
        do {
            _ = try verifying.put(Array("content".utf8), for: wrong)
            Issue.record("a mismatched key was accepted")
        } catch let error as BlobStoreError {
            #expect(error.code == .digestMismatch)
        }
        #expect(!(try verifying.exists(wrong)))
        #expect(filesUnder(root).isEmpty, "the temporary file was removed")
    }

    @Test func listsBlobsWithSizesAndModificationTimes() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let contents = (1...3).map { Array(repeating: UInt8($0), count: 100 * $0) }
        let keys = try contents.map { try key($0, .png) }
        for (bytes, key) in zip(contents, keys) { _ = try store.put(bytes, for: key) }
        let old = Date(timeIntervalSince1970: 1_600_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: store.fileURL(for: keys[1]).path)
        // A temporary file is not a blob.
        let directory = store.fileURL(for: keys[0]).deletingLastPathComponent()
        try Data("partial".utf8).write(to: directory.appendingPathComponent(".tmp-\(keys[0].sha256.prefix(16))-1"))

        var listings: [BlobListing] = []
        try store.forEachBlob { listings.append($0) }
        listings.sort { $0.key < $1.key }
        let expected = zip(keys, contents).sorted { $0.0 < $1.0 }
        #expect(listings.map(\.key) == expected.map(\.0))
        #expect(listings.map(\.size) == expected.map { Int64($0.1.count) })
        #expect(listings.first { $0.key == keys[1] }?.modified == old)
        for listing in listings where listing.key != keys[1] {
            #expect(listing.modified > old, "\(listing.key) was written just now")
        }

        struct Stop: Error {}
        #expect(throws: Stop.self) { try store.forEachBlob { _ in throw Stop() } }
    }

    @Test func sweepsStaleTemporaryFilesAndNeverListsThem() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let bytes = Array("kept".utf8)
        let key = try key(bytes)
        _ = try store.put(bytes, for: key)
        // What a crash between create and rename leaves behind.
        let directory = store.fileURL(for: key).deletingLastPathComponent()
        let stale = directory.appendingPathComponent(".tmp-\(key.sha256.prefix(16))-1234")
        try Data("half written".utf8).write(to: stale)
        #expect(try store.listKeys() == [key])
        #expect(try store.sweepTemporaryFiles(olderThan: 3600) == 0, "a recent file may be a write in progress")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale.path)
        #expect(try store.sweepTemporaryFiles(olderThan: 3600) == 1)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(try store.get(key) == bytes)
    }
}
