/// Why an S3 operation, or parsing an S3 setting, failed.
///
/// Errors never carry the secret access key or the session token: messages name the variable, the bucket,
/// the key and the operation, and for HTTP failures the status, S3's error code and S3's message.
public struct S3Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; compare with the static members (`error.code == .http`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidLocation, missingCredentials, invalidArgument, http, transport, io, invalidResponse
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An `s3://` URL, endpoint, bucket name, prefix or region is malformed.
        public static let invalidLocation = Code(.invalidLocation)
        /// An access key, secret key or session token is missing or unusable.
        public static let missingCredentials = Code(.missingCredentials)
        /// An argument is out of range (an expiry, a part size, an empty key).
        public static let invalidArgument = Code(.invalidArgument)
        /// The server answered with an HTTP error status; see ``S3Error/status`` and ``S3Error/s3Code``.
        public static let http = Code(.http)
        /// The request never got an answer: connection refused, timed out, reset (libcurl's error).
        public static let transport = Code(.transport)
        /// A local file could not be read or written.
        public static let io = Code(.io)
        /// The server's answer could not be understood (an XML body without the expected elements).
        public static let invalidResponse = Code(.invalidResponse)

        public var description: String {
            switch base {
            case .invalidLocation: "invalid location"
            case .missingCredentials: "missing credentials"
            case .invalidArgument: "invalid argument"
            case .http: "HTTP error"
            case .transport: "transport error"
            case .io: "I/O error"
            case .invalidResponse: "invalid response"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for a person to act on.
    public let message: String
    /// The S3 operation that failed (`GetObject`, `PutObject`, `UploadPart`, …), when one did.
    public let operation: String?
    /// The bucket the operation addressed, when one did.
    public let bucket: String?
    /// The object key the operation addressed, when it addressed one.
    public let key: String?
    /// The HTTP status for ``Code/http`` errors.
    public let status: Int?
    /// S3's error code from the XML body (`NoSuchKey`, `NoSuchBucket`, `SignatureDoesNotMatch`, …), when sent.
    public let s3Code: String?

    /// Creates an error.
    public init(
        code: Code, message: String, operation: String? = nil, bucket: String? = nil, key: String? = nil,
        status: Int? = nil, s3Code: String? = nil
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.status = status
        self.s3Code = s3Code
    }

    /// True for a 404 answer (`NoSuchKey`, `NoSuchBucket`, `NoSuchUpload`).
    public var isNotFound: Bool { code == .http && status == 404 }

    public var description: String {
        var text = "s3 \(code)"
        if let operation { text += " in \(operation)" }
        if let bucket {
            text += " (bucket \(bucket)"
            if let key { text += ", key \(key.debugDescription)" }
            text += ")"
        } else if let key {
            text += " (key \(key.debugDescription))"
        }
        if let status { text += ": HTTP \(status)" }
        if let s3Code { text += " \(s3Code)" }
        return text + ": " + message
    }
}
