import Crypto
import Foundation
import PixBlob
import PixCore
import PixS3
import PixTestSupport
import Testing

/// What only ``S3BlobStore`` does beyond the ``BlobStoreContractTests`` (PixBlobTests), on a real S3-compatible
/// server: object keys under its prefix, foreign objects, presigned links, errors of a missing bucket.
@Suite struct S3BlobStoreTests {
    let bucket: S3TestBucket
    let store: S3BlobStore

    init() throws {
        bucket = try S3TestBucket("blobs", prefix: "crawls/run 1/")
        store = S3BlobStore(client: try bucket.client())
    }

    func key(_ bytes: [UInt8], _ format: ImageFormat = .jpeg) throws -> BlobKey {
        let digest = SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        return try BlobKey(sha256: digest, format: format)
    }

    /// Every object key in the bucket.
    func objectKeys() throws -> [String] {
        var keys: [String] = []
        try store.client.listObjects(prefix: "") { keys.append($0.key) }
        return keys.sorted()
    }

    @Test func writesContentAddressedObjects() throws {
        let bytes = S3TestBucket.pattern(30_000, seed: 5)
        let key = try key(bytes)
        let stored = try store.put(bytes, for: key)
        let sha = key.sha256
        let expected = "crawls/run 1/images/\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha).jpg"
        #expect(store.objectKey(for: key) == expected)
        #expect(stored.created && stored.byteCount == bytes.count && stored.key == key)
        #expect(stored.storageURL == "s3://\(bucket.name)/\(expected)")
        #expect(try objectKeys() == [expected])
        #expect(try store.get(key) == bytes)
        #expect(try store.exists(key))
        #expect(try store.client.headObject(key: expected)?.size == Int64(bytes.count))
    }

    @Test func storingTwiceKeepsTheContent() throws {
        let bytes = Array("first content".utf8)
        let key = try key(bytes, .png)
        #expect(try store.put(bytes, for: key).created)
        let before = try #require(try store.client.headObject(key: store.objectKey(for: key)))
        let again = try store.put(bytes, for: key)
        #expect(!again.created && again.byteCount == bytes.count)
        let after = try #require(try store.client.headObject(key: store.objectKey(for: key)))
        // The same content and type; only LastModified may move (a dedup hit refreshes it, see the blob contract).
        #expect(before.size == after.size && before.etag == after.etag, "the content was not written again")
        #expect(try store.listKeys() == [key])
    }

    @Test func listsBlobsWithSizesAndTimesAndSkipsForeignObjects() throws {
        let contents = (0..<3).map { S3TestBucket.pattern(1000 * ($0 + 1), seed: UInt64($0 + 20)) }
        let keys = try contents.map { try key($0, .webp) }
        for (bytes, key) in zip(contents, keys) { _ = try store.put(bytes, for: key) }
        // Objects a blob store never writes: outside images/, not a blob path, another prefix.
        let client = store.client
        try client.putObject(key: "crawls/run 1/images/readme.txt", bytes: [1])
        try client.putObject(key: "crawls/run 1/images/ab/cd/not-a-digest.jpg", bytes: [1])
        try client.putObject(key: "crawls/run 1/exports/x.zip", bytes: [1])
        try client.putObject(key: "crawls/run 2/\(keys[0].path)", bytes: [1])

        var listings: [BlobListing] = []
        try store.forEachBlob { listings.append($0) }
        listings.sort { $0.key < $1.key }
        let expected = zip(keys, contents).sorted { $0.0 < $1.0 }
        #expect(listings.map(\.key) == expected.map(\.0))
        #expect(listings.map(\.size) == expected.map { Int64($0.1.count) })
        for listing in listings {
            let head = try #require(try client.headObject(key: store.objectKey(for: listing.key)))
            #expect(abs(listing.modified.timeIntervalSince(head.lastModified)) < 2)
            #expect(listing.modified > Date(timeIntervalSince1970: 1_700_000_000))
        }
        #expect(try store.listKeys() == keys.sorted())

        struct Stop: Error {}
        #expect(throws: Stop.self) { try store.forEachBlob { _ in throw Stop() } }
    }

    @Test func verifyingStoreRefusesMismatchedContent() throws {
        let verifying = S3BlobStore(client: store.client, verifiesDigest: true)
        let wrong = try key(Array("other".utf8))
        #expect {
            _ = try verifying.put(Array("content".utf8), for: wrong)
        } throws: { ($0 as? BlobStoreError)?.code == .digestMismatch }
        #expect(try !verifying.exists(wrong))
        let right = Array("content".utf8)
        #expect(try verifying.put(right, for: key(right)).created)
        #expect(try objectKeys().count == 1)
    }

    @Test func presignsBlobDownloads() throws {
        let bytes = S3TestBucket.pattern(2048, seed: 33)
        let key = try key(bytes, .png)
        _ = try store.put(bytes, for: key)
        let url = try store.presignedURL(for: key, expiresIn: 120)
        #expect(url.contains("/crawls/run%201/images/") && url.contains("X-Amz-Expires=120"))
        let response = try PlainCurl.request(url)
        #expect(response.status == 200 && response.body == bytes)
    }

    @Test func anUnreachableStoreFailsWithBlobStoreErrors() throws {
        let missing = S3BlobStore(client: try S3TestBucket("gone", create: false).client())
        let key = try key([1, 2, 3])
        #expect {
            _ = try missing.get(key)
        } throws: { error in
            guard let error = error as? BlobStoreError else { return false }
            return error.code == .io && error.message.contains("NoSuchBucket")
        }
        #expect(throws: BlobStoreError.self) { try missing.forEachBlob { _ in } }
    }
}
