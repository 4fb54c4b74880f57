import PixCore
import PixFetch

/// Why a source could not answer: its API failed or misbehaved, its rate limit is used up, its file cannot be
/// read, or a source specification is wrong.
///
/// Every error names the source and, when there is one, the keyword; ``category`` is PixCore's
/// `ErrorCategory.source`, or `.rateLimit` when the provider's rate limit is exhausted.
public struct SourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The specific failure; compare against the static members (`error.code == .rateLimited`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case requestFailed = "request failed"
            case rateLimited = "rate limited"
            case malformedResponse = "malformed response"
            case apiError = "API error"
            case authenticationFailed = "authentication failed"
            case limitExceeded = "limit exceeded"
            case contactRequired = "operator contact required"
            case invalidCursor = "invalid cursor"
            case fileUnreadable = "file unreadable"
            case invalidSpec = "invalid source specification"
            case unavailable = "source unavailable"
        }

        fileprivate let base: Base

        /// The HTTP request to the source failed (network, status). Category `SOURCE`.
        public static let requestFailed = Code(base: .requestFailed)
        /// The provider's rate limit is used up (429 after retries, or no requests left for longer than the
        /// source is willing to wait). Category `RATE_LIMIT`.
        public static let rateLimited = Code(base: .rateLimited)
        /// The response is not the JSON the provider documents. Category `SOURCE`.
        public static let malformedResponse = Code(base: .malformedResponse)
        /// The provider answered with an error of its own (a MediaWiki `error` object, say). Category `SOURCE`.
        public static let apiError = Code(base: .apiError)
        /// Credentials were refused or a token could not be obtained. Category `SOURCE`.
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The provider refused a request past its page size or result depth (Openverse answers those with 401).
        /// Category `SOURCE`.
        public static let limitExceeded = Code(base: .limitExceeded)
        /// The provider asks crawlers to name their operator and `PIXCRAWL_CONTACT` is not set. Category `SOURCE`.
        public static let contactRequired = Code(base: .contactRequired)
        /// A checkpoint cursor is not a position inside the chunk's range. Category `SOURCE`.
        public static let invalidCursor = Code(base: .invalidCursor)
        /// A URL list file is missing or cannot be read. Category `SOURCE`.
        public static let fileUnreadable = Code(base: .fileUnreadable)
        /// A source specification string is not one of the known forms. Category `SOURCE`.
        public static let invalidSpec = Code(base: .invalidSpec)
        /// The source could not start (the offline demo's local server). Category `SOURCE`.
        public static let unavailable = Code(base: .unavailable)

        /// A short name of the failure.
        public var description: String { base.rawValue }
    }

    /// The specific failure.
    public let code: Code
    /// The source's name (`openverse`, `commons`, `urls`, `demo`), or the specification that failed to parse.
    public let source: String
    /// The keyword being searched, when the failure concerns one.
    public let keyword: String?
    /// The HTTP status involved, if any.
    public let status: Int?
    /// What happened and what to do about it.
    public let message: String
    /// How long the provider asked to be left alone (`Retry-After`, or a used-up rate-limit window): the chunk is
    /// rescheduled after it instead of a worker waiting.
    public let retryAfter: Duration?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the specific failure.
    ///   - source: the source's name.
    ///   - keyword: the keyword being searched, if any.
    ///   - status: the HTTP status involved, if any.
    ///   - message: what happened and what to do about it; never a secret.
    ///   - retryAfter: how long the provider asked to be left alone, if it said.
    public init(
        _ code: Code, source: String, keyword: String? = nil, status: Int? = nil, message: String,
        retryAfter: Duration? = nil
    ) {
        self.code = code
        self.source = source
        self.keyword = keyword
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The PixCore category a failed chunk is recorded under.
    public var category: ErrorCategory {
        code == .rateLimited ? .rateLimit : .source
    }

    /// `CATEGORY: source 'name' (keyword 'k'): message`.
    public var description: String {
        var text = "\(category.rawValue): source '\(source)'"
        if let keyword { text += " (keyword '\(keyword)')" }
        return text + ": " + message
    }

    /// Wraps a failed API request in a source error, keeping `RATE_LIMIT` for 429s.
    static func fetch(_ error: FetchError, source: String, keyword: String?, what: String) -> SourceError {
        if error.code == .rateLimited {
            let wait = error.retryAfter.map { "; it asked to wait \($0.wholeSecondsRoundedUp) s" } ?? ""
            return SourceError(
                .rateLimited, source: source, keyword: keyword, status: error.status,
                message: "\(what) was rate limited (HTTP 429) after \(error.attempts) attempt(s)\(wait); "
                    + "the provider's limit is used up, try again later",
                retryAfter: error.retryAfter)
        }
        return SourceError(
            .requestFailed, source: source, keyword: keyword, status: error.status,
            message: "\(what) failed: \(error.description)")
    }
}
