import Crypto
import Foundation
import PixS3

/// A fresh bucket on the test process's S3 server (see ``TestS3``), and clients for it.
public struct S3TestBucket {
    public let server: TestS3.Server
    public let name: String
    public let credentials: S3Credentials

    /// Starts (or reuses) the server and names a bucket no other test uses; `create` creates it.
    public init(_ label: String, create: Bool = true, prefix: String = "") throws {
        server = try TestS3.server()
        name = TestS3.bucketName(label)
        credentials = try S3Credentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey)
        self.prefix = prefix
        if create { try client().createBucket() }
    }

    public let prefix: String

    public func location(addressing: S3Location.Addressing = .path, endpoint: String? = nil) throws -> S3Location {
        try S3Location(
            bucket: name, prefix: prefix, endpoint: S3Location.Endpoint(endpoint ?? server.endpoint),
            region: server.region, addressing: addressing)
    }

    public func client(
        configuration: S3Client.Configuration = S3Client.Configuration(), addressing: S3Location.Addressing = .path,
        credentials: S3Credentials? = nil
    ) throws -> S3Client {
        S3Client(
            location: try location(addressing: addressing), credentials: credentials ?? self.credentials,
            configuration: configuration)
    }

    /// A deterministic, non-repeating byte pattern (so misplaced parts would show).
    public static func pattern(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// Lowercase hex MD5, what a single-part upload's ETag is.
    public static func md5Hex(_ bytes: [UInt8]) -> String {
        Insecure.MD5.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// A new empty scratch directory.
    public static func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixs3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// Whether `error` is an HTTP ``S3Error`` with this status and S3 code.
public func isS3Error(_ error: any Error, status: Int, code: String) -> Bool {
    guard let error = error as? S3Error else { return false }
    return error.code == .http && error.status == status && error.s3Code == code
}
