/// Where the time of one transfer went, as measured by libcurl (last attempt only).
public struct FetchTiming: Hashable, Sendable {
    /// Until name resolution finished.
    public var nameLookup: Duration
    /// Until the TCP connection was established.
    public var connect: Duration
    /// Until the TLS handshake finished (zero for plain HTTP).
    public var tlsHandshake: Duration
    /// Until the first response byte arrived.
    public var firstByte: Duration
    /// Spent following redirects.
    public var redirects: Duration
    /// The whole transfer.
    public var total: Duration

    /// Creates a timing record.
    public init(
        nameLookup: Duration = .zero, connect: Duration = .zero, tlsHandshake: Duration = .zero,
        firstByte: Duration = .zero, redirects: Duration = .zero, total: Duration = .zero
    ) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.tlsHandshake = tlsHandshake
        self.firstByte = firstByte
        self.redirects = redirects
        self.total = total
    }
}

/// A successful (2xx) response, after redirects and retries.
public struct FetchResponse: Sendable, Hashable {
    /// The URL that was asked for.
    public var requestedURL: String
    /// The URL the body came from, after redirects.
    public var url: String
    /// The HTTP status code (2xx).
    public var status: Int
    /// The final response's headers, names lowercased.
    public var headers: HTTPHeaders
    /// The body, decoded from any `Content-Encoding`; never longer than the body-size cap.
    public var body: [UInt8]
    /// The IP address the body came from.
    public var remoteAddress: String?
    /// The remote port the body came from.
    public var remotePort: Int?
    /// The HTTP version spoken: `"1.0"`, `"1.1"`, `"2"` or `"3"`.
    public var httpVersion: String
    /// How many redirects were followed.
    public var redirectCount: Int
    /// Timing of the last attempt.
    public var timing: FetchTiming
    /// How many attempts were made (1 when the first one succeeded).
    public var attempts: Int

    /// Creates a response.
    public init(
        requestedURL: String, url: String, status: Int, headers: HTTPHeaders, body: [UInt8],
        remoteAddress: String?, remotePort: Int?, httpVersion: String, redirectCount: Int,
        timing: FetchTiming, attempts: Int
    ) {
        self.requestedURL = requestedURL
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.httpVersion = httpVersion
        self.redirectCount = redirectCount
        self.timing = timing
        self.attempts = attempts
    }

    /// The `Content-Type` header, if any (never trusted for the format; validation sniffs bytes).
    public var contentType: String? { headers["content-type"] }
}
