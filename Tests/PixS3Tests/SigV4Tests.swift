import Foundation
import PixS3
import Testing

/// The signer against AWS's published examples: the S3 documentation's "Authenticating Requests" pages
/// (query-string and header signing, same example credentials) and cases of the SigV4 test suite.
@Suite struct SigV4Tests {
    /// 2013-05-24T00:00:00Z, the S3 documentation examples' signing time.
    static let s3ExampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    /// 2015-08-30T12:36:00Z, the SigV4 test suite's signing time.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    static let s3ExampleCredentials = try! S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let suiteCredentials = try! S3Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    static func sha256(_ text: String) -> String { SigV4.sha256Hex(Array(text.utf8)) }

    @Test func formatsTheSigningTime() {
        #expect(SigV4.amzDate(Self.s3ExampleDate) == "20130524T000000Z")
        #expect(SigV4.amzDate(Self.suiteDate) == "20150830T123600Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 1_709_164_799)) == "20240228T235959Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 1_709_164_800)) == "20240229T000000Z")
    }

    /// "Examples of how to derive a signing key for Signature Version 4".
    @Test func derivesTheDocumentedSigningKey() {
        let key = SigV4.signingKey(
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", dateStamp: "20120215", region: "us-east-1",
            service: "iam")
        let hex = key.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(hex.joined() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// "Authenticating Requests: Using Query Parameters": GET examplebucket/test.txt, valid 86400 s.
    @Test func presignsTheDocumentedURL() throws {
        let signer = SigV4(credentials: Self.s3ExampleCredentials, region: "us-east-1")
        let request = SigV4.Request(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
            payloadHash: SigV4.unsignedPayload)
        let signed = try signer.presign(request, expiresIn: 86400, at: Self.s3ExampleDate)
        #expect(
            signed.stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
                """)
        #expect(signed.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")

        // The client builds the same URL for a virtual-host location on the global endpoint.
        let location = try S3Location.parse(
            "s3://examplebucket?endpoint=https://s3.amazonaws.com&addressing=virtual&region=us-east-1",
            environment: [:])
        let client = S3Client(location: location, credentials: Self.s3ExampleCredentials)
        let url = try client.presignedGetURL(key: "test.txt", expiresIn: 86400, now: Self.s3ExampleDate)
        #expect(
            url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// "Signature Calculations for the Authorization Header": the GET Object (Range), PUT Object and
    /// GET Bucket (list objects) examples.
    @Test func signsTheDocumentedHeaderExamples() {
        let signer = SigV4(credentials: Self.s3ExampleCredentials, region: "us-east-1")
        let host = "examplebucket.s3.amazonaws.com"

        let get = signer.sign(
            SigV4.Request(
                method: "GET", host: host, path: "/test.txt",
                headers: [(name: "Range", value: "bytes=0-9"), (name: "x-amz-content-sha256", value: SigV4.emptyPayloadHash)]
            ),
            at: Self.s3ExampleDate)
        #expect(
            get.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(Self.sha256(get.canonicalRequest) == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(get.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(
            get.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")

        let payload = Self.sha256("Welcome to Amazon S3.")
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let put = signer.sign(
            SigV4.Request(
                method: "PUT", host: host, path: "/" + SigV4.uriEncode("test$file.text", encodingSlash: false),
                headers: [
                    (name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"),
                    (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY"),
                    (name: "x-amz-content-sha256", value: payload),
                ], payloadHash: payload),
            at: Self.s3ExampleDate)
        #expect(put.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        #expect(Self.sha256(put.canonicalRequest) == "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
        #expect(put.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")

        // Query parameters given out of order; the canonical query sorts them.
        let list = signer.sign(
            SigV4.Request(
                method: "GET", host: host, path: "/", query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")],
                headers: [(name: "x-amz-content-sha256", value: SigV4.emptyPayloadHash)]),
            at: Self.s3ExampleDate)
        #expect(list.canonicalRequest.hasPrefix("GET\n/\nmax-keys=2&prefix=J\n"))
        #expect(list.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// The SigV4 test suite's get-vanilla and get-vanilla-query-order-key-case (service `service`).
    @Test(arguments: [
        (
            [(name: String, value: String)](), "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        (
            [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")],
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
    ])
    func signsTheTestSuiteCases(query: [(name: String, value: String)], canonicalHash: String, signature: String) {
        let signer = SigV4(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let signed = signer.sign(
            SigV4.Request(method: "GET", host: "example.amazonaws.com", path: "/", query: query), at: Self.suiteDate)
        #expect(Self.sha256(signed.canonicalRequest) == canonicalHash)
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(canonicalHash)")
        #expect(signed.signature == signature)
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=\(signature)")
    }

    @Test func refusesExpiriesOutsideOneSecondToSevenDays() throws {
        let signer = SigV4(credentials: Self.s3ExampleCredentials, region: "us-east-1")
        let request = SigV4.Request(method: "GET", host: "b.s3.amazonaws.com", path: "/k", payloadHash: SigV4.unsignedPayload)
        for expiry in [0, -1, 604_801, Int.max] {
            #expect {
                _ = try signer.presign(request, expiresIn: expiry, at: Self.s3ExampleDate)
            } throws: { error in
                guard let error = error as? S3Error else { return false }
                return error.code == .invalidArgument && error.message.contains("604800")
            }
        }
        let longest = try signer.presign(request, expiresIn: 604_800, at: Self.s3ExampleDate)
        #expect(longest.query.contains("X-Amz-Expires=604800"))
        let shortest = try signer.presign(request, expiresIn: 1, at: Self.s3ExampleDate)
        #expect(shortest.query.contains("X-Amz-Expires=1&"))
    }

    @Test func signsTheSessionTokenIntoPresignedURLs() throws {
        let credentials = try S3Credentials(
            accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token/with+specials=")
        let signer = SigV4(credentials: credentials, region: "eu-west-1")
        let request = SigV4.Request(method: "GET", host: "b.s3.amazonaws.com", path: "/k", payloadHash: SigV4.unsignedPayload)
        let signed = try signer.presign(request, expiresIn: 60, at: Self.s3ExampleDate)
        #expect(signed.query.contains("&X-Amz-Security-Token=token%2Fwith%2Bspecials%3D&"))
        #expect(signed.canonicalRequest.contains("X-Amz-Security-Token=token%2Fwith%2Bspecials%3D"))
        #expect(signed.query.hasSuffix("&X-Amz-Signature=\(signed.signature)"))
        let withoutToken = try SigV4(
            credentials: S3Credentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret"), region: "eu-west-1"
        ).presign(request, expiresIn: 60, at: Self.s3ExampleDate)
        #expect(withoutToken.signature != signed.signature, "the token is part of what is signed")
    }

    @Test func encodesURIsAsS3Does() {
        #expect(SigV4.uriEncode("a b/c~d._-*", encodingSlash: true) == "a%20b%2Fc~d._-%2A")
        #expect(
            SigV4.uriEncode("photos/été 2013/a+b (1).jpg", encodingSlash: false)
                == "photos/%C3%A9t%C3%A9%202013/a%2Bb%20%281%29.jpg")
        #expect(SigV4.uriEncode("100%/日本", encodingSlash: false) == "100%25/%E6%97%A5%E6%9C%AC")
        #expect(
            SigV4.canonicalQuery([(name: "b", value: "2"), (name: "a", value: "x y"), (name: "a", value: "1")])
                == "a=1&a=x%20y&b=2")
        let folded = SigV4.canonicalHeaders([(name: "My-Header1", value: "  a   b  c "), (name: "my-header1", value: "d")])
        #expect(folded.canonical == "my-header1:a b c,d\n" && folded.signedHeaders == "my-header1")
    }
}
