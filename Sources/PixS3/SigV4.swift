import Crypto
import Foundation

/// AWS Signature Version 4 in pure Swift: signing-key derivation, canonical request, string to sign, the
/// `Authorization` header and query-string presigning (the form presigned S3 URLs take).
///
/// ``S3Client`` lets libcurl sign its own requests (`CURLOPT_AWS_SIGV4`); this type signs what libcurl does
/// not: presigned GET URLs handed to people, and it is checked against AWS's published examples.
public struct SigV4: Sendable {
    /// `AWS4-HMAC-SHA256`.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a request whose body is not signed (presigned URLs, streamed uploads).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The longest lifetime S3 accepts for a presigned URL: seven days, in seconds.
    public static let maximumExpiry = 604_800

    /// A request to sign.
    public struct Request: Sendable {
        /// `GET`, `PUT`, … (uppercase).
        public var method: String
        /// The `Host` header: `host` or `host:port` when the port is not the scheme's default.
        public var host: String
        /// The URI path exactly as sent, already percent-encoded (see ``SigV4/uriEncode(_:encodingSlash:)``).
        public var path: String
        /// Query parameters, not encoded; the canonical query encodes and sorts them.
        public var query: [(name: String, value: String)]
        /// Headers besides `Host`, `X-Amz-Date` and `X-Amz-Security-Token`, which signing adds.
        public var headers: [(name: String, value: String)]
        /// Hex SHA-256 of the body, or ``SigV4/unsignedPayload``.
        public var payloadHash: String

        /// Creates a request to sign.
        public init(
            method: String, host: String, path: String, query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)] = [], payloadHash: String = SigV4.emptyPayloadHash
        ) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// What signing produced, intermediate steps included (so a mismatch can be traced to its step).
    public struct Signature: Sendable {
        /// The canonical request.
        public let canonicalRequest: String
        /// The string to sign.
        public let stringToSign: String
        /// The hex signature.
        public let signature: String
        /// `host;x-amz-date;…`.
        public let signedHeaders: String
        /// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (header signing only).
        public let authorization: String
        /// The headers to send along: `X-Amz-Date`, `X-Amz-Security-Token` when set, `Authorization`.
        public let headers: [(name: String, value: String)]
        /// The query string to send, canonical order, `X-Amz-Signature` last (presigning only).
        public let query: String
    }

    /// The credentials requests are signed with.
    public let credentials: S3Credentials
    /// The signing region.
    public let region: String
    /// The signing service name (`s3`).
    public let service: String

    /// Creates a signer.
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs `request` with an `Authorization` header, as of `date`.
    public func sign(_ request: Request, at date: Date) -> Signature {
        let amzDate = Self.amzDate(date)
        var headers = request.headers
        headers.append((name: "host", value: request.host))
        headers.append((name: "x-amz-date", value: amzDate))
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonical = [
            request.method, request.path, Self.canonicalQuery(request.query), canonicalHeaders, signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = finish(canonical, amzDate: amzDate)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(amzDate)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        var extra: [(name: String, value: String)] = [(name: "X-Amz-Date", value: amzDate)]
        if let token = credentials.sessionToken { extra.append((name: "X-Amz-Security-Token", value: token)) }
        extra.append((name: "Authorization", value: authorization))
        return Signature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, authorization: authorization, headers: extra,
            query: Self.canonicalQuery(request.query))
    }

    /// Presigns `request` in its query string (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
    /// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` when set, then `X-Amz-Signature`).
    /// - Parameters:
    ///   - request: the request; its payload hash is normally ``unsignedPayload``.
    ///   - expiresIn: seconds the URL stays valid, 1…604800.
    ///   - date: the signing time; the URL works from then until `date + expiresIn`.
    /// - Throws: ``S3Error/Code/invalidArgument`` when `expiresIn` is out of range.
    public func presign(_ request: Request, expiresIn: Int, at date: Date) throws(S3Error) -> Signature {
        guard (1...Self.maximumExpiry).contains(expiresIn) else {
            throw S3Error(
                code: .invalidArgument,
                message: "a presigned URL expires after 1 to \(Self.maximumExpiry) seconds (7 days), not \(expiresIn)")
        }
        let amzDate = Self.amzDate(date)
        var headers = request.headers
        headers.append((name: "host", value: request.host))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        var query = request.query
        query.append((name: "X-Amz-Algorithm", value: Self.algorithm))
        query.append((name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope(amzDate))"))
        query.append((name: "X-Amz-Date", value: amzDate))
        query.append((name: "X-Amz-Expires", value: String(expiresIn)))
        query.append((name: "X-Amz-SignedHeaders", value: signedHeaders))
        if let token = credentials.sessionToken { query.append((name: "X-Amz-Security-Token", value: token)) }
        let canonicalQuery = Self.canonicalQuery(query)
        let canonical = [
            request.method, request.path, canonicalQuery, canonicalHeaders, signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = finish(canonical, amzDate: amzDate)
        return Signature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, authorization: "", headers: [],
            query: "\(canonicalQuery)&X-Amz-Signature=\(signature)")
    }

    // MARK: - Steps

    /// `YYYYMMDD/region/service/aws4_request`.
    private func scope(_ amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func finish(_ canonicalRequest: String, amzDate: String) -> (stringToSign: String, signature: String) {
        let stringToSign = [
            Self.algorithm, amzDate, scope(amzDate), Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let key = Self.signingKey(
            secret: credentials.secretAccessKey, dateStamp: String(amzDate.prefix(8)), region: region, service: service)
        return (stringToSign, Self.hex(Self.hmac(key, Array(stringToSign.utf8))))
    }

    /// The derived signing key: HMAC chain of `AWS4<secret>`, the date, the region, the service and `aws4_request`.
    /// - Parameter dateStamp: `YYYYMMDD`.
    public static func signingKey(secret: String, dateStamp: String, region: String, service: String) -> [UInt8] {
        var key = hmac(Array("AWS4\(secret)".utf8), Array(dateStamp.utf8))
        key = hmac(key, Array(region.utf8))
        key = hmac(key, Array(service.utf8))
        return hmac(key, Array("aws4_request".utf8))
    }

    /// Lowercased, sorted header lines (`name:value\n` each, values trimmed and inner runs of spaces folded,
    /// repeated names joined with commas) and the `;`-joined signed header names.
    public static func canonicalHeaders(
        _ headers: [(name: String, value: String)]
    ) -> (canonical: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for header in headers {
            let folded = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[header.name.lowercased(), default: []].append(folded)
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// The canonical query string: names and values URI-encoded (`/` too), sorted by name, then value.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = items.map { item in
            (name: uriEncode(item.name, encodingSlash: true), value: uriEncode(item.value, encodingSlash: true))
        }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { item in "\(item.name)=\(item.value)" }.joined(separator: "&")
    }

    /// Percent-encodes every byte of the UTF-8 form except `A-Z a-z 0-9 - . _ ~` (and `/` when
    /// `encodingSlash` is false), with uppercase hex digits, as SigV4 and S3 object paths require.
    public static func uriEncode(_ value: String, encodingSlash: Bool) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: "/") where !encodingSlash:
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let civil = CivilTime(date)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(civil.year)\(two(civil.month))\(two(civil.day))T\(two(civil.hour))\(two(civil.minute))"
            + "\(two(civil.second))Z"
    }

    /// Lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
