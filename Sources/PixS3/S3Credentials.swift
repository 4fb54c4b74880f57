/// An access key pair (and optional session token) for signing S3 requests.
///
/// The secret and the token never appear in `description`, `debugDescription`, `dump` or an error.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key ID (`AKIA…` for AWS; any non-empty value for MinIO or moto).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials, sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Creates credentials.
    /// - Throws: ``S3Error/Code/missingCredentials`` when a value is empty or holds a control character
    ///   (which would corrupt the request headers).
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) throws(S3Error) {
        try Self.check(accessKeyID, "the access key ID")
        try Self.check(secretAccessKey, "the secret access key")
        if let sessionToken { try Self.check(sessionToken, "the session token") }
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when set and non-empty, `AWS_SESSION_TOKEN`.
    /// - Parameter environment: the process environment (`ProcessInfo.processInfo.environment`).
    /// - Throws: ``S3Error/Code/missingCredentials`` naming the variable that is missing or empty.
    public static func fromEnvironment(_ environment: [String: String]) throws(S3Error) -> S3Credentials {
        func required(_ name: String) throws(S3Error) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw S3Error(
                    code: .missingCredentials,
                    message: "\(name) is not set: S3 storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            return value
        }
        let accessKey = try required("AWS_ACCESS_KEY_ID")
        let secret = try required("AWS_SECRET_ACCESS_KEY")
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            return try S3Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token)
        } catch {
            throw S3Error(code: .missingCredentials, message: "from the environment: \(error.message)")
        }
    }

    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"], displayStyle: .struct)
    }

    private static func check(_ value: String, _ what: String) throws(S3Error) {
        guard !value.isEmpty else { throw S3Error(code: .missingCredentials, message: "\(what) is empty") }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw S3Error(code: .missingCredentials, message: "\(what) contains a control character")
        }
    }
}
