import Foundation
import PixBlob
import PixCore

/// Staged URL lists in S3-compatible object storage: `<prefix>/lists/<key>`, uploaded from a local file (in parts
/// when large) and read with ranged `GET`s.
public struct S3ListObjectStore: ListObjectStore {
    /// The S3 client.
    public let client: S3Client

    /// Creates a store over `client`, under `client.location.prefix`.
    public init(client: S3Client) {
        self.client = client
    }

    /// The object key of the list object `key`.
    public func objectKey(_ key: String) -> String {
        client.location.key(for: "lists/\(key)")
    }

    @discardableResult
    public func put(contentsOf path: String, key: String) throws -> Bool {
        if try client.headObject(key: objectKey(key)) != nil { return false }
        try client.putObject(key: objectKey(key), file: URL(fileURLWithPath: path))
        return true
    }

    public func read(_ key: String, at offset: Int64, count: Int) throws -> [UInt8] {
        try client.getObject(key: objectKey(key), offset: offset, count: count)
    }

    public func size(_ key: String) throws -> Int64? {
        try client.headObject(key: objectKey(key))?.size
    }

    @discardableResult
    public func delete(_ key: String) throws -> Bool {
        try client.deleteObject(key: objectKey(key))
    }
}

extension BlobStorageLocation {
    /// The store for staged URL lists at this location.
    /// - Parameter environment: where S3 credentials come from; unused for a local directory.
    /// - Throws: ``S3Error/Code/missingCredentials`` naming the missing variable.
    public func makeListStore(
        environment: [String: String], configuration: S3Client.Configuration = S3Client.Configuration()
    ) throws(S3Error) -> any ListObjectStore {
        switch self {
        case .local(let root):
            return LocalListObjectStore(root: root)
        case .s3(let location):
            let credentials = try S3Credentials.fromEnvironment(environment)
            return S3ListObjectStore(
                client: S3Client(location: location, credentials: credentials, configuration: configuration))
        }
    }
}
