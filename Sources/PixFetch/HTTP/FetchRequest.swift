/// One HTTP request for the ``Downloader``.
public struct FetchRequest: Sendable, Hashable {
    /// The request method.
    public enum Method: String, Sendable, Hashable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
    }

    /// An absolute `http` or `https` URL.
    public var url: String
    /// The request method; `GET` unless a source needs something else (a token endpoint's `POST`).
    public var method: Method
    /// Extra request headers (e.g. `Authorization`), sent after ``DownloaderConfiguration/headers``.
    public var headers: HTTPHeaders
    /// The request body for `POST`.
    public var body: [UInt8]?
    /// Overrides ``DownloaderConfiguration/maxBodyBytes`` for this request.
    public var maxBodyBytes: Int?
    /// Whether robots.txt is consulted before fetching; it is only consulted when the configuration also says so.
    public var respectRobotsTxt: Bool
    /// Whether an `X-Robots-Tag` opt-out on the response rejects it; applied only when the configuration also says so.
    /// Meant for image responses; a search API request turns it off.
    public var respectRobotsTag: Bool
    /// Overrides ``DownloaderConfiguration/retryPolicy`` for this request.
    public var retryPolicy: RetryPolicy?

    /// Creates a request.
    /// - Parameters:
    ///   - url: an absolute `http` or `https` URL.
    ///   - method: the request method.
    ///   - headers: extra request headers.
    ///   - body: the body of a `POST`.
    ///   - maxBodyBytes: a body-size cap for this request instead of the configured one.
    ///   - respectRobotsTxt: `false` skips the robots.txt check for this request.
    ///   - respectRobotsTag: `false` ignores `X-Robots-Tag` on this response.
    ///   - retryPolicy: a retry policy for this request instead of the configured one.
    public init(
        url: String, method: Method = .get, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
        maxBodyBytes: Int? = nil, respectRobotsTxt: Bool = true, respectRobotsTag: Bool = true,
        retryPolicy: RetryPolicy? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.maxBodyBytes = maxBodyBytes
        self.respectRobotsTxt = respectRobotsTxt
        self.respectRobotsTag = respectRobotsTag
        self.retryPolicy = retryPolicy
    }
}
