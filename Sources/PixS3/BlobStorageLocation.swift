import Foundation
import Logging
import PixBlob

/// Where blobs are stored, as `PIXCRAWL_STORAGE_URL` names it, and the ``BlobStore`` for it.
///
/// ```
/// PIXCRAWL_STORAGE_URL=storage                                   local directory (relative to the working directory)
/// PIXCRAWL_STORAGE_URL=file:///var/lib/pixcrawl/storage          local directory
/// PIXCRAWL_STORAGE_URL=s3://pixcrawl-images/crawls               AWS S3, region from AWS_REGION
/// PIXCRAWL_STORAGE_URL=s3://images/dev?endpoint=http://minio:9000&region=us-east-1
/// ```
///
/// An `s3://` location takes the options `endpoint`, `region` and `addressing=path|virtual` (see
/// ``S3Location``); its credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for temporary
/// credentials, `AWS_SESSION_TOKEN`. The selector lives here, not in PixBlob, so PixBlob stays free of libcurl.
public enum BlobStorageLocation: Sendable, Hashable, CustomStringConvertible {
    /// A directory on the local file system (``LocalBlobStore``).
    case local(URL)
    /// A bucket and prefix in S3-compatible object storage (``S3BlobStore``).
    case s3(S3Location)

    /// The environment variable that selects the storage: `PIXCRAWL_STORAGE_URL`.
    public static let environmentVariable = "PIXCRAWL_STORAGE_URL"

    /// Parses a storage URL: `s3://…`, `file:///…`, or a plain path.
    /// - Parameters:
    ///   - value: the URL or path.
    ///   - environment: supplies the default S3 region (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    /// - Throws: ``S3Error/Code/invalidLocation`` for an empty value, another scheme or a bad `s3://` URL.
    public static func parse(_ value: String, environment: [String: String]) throws(S3Error) -> BlobStorageLocation {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw S3Error(code: .invalidLocation, message: "the storage location is empty")
        }
        let lowered = trimmed.lowercased()
        if lowered.hasPrefix("s3://") {
            return .s3(try S3Location.parse(trimmed, environment: environment))
        }
        if lowered.hasPrefix("file://") {
            guard let url = URL(string: trimmed), url.isFileURL, !url.path.isEmpty else {
                throw S3Error(
                    code: .invalidLocation, message: "\(trimmed.debugDescription) is not a file URL (file:///path)")
            }
            return .local(url.standardizedFileURL)
        }
        if let scheme = trimmed.range(of: "://"),
            trimmed[..<scheme.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) })
        {
            throw S3Error(
                code: .invalidLocation,
                message: "unsupported storage URL scheme '\(trimmed[..<scheme.lowerBound])': use a path, file:// or s3://")
        }
        return .local(URL(fileURLWithPath: trimmed).standardizedFileURL)
    }

    /// Makes the blob store for this location.
    /// - Parameters:
    ///   - environment: supplies S3 credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///     `AWS_SESSION_TOKEN`); unused for a local directory.
    ///   - configuration: the S3 client's settings.
    ///   - logger: the S3 client's logger.
    ///   - verifiesDigest: hash every stored content and refuse mismatched keys.
    /// - Throws: ``S3Error/Code/missingCredentials`` naming the missing variable.
    public func makeBlobStore(
        environment: [String: String], configuration: S3Client.Configuration = S3Client.Configuration(),
        logger: Logger = Logger(label: "pixcrawl.s3"), verifiesDigest: Bool = false
    ) throws(S3Error) -> any BlobStore {
        switch self {
        case .local(let root):
            return LocalBlobStore(root: root, verifiesDigest: verifiesDigest)
        case .s3(let location):
            let credentials = try S3Credentials.fromEnvironment(environment)
            return S3BlobStore(
                location: location, credentials: credentials, configuration: configuration, logger: logger,
                verifiesDigest: verifiesDigest)
        }
    }

    /// `file:///…` or the `s3://` form with every option spelled out.
    public var description: String {
        switch self {
        case .local(let url): url.absoluteString
        case .s3(let location): location.description
        }
    }
}
