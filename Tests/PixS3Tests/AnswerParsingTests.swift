import Foundation
import PixS3
import Testing

/// Dates in S3's answers that are well formed but out of any range the calendar arithmetic can hold: the answer is
/// read and the date left unknown, never a crash (found by `fuzz/run s3_xml`).
@Suite struct AnswerParsingTests {
    func client(_ server: ScriptedHTTPServer) throws -> S3Client {
        let location = try S3Location.parse("s3://pix-dates?endpoint=http://127.0.0.1:\(server.port)", environment: [:])
        return S3Client(location: location, credentials: try S3Credentials(accessKeyID: "a", secretAccessKey: "b"))
    }

    @Test func aListingWithAFractionOfManyDigitsIsRead() throws {
        let page = """
            <?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>false</IsTruncated>\
            <Contents><Key>a.jpg</Key><Size>3</Size>\
            <LastModified>2024-05-24T10:11:12.99999999999999999999Z</LastModified></Contents></ListBucketResult>
            """
        let server = try ScriptedHTTPServer([.init(status: 200, body: page)])
        defer { server.stop() }
        var listed: [ObjectInfo] = []
        try client(server).listObjects(prefix: "") { listed.append($0) }
        #expect(listed.map(\.key) == ["a.jpg"])
        let modified = try #require(listed.first?.lastModified.timeIntervalSince1970)
        #expect(abs(modified - 1_716_545_473) < 0.001)
    }

    @Test func aLastModifiedHeaderWithAHugeYearLeavesTheDateUnknown() throws {
        let server = try ScriptedHTTPServer([
            .init(status: 200, body: "", headers: ["Last-Modified": "Fri, 24 May 99999999999999999 00:00:00 GMT"])
        ])
        defer { server.stop() }
        let info = try client(server).headObject(key: "a.jpg")
        #expect(info?.lastModified == Date(timeIntervalSince1970: 0))
    }
}
