import Foundation
import PixBlob
import PixCore
import PixS3
import Testing

@Suite struct S3LocationTests {
    static func invalidLocation(_ error: any Error, mentioning text: String) -> Bool {
        guard let error = error as? S3Error, error.code == .invalidLocation else { return false }
        return error.message.contains(text)
    }

    @Test func defaultsToAWSWithVirtualHostAddressing() throws {
        let location = try S3Location.parse("s3://pixcrawl-images/crawls/2026/", environment: ["AWS_REGION": "eu-central-1"])
        #expect(location.bucket == "pixcrawl-images")
        #expect(location.prefix == "crawls/2026")
        #expect(location.region == "eu-central-1")
        #expect(location.endpoint.description == "https://s3.eu-central-1.amazonaws.com")
        #expect(location.addressing == .virtualHost)
        #expect(location.key(for: "images/ab/cd/x.jpg") == "crawls/2026/images/ab/cd/x.jpg")
        #expect(
            location.description
                == "s3://pixcrawl-images/crawls/2026?endpoint=https://s3.eu-central-1.amazonaws.com"
                + "&region=eu-central-1&addressing=virtual")
        #expect(try S3Location.parse(location.description, environment: [:]) == location, "description round-trips")

        #expect(try S3Location.parse("s3://bucket", environment: [:]).region == "us-east-1")
        #expect(try S3Location.parse("s3://bucket", environment: ["AWS_DEFAULT_REGION": "ap-south-1"]).region == "ap-south-1")
        let both = ["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"]
        #expect(try S3Location.parse("s3://bucket", environment: both).region == "us-west-2")
        #expect(try S3Location.parse("s3://bucket?region=sa-east-1", environment: both).region == "sa-east-1")
        // A dotted bucket cannot sit under the AWS wildcard certificate: path-style.
        #expect(try S3Location.parse("s3://my.bucket", environment: [:]).addressing == .path)
    }

    @Test func anEndpointMeansPathStyle() throws {
        let location = try S3Location.parse(
            "s3://images//dev//run/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1", environment: [:])
        #expect(location.prefix == "dev/run")
        #expect(location.endpoint.description == "http://127.0.0.1:9000")
        #expect(location.endpoint.authority == "127.0.0.1:9000")
        #expect(location.addressing == .path)
        let virtual = try S3Location.parse("s3://images?endpoint=http://LocalHost:9000/&addressing=virtual", environment: [:])
        #expect(virtual.endpoint.host == "localhost" && virtual.addressing == .virtualHost && virtual.prefix.isEmpty)
        let defaultPort = try S3Location.parse("s3://images?endpoint=https://minio.example.org:443", environment: [:])
        #expect(defaultPort.endpoint.authority == "minio.example.org")
        let ipv6 = try S3Location.parse("s3://images/p%20q?endpoint=http://[::1]:9000", environment: [:])
        #expect(ipv6.endpoint.authority == "[::1]:9000" && ipv6.prefix == "p q")
    }

    @Test(arguments: [
        ("http://bucket", "starts with s3://"),
        ("s3://", "bucket name is missing"),
        ("s3:///prefix", "bucket name is missing"),
        ("s3://ab", "3 to 63"),
        ("s3://\(String(repeating: "a", count: 64))", "3 to 63"),
        ("s3://My-Bucket", "lowercase"),
        ("s3://bucket_name", "lowercase"),
        ("s3://-bucket", "begin and end"),
        ("s3://bucket-", "begin and end"),
        ("s3://my..bucket", "adjacent dots"),
        ("s3://192.168.5.4", "IP address"),
        ("s3://xn--bucket", "xn--"),
        ("s3://sthree-bucket", "sthree-"),
        ("s3://bucket-s3alias", "-s3alias"),
        ("s3://bucket--ol-s3", "--ol-s3"),
        ("s3://bucket.mrap", ".mrap"),
        ("s3://bucket?color=blue", "unknown option 'color'"),
        ("s3://bucket?region=a&region=b", "given twice"),
        ("s3://bucket?region=", "needs a value"),
        ("s3://bucket?region=us:east", "region"),
        ("s3://bucket?addressing=dns", "'path' or 'virtual'"),
        ("s3://bucket?endpoint=ftp://host", "http or https"),
        ("s3://bucket?endpoint=localhost:9000", "expected http://"),
        ("s3://bucket?endpoint=http://host:9000/s3", "no path"),
        ("s3://bucket?endpoint=http://host:99999", "1-65535"),
        ("s3://bucket?endpoint=http://ho%20st", "bad host"),
        ("s3://bucket?endpoint=http://127.0.0.1:9000&addressing=virtual", "host name"),
        ("s3://bucket/a/../b", "'..'"),
        ("s3://bucket#frag", "fragment"),
    ])
    func refusesBadLocations(value: String, complaint: String) {
        #expect {
            _ = try S3Location.parse(value, environment: [:])
        } throws: { Self.invalidLocation($0, mentioning: complaint) }
    }

    @Test func neverRepeatsCredentialsFromAnEndpoint() {
        do {
            _ = try S3Location.parse("s3://bucket?endpoint=http://AKIA:supersecret@host:9000", environment: [:])
            Issue.record("credentials in the endpoint were accepted")
        } catch {
            #expect(error.code == .invalidLocation)
            #expect(!error.description.contains("supersecret"), "\(error)")
        }
    }

    @Test func readsCredentialsFromTheEnvironment() throws {
        let credentials = try S3Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "top/secret+key", "AWS_SESSION_TOKEN": "",
        ])
        #expect(credentials.accessKeyID == "AKIAEXAMPLE" && credentials.secretAccessKey == "top/secret+key")
        #expect(credentials.sessionToken == nil, "an empty token is no token")
        let temporary = try S3Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "top/secret+key", "AWS_SESSION_TOKEN": "tok3n",
        ])
        #expect(temporary.sessionToken == "tok3n")
        for printed in [
            "\(temporary)", String(reflecting: temporary),
            {
                var out = ""; dump(temporary, to: &out); return out
            }(),
        ] {
            #expect(printed.contains("ASIAEXAMPLE"))
            #expect(!printed.contains("top/secret+key") && !printed.contains("tok3n"), "\(printed)")
        }

        for (environment, missing) in [
            (["AWS_SECRET_ACCESS_KEY": "s"], "AWS_ACCESS_KEY_ID"),
            (["AWS_ACCESS_KEY_ID": "a"], "AWS_SECRET_ACCESS_KEY"),
            (["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": ""], "AWS_SECRET_ACCESS_KEY"),
        ] {
            #expect {
                _ = try S3Credentials.fromEnvironment(environment)
            } throws: { error in
                guard let error = error as? S3Error else { return false }
                return error.code == .missingCredentials && error.message.hasPrefix(missing)
            }
        }
        #expect(throws: S3Error.self) {
            _ = try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "line\nbreak"])
        }
    }

    @Test func selectsTheStorage() throws {
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]
        let s3 = try BlobStorageLocation.parse("s3://pix-images/run1?endpoint=http://127.0.0.1:9000", environment: environment)
        guard case .s3(let location) = s3 else {
            Issue.record("expected an S3 location, got \(s3)")
            return
        }
        #expect(location.bucket == "pix-images" && location.prefix == "run1" && location.region == "eu-west-1")
        let store = try s3.makeBlobStore(environment: environment)
        let key = try BlobKey(sha256: String(repeating: "ab", count: 32), format: .png)
        #expect(store is S3BlobStore)
        #expect(store.storageURL(for: key) == "s3://pix-images/run1/images/ab/ab/\(key.sha256).png")

        #expect(BlobStorageLocation.environmentVariable == "PIXCRAWL_STORAGE_URL")
        #expect(
            try BlobStorageLocation.parse("storage", environment: [:])
                == .local(URL(fileURLWithPath: "storage").standardizedFileURL))
        let file = try BlobStorageLocation.parse("file:///var/lib/pix/storage/", environment: [:])
        guard case .local(let directory) = file else {
            Issue.record("expected a local directory, got \(file)")
            return
        }
        #expect(directory.path == "/var/lib/pix/storage" && directory.isFileURL)
        let local = try BlobStorageLocation.parse("/tmp/pix-storage", environment: [:]).makeBlobStore(environment: [:])
        #expect(local is LocalBlobStore)
        #expect(throws: S3Error.self) { _ = try BlobStorageLocation.parse("gs://bucket/x", environment: [:]) }
        #expect(throws: S3Error.self) { _ = try BlobStorageLocation.parse("  ", environment: [:]) }
        #expect {
            _ = try s3.makeBlobStore(environment: ["AWS_SECRET_ACCESS_KEY": "secret"])
        } throws: { ($0 as? S3Error)?.message.contains("AWS_ACCESS_KEY_ID") == true }
    }
}
