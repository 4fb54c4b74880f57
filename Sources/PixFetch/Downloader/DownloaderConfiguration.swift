import PixCore

/// Everything a ``Downloader`` enforces. Start from `DownloaderConfiguration()` and change what you need.
public struct DownloaderConfiguration: Hashable, Sendable {
    /// Which HTTP version to offer.
    public enum HTTPVersionPreference: Hashable, Sendable {
        /// HTTP/2 over TLS when the server offers it (ALPN), HTTP/1.1 otherwise.
        case http2WhenOffered
        /// Always HTTP/1.1.
        case http1
    }

    /// Pins a host name to fixed addresses, like curl's `--resolve HOST:PORT:ADDRESS`.
    /// The address guard still judges the pinned addresses.
    public struct HostPin: Hashable, Sendable {
        /// The host name as it appears in URLs.
        public var host: String
        /// The port the pin applies to.
        public var port: Int
        /// Addresses to connect to instead of asking DNS.
        public var addresses: [IPAddress]

        /// Creates a pin.
        public init(host: String, port: Int, addresses: [IPAddress]) {
            self.host = host
            self.port = port
            self.addresses = addresses
        }

        var curlEntry: String {
            let list = addresses.map { $0.family == .v6 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
            return "\(host):\(port):\(list)"
        }
    }

    /// Sent with every request; names PixCrawler, its version and a contact URL.
    public var userAgent: String = PixCrawlVersion.userAgent()
    /// The product token robots.txt groups and `X-Robots-Tag` scopes are matched against.
    public var robotsProductToken: String = "PixCrawler"
    /// Transfers in flight at once, over all hosts.
    public var maxConcurrentTransfers: Int = 32
    /// Transfers in flight at once to one `scheme://host:port`; further requests wait their turn.
    public var maxTransfersPerHost: Int = 4
    /// Time allowed to establish a connection (including name resolution and TLS).
    public var connectTimeout: Duration = .seconds(10)
    /// Time allowed for a whole transfer, redirects included.
    public var totalTimeout: Duration = .seconds(60)
    /// Bytes per second below which a transfer counts as stalled; 0 disables the low-speed abort.
    public var lowSpeedLimit: Int = 1024
    /// How long a transfer may stay below ``lowSpeedLimit`` before it is aborted.
    public var lowSpeedTime: Duration = .seconds(20)
    /// Redirects followed before giving up.
    public var maxRedirects: Int = 5
    /// The largest body accepted (after content decoding). Checked against `Content-Length` before the body
    /// arrives and enforced while streaming: the transfer is aborted as soon as the cap is passed.
    public var maxBodyBytes: Int = 32 * 1024 * 1024
    /// The `Accept-Encoding` offer: `""` offers every encoding libcurl can decode, `nil` sends none.
    public var acceptEncoding: String? = ""
    /// Which HTTP version to offer.
    public var httpVersion: HTTPVersionPreference = .http2WhenOffered
    /// Headers sent with every request (before the request's own headers).
    public var headers: HTTPHeaders = [:]
    /// How failed requests are retried.
    public var retryPolicy: RetryPolicy = RetryPolicy()
    /// Which destination addresses may be connected to.
    public var addressPolicy: AddressPolicy = .publicOnly
    /// Consult robots.txt (fetched per `scheme://host:port`, cached as ``robotsCacheLifetime`` and
    /// ``robotsCacheHosts`` say) before fetching. On by default; turning it off
    /// is the operator's explicit decision.
    public var respectRobotsTxt: Bool = true
    /// Reject responses whose `X-Robots-Tag` says `noai`, `noimageai`, `none` or `noindex` for the crawler.
    /// On by default; turning it off is the operator's explicit decision.
    public var respectRobotsTag: Bool = true
    /// The part of a robots.txt that is read; the rest is ignored (RFC 9309 asks for at least 500 KiB).
    public var robotsMaxBytes: Int = 512 * 1024
    /// The most origins whose robots.txt is kept; the least recently used is dropped beyond that.
    public var robotsCacheHosts: Int = 10_000
    /// How long a fetched robots.txt (or a 4xx standing for allow-all) is kept; capped at 24 hours (RFC 9309).
    public var robotsCacheLifetime: Duration = .seconds(24 * 60 * 60)
    /// How long a 429, 5xx or unreachable robots.txt counts as disallow-all before it is fetched again.
    public var robotsErrorLifetime: Duration = .seconds(5 * 60)
    /// Host names pinned to fixed addresses instead of DNS.
    public var hostPins: [HostPin] = []

    /// Creates the default configuration: public addresses only, robots honoured, 32 transfers, 4 per host.
    public init() {}
}
