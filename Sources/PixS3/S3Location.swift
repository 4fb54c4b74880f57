import Foundation

/// Where S3 objects live: an endpoint, a region, a bucket, a key prefix and how the bucket is addressed.
///
/// Written as a URL, the form `PIXCRAWL_STORAGE_URL` takes:
///
/// ```
/// s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&addressing=path|virtual]
/// s3://pixcrawl-images/crawls                                     AWS, region from AWS_REGION
/// s3://images/dev?endpoint=http://127.0.0.1:9000&region=us-east-1  MinIO or moto, path-style
/// ```
///
/// - `endpoint`: `http` or `https`, a host and an optional port, no path. Default:
///   `https://s3.<region>.amazonaws.com`.
/// - `region`: default `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
/// - `addressing`: `virtual` puts the bucket in the host name (`bucket.s3.<region>.amazonaws.com`), `path`
///   puts it first in the path (`host/bucket/key`). Default: virtual-host for AWS (path-style when the
///   bucket name has a dot, which a TLS wildcard certificate cannot cover), path-style when an endpoint is
///   given (MinIO, moto, R2 and most S3-compatible servers).
///
/// The prefix is kept without leading or trailing slashes; an empty prefix puts objects at the bucket's root.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    /// How the bucket appears in request URLs.
    public enum Addressing: String, Sendable, Hashable, CaseIterable {
        /// `scheme://host/bucket/key`.
        case path
        /// `scheme://bucket.host/key`.
        case virtualHost = "virtual"
    }

    /// Scheme, host and port of an S3 API endpoint.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `http` or `https`.
        public let scheme: String
        /// Lowercased host name, or an IP address (IPv6 in brackets, `[::1]`).
        public let host: String
        /// The port, when the URL names one.
        public let port: Int?

        /// Parses `http(s)://host[:port][/]`.
        /// - Throws: ``S3Error/Code/invalidLocation`` for another scheme, user information, a path, a query
        ///   or a bad host or port.
        public init(_ value: String) throws(S3Error) {
            func invalid(_ why: String) -> S3Error {
                S3Error(code: .invalidLocation, message: "endpoint \(S3Location.redacted(value).debugDescription): \(why)")
            }
            guard let separator = value.range(of: "://") else { throw invalid("expected http://HOST[:PORT]") }
            let scheme = value[..<separator.lowerBound].lowercased()
            guard scheme == "http" || scheme == "https" else { throw invalid("the scheme must be http or https") }
            var authority = value[separator.upperBound...]
            if let slash = authority.firstIndex(of: "/") {
                guard authority[slash...] == "/" else { throw invalid("an endpoint has no path") }
                authority = authority[..<slash]
            }
            guard !authority.contains("?"), !authority.contains("#") else {
                throw invalid("an endpoint has no query or fragment")
            }
            guard !authority.contains("@") else {
                throw invalid("credentials do not belong in the endpoint; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
            }
            var host: Substring
            var portText: Substring?
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
                host = authority[...close]
                let rest = authority[authority.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                    portText = rest.dropFirst()
                }
                let inner = host.dropFirst().dropLast()
                guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                    throw invalid("bad IPv6 address")
                }
            } else {
                if let colon = authority.lastIndex(of: ":") {
                    host = authority[..<colon]
                    portText = authority[authority.index(after: colon)...]
                } else {
                    host = authority
                }
                guard !host.isEmpty,
                    host.unicodeScalars.allSatisfy({
                        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                            || $0 == "-" || $0 == "." || $0 == "_"
                    })
                else { throw invalid("bad host name") }
            }
            var port: Int?
            if let portText {
                guard let number = Int(portText), (1...65535).contains(number), portText.allSatisfy(\.isASCII) else {
                    throw invalid("the port must be 1-65535")
                }
                port = number
            }
            self.scheme = scheme
            self.host = host.lowercased()
            self.port = port
        }

        /// True when the host is an IPv4 or IPv6 address rather than a name.
        public var hostIsIPAddress: Bool {
            if host.hasPrefix("[") { return true }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        }

        /// `host` or `host:port` as the `Host` header carries it (the default port of the scheme is left out).
        public var authority: String {
            guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
            return "\(host):\(port)"
        }

        /// `scheme://host[:port]`.
        public var description: String {
            port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
        }
    }

    /// The bucket name.
    public let bucket: String
    /// The key prefix without leading or trailing slashes; empty for the bucket's root.
    public let prefix: String
    /// The S3 API endpoint.
    public let endpoint: Endpoint
    /// The signing region (`us-east-1`, `eu-central-1`, `auto` for R2, …).
    public let region: String
    /// How the bucket is addressed.
    public let addressing: Addressing

    /// Creates a location from its parts.
    /// - Parameters:
    ///   - bucket: a bucket name valid under S3's naming rules.
    ///   - prefix: a key prefix; leading, trailing and repeated slashes are dropped.
    ///   - endpoint: the API endpoint; default `https://s3.<region>.amazonaws.com`.
    ///   - region: the signing region.
    ///   - addressing: default virtual-host for AWS, path-style for a given endpoint (see the type's notes).
    /// - Throws: ``S3Error/Code/invalidLocation`` for a bad bucket, prefix or region, or virtual-host addressing
    ///   on an IP-address endpoint.
    public init(
        bucket: String, prefix: String = "", endpoint: Endpoint? = nil, region: String,
        addressing: Addressing? = nil
    ) throws(S3Error) {
        try Self.validateBucket(bucket)
        try Self.validateRegion(region)
        let resolved: Endpoint
        if let endpoint { resolved = endpoint } else { resolved = try Endpoint("https://s3.\(region).amazonaws.com") }
        let mode = addressing ?? (endpoint == nil && !bucket.contains(".") ? .virtualHost : .path)
        if mode == .virtualHost && resolved.hostIsIPAddress {
            throw S3Error(
                code: .invalidLocation,
                message: "virtual-host addressing needs a host name, not the IP address \(resolved.host); "
                    + "use addressing=path (or a name such as localhost)")
        }
        self.bucket = bucket
        self.prefix = try Self.normalizePrefix(prefix)
        self.endpoint = resolved
        self.region = region
        self.addressing = mode
    }

    /// Parses `s3://BUCKET[/PREFIX][?endpoint=…&region=…&addressing=path|virtual]`.
    /// - Parameters:
    ///   - value: the URL, e.g. the value of `PIXCRAWL_STORAGE_URL`.
    ///   - environment: where the default region comes from (`AWS_REGION`, then `AWS_DEFAULT_REGION`).
    /// - Throws: ``S3Error/Code/invalidLocation`` saying what is wrong.
    public static func parse(_ value: String, environment: [String: String]) throws(S3Error) -> S3Location {
        func invalid(_ why: String) -> S3Error {
            S3Error(code: .invalidLocation, message: "\(why) (in \(Self.redacted(value).debugDescription))")
        }
        guard value.lowercased().hasPrefix("s3://") else { throw invalid("an S3 location starts with s3://") }
        var rest = Substring(value.dropFirst(5))
        guard !rest.contains("#") else { throw invalid("an S3 location has no fragment") }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        let bucket: Substring
        var prefix: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
        }
        guard !bucket.isEmpty else { throw invalid("the bucket name is missing (s3://BUCKET/PREFIX)") }
        guard let decodedPrefix = String(prefix).removingPercentEncoding else {
            throw invalid("the prefix has a bad percent escape")
        }

        var options: [String: String] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard ["endpoint", "region", "addressing"].contains(name) else {
                throw invalid("unknown option '\(name)': the options are endpoint, region and addressing")
            }
            guard options[name] == nil else { throw invalid("option '\(name)' is given twice") }
            guard parts.count == 2, let decoded = String(parts[1]).removingPercentEncoding, !decoded.isEmpty else {
                throw invalid("option '\(name)' needs a value")
            }
            options[name] = decoded
        }

        let region =
            options["region"] ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        var addressing: Addressing?
        if let mode = options["addressing"] {
            guard let parsed = Addressing(rawValue: mode) else {
                throw invalid("addressing must be 'path' or 'virtual', not '\(mode)'")
            }
            addressing = parsed
        }
        let endpoint = try options["endpoint"].map { value throws(S3Error) in try Endpoint(value) }
        return try S3Location(
            bucket: String(bucket), prefix: decodedPrefix, endpoint: endpoint, region: region, addressing: addressing)
    }

    /// The full object key for a key relative to ``prefix`` (`prefix/relative`, or `relative` at the root).
    public func key(for relative: String) -> String {
        prefix.isEmpty ? relative : "\(prefix)/\(relative)"
    }

    /// The `s3://` URL of an object: `s3://bucket/key`.
    public func objectURL(for key: String) -> String {
        "s3://\(bucket)/\(key)"
    }

    /// The `s3://` form this location parses from, with every option spelled out.
    public var description: String {
        let base = prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        return "\(base)?endpoint=\(endpoint)&region=\(region)&addressing=\(addressing.rawValue)"
    }

    // MARK: - Validation

    /// Checks a bucket name against S3's rules for general purpose buckets.
    /// - Throws: ``S3Error/Code/invalidLocation`` naming the rule that is broken.
    public static func validateBucket(_ name: String) throws(S3Error) {
        func invalid(_ why: String) -> S3Error {
            S3Error(code: .invalidLocation, message: "bucket name \(name.debugDescription) \(why)")
        }
        let scalars = name.unicodeScalars
        guard (3...63).contains(scalars.count) else { throw invalid("must be 3 to 63 characters long") }
        func isLowerAlnum(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        guard scalars.allSatisfy({ isLowerAlnum($0) || $0 == "." || $0 == "-" }) else {
            throw invalid("may hold only lowercase letters, digits, dots and hyphens")
        }
        guard isLowerAlnum(scalars.first!), isLowerAlnum(scalars.last!) else {
            throw invalid("must begin and end with a letter or digit")
        }
        guard !name.contains("..") else { throw invalid("must not contain two adjacent dots") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            throw invalid("must not look like an IP address")
        }
        for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(reserved) {
            throw invalid("must not start with the reserved prefix \(reserved)")
        }
        for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(reserved) {
            throw invalid("must not end with the reserved suffix \(reserved)")
        }
    }

    private static func validateRegion(_ region: String) throws(S3Error) {
        guard !region.isEmpty, region.count <= 64,
            region.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    || $0 == "_"
            })
        else {
            throw S3Error(
                code: .invalidLocation,
                message: "region \(region.debugDescription) may hold only letters, digits, '-' and '_'")
        }
    }

    private static func normalizePrefix(_ prefix: String) throws(S3Error) -> String {
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments where segment == "." || segment == ".." {
            throw S3Error(
                code: .invalidLocation, message: "prefix \(prefix.debugDescription) must not hold '.' or '..' segments")
        }
        guard !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw S3Error(code: .invalidLocation, message: "prefix \(prefix.debugDescription) holds a control character")
        }
        let normalized = segments.joined(separator: "/")
        guard normalized.utf8.count <= 512 else {
            throw S3Error(code: .invalidLocation, message: "prefix is longer than 512 bytes")
        }
        return normalized
    }

    /// The URL with any user information in an `endpoint=` option replaced, for error messages.
    fileprivate static func redacted(_ value: String) -> String {
        guard let at = value.firstIndex(of: "@"), let scheme = value[..<at].range(of: "://", options: .backwards)
        else { return value }
        return String(value[..<scheme.upperBound]) + "…" + String(value[at...])
    }
}
