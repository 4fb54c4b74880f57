import Foundation
import PixS3
import PixTestSupport
import Testing

/// Retries after 5xx answers, against a loopback server that answers from a script (moto never fails).
@Suite struct RetryTests {
    static let slowDown = ScriptedHTTPServer.Response(
        status: 503,
        body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
            + "<Message>Please reduce your request rate.</Message></Error>")

    func client(_ server: ScriptedHTTPServer, attempts: Int) throws -> S3Client {
        var configuration = S3Client.Configuration()
        configuration.maxAttempts = attempts
        configuration.retryDelay = .milliseconds(1)
        let location = try S3Location.parse("s3://pix-retry?endpoint=http://127.0.0.1:\(server.port)", environment: [:])
        return S3Client(
            location: location, credentials: try S3Credentials(accessKeyID: "a", secretAccessKey: "b"),
            configuration: configuration)
    }

    @Test func retriesIdempotentRequestsAfter5xx() throws {
        let server = try ScriptedHTTPServer([Self.slowDown, Self.slowDown, .init(status: 200, body: "hello")])
        defer { server.stop() }
        #expect(try client(server, attempts: 4).getObject(key: "k") == Array("hello".utf8))
        #expect(server.requests == Array(repeating: "GET /pix-retry/k HTTP/1.1", count: 3))
    }

    @Test func givesUpWithS3sErrorAfterTheLastAttempt() throws {
        let server = try ScriptedHTTPServer([Self.slowDown])
        defer { server.stop() }
        #expect {
            try client(server, attempts: 3).putObject(key: "a b", bytes: [1, 2, 3])
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.status == 503 && error.s3Code == "SlowDown" && error.message == "Please reduce your request rate."
                && error.key == "a b" && error.operation == "PutObject"
        }
        #expect(server.requests == Array(repeating: "PUT /pix-retry/a%20b HTTP/1.1", count: 3))
    }

    @Test func neverRepeatsCreateMultipartUpload() throws {
        let server = try ScriptedHTTPServer([Self.slowDown])
        defer { server.stop() }
        var configuration = S3Client.Configuration()
        configuration.multipartThreshold = 5 * 1024 * 1024
        configuration.retryDelay = .milliseconds(1)
        let location = try S3Location.parse("s3://pix-retry?endpoint=http://127.0.0.1:\(server.port)", environment: [:])
        let client = S3Client(
            location: location, credentials: try S3Credentials(accessKeyID: "a", secretAccessKey: "b"),
            configuration: configuration)
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("big.bin")
        try Data(count: 6 * 1024 * 1024).write(to: file)
        #expect {
            try client.putObject(key: "big.bin", file: file)
        } throws: { ($0 as? S3Error)?.operation == "CreateMultipartUpload" }
        #expect(server.requests == ["POST /pix-retry/big.bin?uploads= HTTP/1.1"], "a second upload would be orphaned")
    }

    @Test func abortsAMultipartUploadWhoseCompletionFails() throws {
        let created = ScriptedHTTPServer.Response(
            status: 200, body: "<InitiateMultipartUploadResult><UploadId>up/1+2</UploadId></InitiateMultipartUploadResult>")
        let part = ScriptedHTTPServer.Response(status: 200, body: "", headers: ["ETag": "\"etag\""])
        let failed = ScriptedHTTPServer.Response(
            status: 200, body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
        let server = try ScriptedHTTPServer([created, part, part, failed, failed, .init(status: 204, body: "")])
        defer { server.stop() }
        var configuration = S3Client.Configuration()
        configuration.multipartThreshold = 5 * 1024 * 1024
        configuration.partSize = 5 * 1024 * 1024
        configuration.maxAttempts = 2
        configuration.retryDelay = .milliseconds(1)
        let location = try S3Location.parse("s3://pix-retry?endpoint=http://127.0.0.1:\(server.port)", environment: [:])
        let client = S3Client(
            location: location, credentials: try S3Credentials(accessKeyID: "a", secretAccessKey: "b"),
            configuration: configuration)
        let scratch = try S3TestBucket.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("big.bin")
        try Data(count: 6 * 1024 * 1024).write(to: file)
        #expect {
            try client.putObject(key: "big.bin", file: file)
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.operation == "CompleteMultipartUpload" && error.s3Code == "InternalError"
        }
        #expect(
            server.requests == [
                "POST /pix-retry/big.bin?uploads= HTTP/1.1",
                "PUT /pix-retry/big.bin?partNumber=1&uploadId=up%2F1%2B2 HTTP/1.1",
                "PUT /pix-retry/big.bin?partNumber=2&uploadId=up%2F1%2B2 HTTP/1.1",
                "POST /pix-retry/big.bin?uploadId=up%2F1%2B2 HTTP/1.1",
                "POST /pix-retry/big.bin?uploadId=up%2F1%2B2 HTTP/1.1",
                "DELETE /pix-retry/big.bin?uploadId=up%2F1%2B2 HTTP/1.1",
            ], "a 200 carrying an <Error> is retried, then the upload is aborted")
    }
}
