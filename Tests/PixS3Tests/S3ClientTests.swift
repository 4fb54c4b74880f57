import Dispatch
import Foundation
import PixS3
import PixTestSupport
import Synchronization
import Testing

/// ``S3Client`` against a real S3-compatible server on loopback (moto_server, see ``TestS3``).
@Suite struct S3ClientTests {
    @Test func roundTripsAnObject() throws {
        let bucket = try S3TestBucket("roundtrip")
        let client = try bucket.client()
        let bytes = S3TestBucket.pattern(70_000)
        let put = try client.putObject(key: "dir/object.bin", bytes: bytes, contentType: "application/octet-stream")
        #expect(put.byteCount == 70_000 && put.partCount == 0)
        #expect(put.etag == S3TestBucket.md5Hex(bytes), "a single PUT's ETag is the content's MD5")

        #expect(try client.getObject(key: "dir/object.bin") == bytes)
        let info = try #require(try client.headObject(key: "dir/object.bin"))
        #expect(info.key == "dir/object.bin" && info.size == 70_000 && info.etag == put.etag)
        #expect(info.lastModified > Date(timeIntervalSince1970: 1_700_000_000))

        var listed: [ObjectInfo] = []
        try client.listObjects(prefix: "dir/") { listed.append($0) }
        #expect(listed.map(\.key) == ["dir/object.bin"])
        #expect(listed.first?.size == 70_000 && listed.first?.etag == put.etag)
        #expect(abs((listed.first?.lastModified ?? .distantPast).timeIntervalSince(info.lastModified)) < 2)

        // Replacing is allowed at this level (the blob store is what refuses to overwrite).
        try client.putObject(key: "dir/object.bin", bytes: Array("short".utf8))
        #expect(try client.getObject(key: "dir/object.bin") == Array("short".utf8))

        #expect(try client.deleteObject(key: "dir/object.bin"))
        #expect(try !client.deleteObject(key: "dir/object.bin"), "a second delete finds nothing")
        #expect(try client.headObject(key: "dir/object.bin") == nil)
        #expect {
            _ = try client.getObject(key: "dir/object.bin")
        } throws: { error in
            isS3Error(error, status: 404, code: "NoSuchKey") && (error as? S3Error)?.key == "dir/object.bin"
                && (error as? S3Error)?.isNotFound == true
        }
    }

    @Test func rangedReadsReturnOnlyTheAskedBytes() throws {
        let bucket = try S3TestBucket("ranged")
        let client = try bucket.client()
        let bytes = S3TestBucket.pattern(70_000)
        try client.putObject(key: "lists/list.bin", bytes: bytes)
        #expect(try client.getObject(key: "lists/list.bin", offset: 1_000, count: 500) == Array(bytes[1_000..<1_500]))
        #expect(
            try client.getObject(key: "lists/list.bin", offset: 69_990, count: 100) == Array(bytes[69_990...]),
            "fewer bytes at the end")
        #expect(try client.getObject(key: "lists/list.bin", offset: 70_000, count: 10).isEmpty, "none past the end")
    }

    @Test func keysWithSpacesUnicodeAndReservedCharactersRoundTrip() throws {
        let bucket = try S3TestBucket("keys")
        let client = try bucket.client()
        let keys = [
            "with space/file name.jpg", "été/Ünïcödé 画像.png", "plus+and%percent/a=b&c;d,e:f@g$h!i'j(k)l*m.bin",
            "tilde~under_score-dash.dot", "a/./b/../c", "slash//double", "emoji 🖼️.webp", "brackets[1]{2}<3>|4^5`6\"7",
        ]
        for (index, key) in keys.enumerated() {
            try client.putObject(key: key, bytes: Array("content \(index)".utf8))
        }
        for (index, key) in keys.enumerated() {
            #expect(try client.getObject(key: key) == Array("content \(index)".utf8), "\(key)")
            #expect(try client.headObject(key: key)?.size == Int64("content \(index)".utf8.count), "\(key)")
        }
        var listed: [String] = []
        try client.listObjects(prefix: "") { listed.append($0.key) }
        #expect(listed.sorted() == keys.sorted())
        var underSpace: [String] = []
        try client.listObjects(prefix: "with space/") { underSpace.append($0.key) }
        #expect(underSpace == ["with space/file name.jpg"])
        for key in keys { #expect(try client.deleteObject(key: key), "\(key)") }
    }

    @Test func listingFollowsContinuationTokens() throws {
        let bucket = try S3TestBucket("pages")
        let client = try bucket.client()
        let keys = (0..<7).map { "runs/r1/item-\($0) é.txt" }
        for key in keys { try client.putObject(key: key, bytes: Array(key.utf8)) }
        try client.putObject(key: "runs/r2/other.txt", bytes: [1])
        try client.putObject(key: "runs-r1-lookalike.txt", bytes: [2])
        var listed: [ObjectInfo] = []
        try client.listObjects(prefix: "runs/r1/", pageSize: 2) { listed.append($0) }
        #expect(listed.map(\.key) == keys, "all pages, in key order, nothing outside the prefix")
        #expect(listed.map(\.size) == keys.map { Int64($0.utf8.count) })

        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            try client.listObjects(prefix: "runs/", pageSize: 3) { _ in
                seen += 1
                if seen == 4 { throw Stop() }
            }
        }
        #expect(seen == 4, "an error from the body stops the listing")
    }

    @Test func uploadsLargeFilesInPartsThatReassembleExactly() throws {
        let bucket = try S3TestBucket("multipart")
        var configuration = S3Client.Configuration()
        configuration.multipartThreshold = 5 * 1024 * 1024
        configuration.partSize = 5 * 1024 * 1024
        let client = try bucket.client(configuration: configuration)
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = scratch.appendingPathComponent("large.bin")
        let bytes = S3TestBucket.pattern(12 * 1024 * 1024 + 12_345, seed: 7)
        try Data(bytes).write(to: source)

        let result = try client.putObject(key: "big/large file.bin", file: source, contentType: "application/x-test")
        #expect(result.partCount == 3 && result.byteCount == Int64(bytes.count))
        #expect(result.etag.hasSuffix("-3"), "a multipart ETag counts its parts: \(result.etag)")
        let info = try #require(try client.headObject(key: "big/large file.bin"))
        #expect(info.size == Int64(bytes.count) && info.etag == result.etag)

        let target = scratch.appendingPathComponent("copy.bin")
        #expect(try client.getObject(key: "big/large file.bin", to: target) == Int64(bytes.count))
        let copy = try Data(contentsOf: target)
        #expect(copy.count == bytes.count)
        // Compared outside #expect, which would print 12 MiB on a mismatch.
        let reassembled = copy == Data(bytes)
        #expect(reassembled, "the parts reassemble byte for byte")
        let inMemory = try client.getObject(key: "big/large file.bin") == bytes
        #expect(inMemory)
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(left == ["copy.bin", "large.bin"], "no temporary file is left behind")
    }

    @Test(arguments: [true, false])
    func streamsSmallFilesWithSignedOrUnsignedPayloads(signed: Bool) throws {
        let bucket = try S3TestBucket("stream")
        var configuration = S3Client.Configuration()
        configuration.signsFilePayloads = signed
        let client = try bucket.client(configuration: configuration)
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = scratch.appendingPathComponent("small.bin")
        let bytes = S3TestBucket.pattern(1_500_000, seed: 3)
        try Data(bytes).write(to: source)
        let result = try client.putObject(key: "small.bin", file: source)
        #expect(result.partCount == 0 && result.byteCount == 1_500_000)
        let same = try client.getObject(key: "small.bin") == bytes
        #expect(same)

        let empty = scratch.appendingPathComponent("empty.bin")
        try Data().write(to: empty)
        try client.putObject(key: "empty.bin", file: empty)
        #expect(try client.headObject(key: "empty.bin")?.size == 0)
        #expect(try client.getObject(key: "empty.bin").isEmpty)
    }

    @Test func aFailedDownloadLeavesTheTargetAlone() throws {
        let bucket = try S3TestBucket("download")
        let client = try bucket.client()
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let target = scratch.appendingPathComponent("kept.bin")
        try Data("previous".utf8).write(to: target)
        #expect {
            try client.getObject(key: "missing.bin", to: target)
        } throws: { isS3Error($0, status: 404, code: "NoSuchKey") }
        #expect(try Data(contentsOf: target) == Data("previous".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["kept.bin"])
    }

    @Test func aMissingBucketIsATypedError() throws {
        let bucket = try S3TestBucket("absent", create: false)
        let client = try bucket.client()
        for operation in ["get", "put", "list"] {
            do {
                switch operation {
                case "get": _ = try client.getObject(key: "k")
                case "put": try client.putObject(key: "k", bytes: [1, 2, 3])
                default: try client.listObjects(prefix: "") { _ in }
                }
                Issue.record("\(operation) on a missing bucket succeeded")
            } catch let error as S3Error {
                #expect(error.code == .http && error.status == 404 && error.s3Code == "NoSuchBucket", "\(error)")
                #expect(error.bucket == bucket.name)
                #expect(!error.description.contains(bucket.server.secretKey))
                #expect(error.description.contains("NoSuchBucket") && error.description.contains(bucket.name))
            }
        }
    }

    @Test func presignedURLsDownloadWithoutCredentials() throws {
        let bucket = try S3TestBucket("presign")
        let client = try bucket.client()
        let bytes = S3TestBucket.pattern(4096, seed: 11)
        let key = "shared/export 1 é.zip"
        try client.putObject(key: key, bytes: bytes)
        let url = try client.presignedGetURL(key: key, expiresIn: 900)
        #expect(url.hasPrefix("\(bucket.server.endpoint)/\(bucket.name)/shared/export%201%20%C3%A9.zip?"))
        let query = try #require(URLComponents(string: url)?.queryItems)
        #expect(query.first { $0.name == "X-Amz-Expires" }?.value == "900")
        #expect(query.first { $0.name == "X-Amz-SignedHeaders" }?.value == "host")
        #expect(query.first { $0.name == "X-Amz-Algorithm" }?.value == "AWS4-HMAC-SHA256")
        #expect(query.last?.name == "X-Amz-Signature" && query.last?.value?.count == 64)

        let response = try PlainCurl.request(url)
        #expect(response.status == 200)
        #expect(response.body == bytes)

        #expect(throws: S3Error.self) { _ = try client.presignedGetURL(key: key, expiresIn: 604_801) }
        #expect(throws: S3Error.self) { _ = try client.presignedGetURL(key: key, expiresIn: 0) }
    }

    @Test func virtualHostAddressingPutsTheBucketInTheHostName() throws {
        let bucket = try S3TestBucket("vhost")
        let location = try bucket.location(addressing: .virtualHost, endpoint: "http://localhost:\(bucket.server.port)")
        let client = S3Client(location: location, credentials: bucket.credentials)
        #expect(client.objectURL(key: "a b/c.jpg") == "http://\(bucket.name).localhost:\(bucket.server.port)/a%20b/c.jpg")
        let presigned = try client.presignedGetURL(key: "a b/c.jpg", expiresIn: 60)
        #expect(presigned.hasPrefix("http://\(bucket.name).localhost:\(bucket.server.port)/a%20b/c.jpg?X-Amz-Algorithm="))

        // moto reads the bucket from a `<bucket>.localhost` host, and libcurl resolves *.localhost to loopback.
        // (A server named by PIXCRAWL_TEST_S3_ENDPOINT may not serve virtual hosts: only the URLs are checked.)
        guard bucket.server.isLocalMoto else { return }
        try client.putObject(key: "a b/c.jpg", bytes: Array("virtual".utf8))
        #expect(try client.getObject(key: "a b/c.jpg") == Array("virtual".utf8))
        var listed: [String] = []
        try client.listObjects(prefix: "") { listed.append($0.key) }
        #expect(listed == ["a b/c.jpg"])
        #expect(try bucket.client().getObject(key: "a b/c.jpg") == Array("virtual".utf8), "same object, path-style")
        #expect(try PlainCurl.request(presigned).body == Array("virtual".utf8))
    }

    @Test func concurrentCallsShareTheClient() throws {
        let bucket = try S3TestBucket("threads")
        let client = try bucket.client()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 12) { index in
            do {
                let bytes = S3TestBucket.pattern(10_000 + index, seed: UInt64(index + 1))
                try client.putObject(key: "t/\(index)", bytes: bytes)
                guard try client.getObject(key: "t/\(index)") == bytes else {
                    failures.withLock { $0.append("\(index): content differs") }
                    return
                }
            } catch {
                failures.withLock { $0.append("\(index): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        var count = 0
        try client.listObjects(prefix: "t/") { _ in count += 1 }
        #expect(count == 12)
    }

    @Test func anUnreachableEndpointIsATransportError() throws {
        let port = try TestPostgres.freePort()  // nothing listens there
        var configuration = S3Client.Configuration()
        configuration.maxAttempts = 2
        configuration.retryDelay = .milliseconds(1)
        let location = try S3Location.parse("s3://pix-nowhere?endpoint=http://127.0.0.1:\(port)", environment: [:])
        let client = S3Client(
            location: location, credentials: try S3Credentials(accessKeyID: "a", secretAccessKey: "hidden-secret"),
            configuration: configuration)
        #expect {
            _ = try client.getObject(key: "k")
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.code == .transport && error.operation == "GetObject" && error.key == "k"
                && !error.description.contains("hidden-secret")
        }
    }

    @Test func createBucketIsIdempotent() throws {
        let bucket = try S3TestBucket("create")
        let client = try bucket.client()
        _ = try client.createBucket()  // exists already: no error
        try client.putObject(key: "k", bytes: [1])
        #expect(try client.getObject(key: "k") == [1])
    }
}
