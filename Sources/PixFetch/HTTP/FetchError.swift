import PixCore

/// Why a fetch failed. Every error maps to exactly one PixCore ``ErrorCategory``.
public struct FetchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The specific failure; compare against the static members (`error.code == .bodyTooLarge`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case invalidURL = "invalid URL"
            case schemeNotAllowed = "scheme not allowed"
            case addressBlocked = "address blocked"
            case nameResolution = "name resolution failed"
            case connectionFailed = "connection failed"
            case timedOut = "timed out"
            case tooSlow = "transfer too slow"
            case tlsFailure = "TLS failure"
            case transferFailed = "transfer failed"
            case tooManyRedirects = "too many redirects"
            case httpStatus = "HTTP status"
            case rateLimited = "rate limited"
            case bodyTooLarge = "body too large"
            case robotsDisallowed = "disallowed by robots.txt"
            case robotsTag = "opted out by X-Robots-Tag"
            case hostPaused = "host paused"
            case shutDown = "downloader shut down"
        }

        fileprivate let base: Base

        /// The URL could not be parsed.
        public static let invalidURL = Code(base: .invalidURL)
        /// The URL (or a redirect) uses a scheme other than http or https. Category `BLOCKED`.
        public static let schemeNotAllowed = Code(base: .schemeNotAllowed)
        /// The destination address is not public and not allowed by the policy. Category `BLOCKED`.
        public static let addressBlocked = Code(base: .addressBlocked)
        /// The host name did not resolve. Category `NETWORK`.
        public static let nameResolution = Code(base: .nameResolution)
        /// No connection could be made or it broke mid-transfer. Category `NETWORK`, retried.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The connect or total timeout expired. Category `NETWORK`, retried.
        public static let timedOut = Code(base: .timedOut)
        /// The transfer stayed below the low-speed limit for too long (a slow drip). Category `NETWORK`.
        public static let tooSlow = Code(base: .tooSlow)
        /// TLS handshake or certificate verification failed. Category `NETWORK`.
        public static let tlsFailure = Code(base: .tlsFailure)
        /// Any other transfer failure reported by libcurl. Category `NETWORK`.
        public static let transferFailed = Code(base: .transferFailed)
        /// The redirect chain was longer than the limit. Category `HTTP_STATUS`.
        public static let tooManyRedirects = Code(base: .tooManyRedirects)
        /// The final response had a non-2xx status (4xx, or 5xx after retries). Category `HTTP_STATUS`.
        public static let httpStatus = Code(base: .httpStatus)
        /// 429 Too Many Requests after retries. Category `RATE_LIMIT`.
        public static let rateLimited = Code(base: .rateLimited)
        /// The body exceeded the size cap (by `Content-Length` or while streaming). Category `TOO_LARGE`.
        public static let bodyTooLarge = Code(base: .bodyTooLarge)
        /// robots.txt disallows the URL for the crawler. Category `ROBOTS`.
        public static let robotsDisallowed = Code(base: .robotsDisallowed)
        /// The response carries an `X-Robots-Tag` opt-out (`noai`, `noimageai`, `none`, `noindex`). Category `ROBOTS`.
        public static let robotsTag = Code(base: .robotsTag)
        /// The host asked the whole fleet to stay away (429/503 with `Retry-After`) for longer than a request waits.
        /// Category `RATE_LIMIT`.
        public static let hostPaused = Code(base: .hostPaused)
        /// The ``Downloader`` was shut down before the transfer finished. Category `NETWORK`.
        public static let shutDown = Code(base: .shutDown)

        /// A short name of the failure.
        public var description: String { base.rawValue }
    }

    /// The specific failure.
    public let code: Code
    /// The URL that was asked for (user information removed).
    public let url: String
    /// The last HTTP status received, when there was one.
    public let status: Int?
    /// The refused address for ``Code/addressBlocked``.
    public let blockedAddress: IPAddress?
    /// The class of ``blockedAddress``.
    public let blockedAddressClass: AddressClass?
    /// Body bytes libcurl delivered before the transfer was aborted (for ``Code/bodyTooLarge``): at most the cap
    /// plus one network read.
    public let bytesReceived: Int?
    /// How many attempts were made before giving up.
    public internal(set) var attempts: Int
    /// What happened, in words.
    public let reason: String
    /// The server's `Retry-After` on the last answer (429, 503), when it sent one.
    public internal(set) var retryAfter: Duration?
    /// The headers of the last non-2xx answer (rate-limit headers, say); empty otherwise.
    public internal(set) var responseHeaders: HTTPHeaders = [:]
    /// The start of the last non-2xx answer's body (at most 4 KiB: an API's error detail); empty otherwise.
    public internal(set) var responseBody: [UInt8] = []

    init(
        _ code: Code, url: String, reason: String, status: Int? = nil, blockedAddress: IPAddress? = nil,
        blockedAddressClass: AddressClass? = nil, bytesReceived: Int? = nil, attempts: Int = 1
    ) {
        self.code = code
        self.url = URLRedaction.redacted(url)
        self.reason = reason
        self.status = status
        self.blockedAddress = blockedAddress
        self.blockedAddressClass = blockedAddressClass
        self.bytesReceived = bytesReceived
        self.attempts = attempts
    }

    /// The PixCore category this failure is recorded under.
    public var category: ErrorCategory {
        switch code.base {
        case .schemeNotAllowed, .addressBlocked: .blocked
        case .invalidURL, .nameResolution, .connectionFailed, .timedOut, .tooSlow, .tlsFailure, .transferFailed,
            .shutDown:
            .network
        case .tooManyRedirects, .httpStatus: .httpStatus
        case .rateLimited, .hostPaused: .rateLimit
        case .bodyTooLarge: .tooLarge
        case .robotsDisallowed, .robotsTag: .robots
        }
    }

    /// `CATEGORY: reason (url)`, plus the attempt count when the request was retried.
    public var description: String {
        var text = "\(category.rawValue): \(reason) (\(url))"
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

}
