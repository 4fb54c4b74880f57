import Foundation
import PixS3
import PixTestSupport
import Testing

/// ``S3Client``'s requests against a server that verifies every SigV4 signature (see ``SignatureCheckingS3``):
/// what libcurl signs is what S3 computes, for every operation, for awkward keys and query strings, with
/// long-term and temporary credentials; wrong credentials are refused with a typed error.
@Suite struct SignatureCheckTests {
    /// Whose credentials sign the requests.
    enum Identity: CaseIterable, Sendable {
        /// The IAM user's access key.
        case user
        /// Temporary credentials with a session token (`x-amz-security-token`).
        case assumedRole
    }

    func client(
        _ identity: Identity = .user, bucket: String,
        configuration: S3Client.Configuration = S3Client.Configuration()
    ) throws -> S3Client {
        let server = try SignatureCheckingS3.server()
        let location = try S3Location.parse(
            "s3://\(bucket)?endpoint=\(server.endpoint)&region=\(server.region)", environment: [:])
        let credentials = identity == .user ? server.credentials : server.temporaryCredentials
        return S3Client(location: location, credentials: credentials, configuration: configuration)
    }

    @Test(arguments: Identity.allCases)
    func everyOperationIsSignedAsS3Expects(as identity: Identity) throws {
        let bucket = TestS3.bucketName("signed")
        var configuration = S3Client.Configuration()
        configuration.multipartThreshold = 5 * 1024 * 1024
        configuration.partSize = 5 * 1024 * 1024
        let client = try client(identity, bucket: bucket, configuration: configuration)
        #expect(try client.createBucket())

        let keys = ["plain.txt", "with space/é 画像+plus%percent=eq&amp;.jpg", "a/./b/../tilde~star*.bin"]
        for key in keys {
            try client.putObject(key: key, bytes: Array(key.utf8), contentType: "text/plain")
            #expect(try client.getObject(key: key) == Array(key.utf8))
            #expect(try client.headObject(key: key)?.size == Int64(key.utf8.count))
        }
        var listed: [String] = []
        try client.listObjects(prefix: "", pageSize: 1) { listed.append($0.key) }  // continuation tokens signed too
        #expect(listed.sorted() == keys.sorted())
        var prefixed: [String] = []
        try client.listObjects(prefix: "with space/é") { prefixed.append($0.key) }
        #expect(prefixed == [keys[1]])

        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let large = scratch.appendingPathComponent("large.bin")
        let bytes = S3TestBucket.pattern(11 * 1024 * 1024, seed: 41)
        try Data(bytes).write(to: large)
        let result = try client.putObject(key: "big/part ed.bin", file: large)
        #expect(result.partCount == 3)
        let same = try client.getObject(key: "big/part ed.bin") == bytes  // outside #expect: 11 MiB
        #expect(same)

        for key in keys { #expect(try client.deleteObject(key: key)) }
        #expect(try client.headObject(key: keys[0]) == nil)
    }

    @Test func wrongCredentialsAreRefused() throws {
        let server = try SignatureCheckingS3.server()
        let bucket = TestS3.bucketName("refused")
        try client(bucket: bucket).createBucket()

        let wrongSecret = try S3Credentials(accessKeyID: server.credentials.accessKeyID, secretAccessKey: "not-the-secret")
        let unknownKey = try S3Credentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever")
        for (credentials, expected) in [(wrongSecret, "SignatureDoesNotMatch"), (unknownKey, "InvalidAccessKeyId")] {
            let location = try S3Location.parse("s3://\(bucket)?endpoint=\(server.endpoint)", environment: [:])
            let client = S3Client(location: location, credentials: credentials)
            do {
                try client.putObject(key: "k", bytes: [1])
                Issue.record("\(expected): the upload was accepted")
            } catch {
                #expect(error.code == .http && error.status == 403 && error.s3Code == expected, "\(error)")
                #expect(error.operation == "PutObject" && error.key == "k" && error.bucket == bucket)
                #expect(!error.description.contains(credentials.secretAccessKey))
                #expect(!error.description.contains(server.credentials.secretAccessKey))
            }
            #expect {
                _ = try client.getObject(key: "k")
            } throws: { isS3Error($0, status: 403, code: expected) }
        }
    }
}
