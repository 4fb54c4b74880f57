import Foundation
import Logging
import Metrics
import PixCore
import PixFetch

/// Openverse, the openly licensed media search: `GET {base}/v1/images/?q=KEYWORD&page=N&page_size=M`.
///
/// Result position `p` lives on page `p / pageSize + 1`; a chunk's range is served page by page, and the cursor is
/// the next position, so a resumed chunk asks for exactly the pages it has not finished. Openverse serves at most
/// ``Configuration/maxResults`` results per query (240, for every client) and answers 401 to a page reaching past
/// them, so ``maxDepth`` is 240 and a last page that would cross it is asked for with a smaller page size that ends
/// on it.
///
/// Without credentials requests are anonymous (page size at most 20, tight rate limits). With OAuth2 client
/// credentials (`PIXCRAWL_OPENVERSE_CLIENT_ID` / `PIXCRAWL_OPENVERSE_CLIENT_SECRET`) the source obtains a bearer
/// token from `POST {base}/v1/auth_tokens/token/`, reuses it until shortly before it expires, and asks for pages of
/// 50. Openverse answers 401 both to a refused token and to a request past a limit: the answer's `detail` tells them
/// apart; only a refused token is replaced (once).
///
/// Rate limits: a 429's `Retry-After` is waited for in the request only when it is short
/// (``Configuration/retryPolicy``); a longer one (hourly limits ask for up to an hour) fails the page with
/// ``SourceError/Code/rateLimited`` carrying ``SourceError/retryAfter`` (bounded by ``Configuration/maxRetryAfter``),
/// so the chunk is rescheduled instead of a worker sleeping, and later pages fail at once until the time has passed.
/// The `X-RateLimit-*` headers of every response are read and published as the gauge
/// `pixcrawl.source.rate_limit.available{source, scope}`; when a window has no requests left the next request waits
/// for it, or fails the same way when that wait is longer than ``Configuration/maxRateLimitWait``. The state is
/// shared by all chunks using this instance.
///
/// Search API requests skip robots.txt (an API the provider invites clients to call) and `X-Robots-Tag`.
public final class OpenverseSource: ImageSource {
    /// OAuth2 client credentials registered with Openverse.
    public struct Credentials: Hashable, Sendable, CustomStringConvertible {
        /// The application's client id.
        public var clientID: String
        /// The application's client secret; never printed.
        public var clientSecret: String

        /// Creates credentials.
        public init(clientID: String, clientSecret: String) {
            self.clientID = clientID
            self.clientSecret = clientSecret
        }

        /// The client id only; the secret is never shown.
        public var description: String { "client \(clientID)" }

        /// Credentials from `PIXCRAWL_OPENVERSE_CLIENT_ID` and `PIXCRAWL_OPENVERSE_CLIENT_SECRET`, when both are set.
        /// - Parameter environment: the process environment (or a test's).
        public static func fromEnvironment(_ environment: [String: String]) -> Credentials? {
            guard let id = environment["PIXCRAWL_OPENVERSE_CLIENT_ID"], !id.isEmpty,
                let secret = environment["PIXCRAWL_OPENVERSE_CLIENT_SECRET"], !secret.isEmpty
            else { return nil }
            return Credentials(clientID: id, clientSecret: secret)
        }
    }

    /// How the source talks to Openverse.
    public struct Configuration: Sendable {
        /// The public API: `https://api.openverse.org`.
        public static let defaultBaseURL = "https://api.openverse.org"

        /// Scheme, host and port of the API (paths `/v1/…` are appended).
        public var baseURL: String
        /// OAuth2 client credentials; `nil` searches anonymously.
        public var credentials: Credentials?
        /// Results per page without credentials (Openverse allows at most 20).
        public var anonymousPageSize: Int = 20
        /// Results per page with credentials (Openverse allows 50; privileged applications more,
        /// `PIXCRAWL_OPENVERSE_PAGE_SIZE`).
        public var authenticatedPageSize: Int = 50
        /// Results Openverse serves per query (240 for every client; privileged applications may be granted more,
        /// `PIXCRAWL_OPENVERSE_MAX_RESULTS`). Planning never goes deeper.
        public var maxResults: Int = 240
        /// The longest wait for a used-up rate-limit window; a longer one fails the page with `RATE_LIMIT` and the
        /// chunk is rescheduled.
        public var maxRateLimitWait: Duration = .seconds(120)
        /// The longest `Retry-After` honoured; a server asking for more is retried after this long.
        public var maxRetryAfter: Duration = .seconds(3600)
        /// A token is replaced this long before it expires.
        public var tokenRefreshMargin: Duration = .seconds(60)
        /// Retries of API requests: a 429 is waited for here only up to `maxRetryAfter` of this policy (longer
        /// waits reschedule the chunk); 5xx and network errors back off.
        public var retryPolicy = RetryPolicy(
            maxAttempts: 4, baseDelay: .seconds(1), maxDelay: .seconds(30), maxRetryAfter: .seconds(10))
        /// Largest API response accepted.
        public var maxResponseBytes: Int = 16 * 1024 * 1024

        /// Creates a configuration.
        /// - Parameters:
        ///   - baseURL: scheme, host and port of the API.
        ///   - credentials: OAuth2 client credentials, or `nil` for anonymous access.
        public init(baseURL: String = defaultBaseURL, credentials: Credentials? = nil) {
            self.baseURL = baseURL
            self.credentials = credentials
        }
    }

    /// `openverse`.
    public let name = "openverse"
    /// ``Configuration/maxResults`` (240).
    public let maxDepth: Int?
    /// Results asked for per request (a last page ending on ``maxDepth`` may ask for fewer).
    public let pageSize: Int
    /// What this source was created with.
    public let configuration: Configuration

    private let downloader: Downloader
    private let logger: Logger
    private let base: String
    private let rateLimit = RateLimitState()
    private let tokens: BearerTokenStore

    /// Creates the source.
    /// - Parameters:
    ///   - configuration: base URL, credentials, page sizes and limits.
    ///   - downloader: performs the HTTP requests (its User-Agent names PixCrawler and the operator's contact).
    ///   - logger: receives rate-limit waits and token refreshes.
    public init(configuration: Configuration = Configuration(), downloader: Downloader, logger: Logger) {
        self.configuration = configuration
        self.downloader = downloader
        self.logger = logger
        base = QueryString.trimmedBase(configuration.baseURL)
        let depth = max(1, configuration.maxResults)
        pageSize = min(
            depth,
            max(1, configuration.credentials == nil ? configuration.anonymousPageSize : configuration.authenticatedPageSize))
        maxDepth = depth
        tokens = BearerTokenStore(refreshMargin: configuration.tokenRefreshMargin)
    }

    /// Whether requests carry a bearer token.
    public var isAuthenticated: Bool { configuration.credentials != nil }

    /// The latest `X-RateLimit-*` readings, by scope (`anon_burst`, …).
    public var rateLimitReadings: [RateLimitReading] { rateLimit.readings }

    /// The page number and size that serve position `start` without reaching past `depth`: the configured size,
    /// or for the last page the largest smaller size whose page ends on or before `depth`.
    static func page(for start: Int, pageSize: Int, depth: Int) -> (number: Int, size: Int) {
        var size = max(1, pageSize)
        while size > 1 && (start / size + 1) * size > depth { size -= 1 }
        return (start / size + 1, size)
    }

    /// Fetches the page holding position `cursor` (or `range.lowerBound`) and returns its candidates inside `range`.
    /// - Parameters:
    ///   - keyword: the search query.
    ///   - range: result positions of the chunk.
    ///   - cursor: the `nextCursor` of the previous call, or `nil` to start at `range.lowerBound`.
    /// - Throws: ``SourceError``.
    public func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let start = try SourceCursor.start(cursor, in: range, source: name, keyword: keyword)
        let depth = maxDepth ?? .max
        let upper = min(range.upperBound, depth)
        guard start < upper else {
            return SourcePage(candidates: [], nextCursor: nil, exhausted: start >= depth)
        }
        let (pageNumber, size) = Self.page(for: start, pageSize: pageSize, depth: depth)
        let envelope = try await search(keyword: keyword, page: pageNumber, size: size)
        let firstPosition = (pageNumber - 1) * size
        var candidates: [ImageCandidate] = []
        for (offset, result) in envelope.results.enumerated() {
            let position = firstPosition + offset
            guard position >= start, position < upper, let url = result.url, !url.isEmpty else { continue }
            candidates.append(
                ImageCandidate(
                    url: url, keyword: keyword, source: name, position: position, license: result.license,
                    licenseVersion: result.licenseVersion, creator: result.creator,
                    landingURL: result.foreignLandingURL, title: result.title, declaredWidth: result.width,
                    declaredHeight: result.height, declaredBytes: result.filesize))
        }
        let end = firstPosition + size
        let exhausted =
            envelope.results.isEmpty || end >= (envelope.resultCount ?? .max) || end >= depth
        let next = min(end, upper)
        let nextCursor = exhausted || next >= upper ? nil : String(next)
        return SourcePage(
            candidates: candidates, nextCursor: nextCursor, exhausted: exhausted, totalAvailable: envelope.resultCount)
    }

    // MARK: - Requests

    private func search(keyword: String, page: Int, size: Int) async throws -> OpenverseEnvelope {
        let url = QueryString.url(
            base + "/v1/images/", [("q", keyword), ("page", String(page)), ("page_size", String(size))])
        var refreshedToken = false
        while true {
            try await waitForRateLimit(keyword: keyword)
            var headers: HTTPHeaders = ["Accept": "application/json"]
            let token = try await currentToken(keyword: keyword)
            if let token { headers.add(name: "Authorization", value: "Bearer \(token.value)") }
            let response: FetchResponse
            do {
                response = try await downloader.fetch(
                    FetchRequest(
                        url: url, headers: headers, maxBodyBytes: configuration.maxResponseBytes,
                        respectRobotsTxt: false, respectRobotsTag: false, retryPolicy: configuration.retryPolicy))
            } catch let error as FetchError {
                record(error.responseHeaders)
                if error.status == 401 {
                    let detail = Self.detail(error.responseBody)
                    if let token, Self.isCredentialProblem(detail) {
                        guard refreshedToken else {
                            logger.debug("Openverse refused the bearer token; obtaining a new one")
                            tokens.invalidate(token)
                            refreshedToken = true
                            continue
                        }
                        throw SourceError(
                            .authenticationFailed, source: name, keyword: keyword, status: 401,
                            message: "Openverse refused a freshly issued bearer token (HTTP 401: \(detail)); check "
                                + "the application's status for \(configuration.credentials?.description ?? "the client")")
                    }
                    throw limitError(keyword: keyword, page: page, size: size, detail: detail)
                }
                if error.code == .rateLimited {
                    let wait = min(error.retryAfter ?? .seconds(60), configuration.maxRetryAfter)
                    rateLimit.hold(for: wait)
                    let failure = SourceError.fetch(
                        error, source: name, keyword: keyword, what: "Openverse search page \(page)")
                    throw SourceError(
                        failure.code, source: name, keyword: keyword, status: failure.status,
                        message: failure.message, retryAfter: wait)
                }
                throw SourceError.fetch(error, source: name, keyword: keyword, what: "Openverse search page \(page)")
            }
            record(response.headers)
            return try decode(OpenverseEnvelope.self, response, keyword: keyword, what: "search page \(page)")
        }
    }

    /// Remembers a response's rate-limit headers and publishes what is left of each scope.
    private func record(_ headers: HTTPHeaders) {
        rateLimit.record(headers)
        for reading in headers.rateLimitReadings {
            Gauge(
                label: "pixcrawl.source.rate_limit.available",
                dimensions: [("source", name), ("scope", reading.scope)]
            ).record(reading.available)
        }
    }

    /// The error for a 401 that is about a limit, not the token: page size or result depth.
    private func limitError(keyword: String, page: Int, size: Int, detail: String) -> SourceError {
        let pageLimit = isAuthenticated ? "50 results per page (20 anonymously)" : "20 results per page"
        var advice =
            "Openverse serves at most \(pageLimit) and \(configuration.maxResults) results per query; "
            + "PIXCRAWL_OPENVERSE_PAGE_SIZE and PIXCRAWL_OPENVERSE_MAX_RESULTS raise them only for applications "
            + "Openverse has granted more"
        if !isAuthenticated {
            advice += "; set PIXCRAWL_OPENVERSE_CLIENT_ID and PIXCRAWL_OPENVERSE_CLIENT_SECRET for larger pages"
        }
        return SourceError(
            .limitExceeded, source: name, keyword: keyword, status: 401,
            message: "Openverse refused page \(page) of \(size) results (HTTP 401: \(detail)); this is a limit, "
                + "not a credential problem: \(advice)")
    }

    /// The `detail` of an Openverse error body, or the body's start.
    static func detail(_ body: [UInt8]) -> String {
        struct ErrorBody: Decodable { var detail: String? }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)), let detail = decoded.detail {
            return detail
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.isEmpty ? "no details" : text
    }

    /// Whether a 401's detail is about the credentials (a refused or expired token) rather than a limit.
    static func isCredentialProblem(_ detail: String) -> Bool {
        let lowered = detail.lowercased()
        return lowered.contains("credential") || lowered.contains("token")
    }

    private func waitForRateLimit(keyword: String) async throws {
        guard let wait = rateLimit.pendingDelay() else { return }
        guard wait <= configuration.maxRateLimitWait else {
            throw SourceError(
                .rateLimited, source: name, keyword: keyword,
                message: "Openverse's rate limit has no requests left for the next \(wait.wholeSecondsRoundedUp) s "
                    + "(longer than the \(configuration.maxRateLimitWait.wholeSecondsRoundedUp) s this source waits); "
                    + (isAuthenticated
                        ? "the chunk is retried after it"
                        : "the chunk is retried after it; set PIXCRAWL_OPENVERSE_CLIENT_ID and "
                            + "PIXCRAWL_OPENVERSE_CLIENT_SECRET for higher limits"),
                retryAfter: wait)
        }
        logger.info(
            "waiting for Openverse's rate limit",
            metadata: ["pixcrawl.source": "\(name)", "pixcrawl.wait_s": "\(wait.wholeSecondsRoundedUp)"])
        try await Task.sleep(for: wait)
    }

    private func currentToken(keyword: String) async throws -> BearerTokenStore.Token? {
        guard let credentials = configuration.credentials else { return nil }
        return try await tokens.token { [self] in
            try await requestToken(credentials, keyword: keyword)
        }
    }

    private func requestToken(_ credentials: Credentials, keyword: String) async throws -> (
        value: String, lifetime: Duration
    ) {
        let body = QueryString.encode([
            ("grant_type", "client_credentials"), ("client_id", credentials.clientID),
            ("client_secret", credentials.clientSecret),
        ])
        let response: FetchResponse
        do {
            response = try await downloader.fetch(
                FetchRequest(
                    url: base + "/v1/auth_tokens/token/", method: .post,
                    headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                    body: Array(body.utf8), maxBodyBytes: 1 << 20, respectRobotsTxt: false, respectRobotsTag: false,
                    retryPolicy: configuration.retryPolicy))
        } catch let error as FetchError {
            if let status = error.status, (400..<500).contains(status), status != 429 {
                throw SourceError(
                    .authenticationFailed, source: name, keyword: keyword, status: status,
                    message: "Openverse refused the client credentials for \(credentials) (HTTP \(status)); check "
                        + "PIXCRAWL_OPENVERSE_CLIENT_ID and PIXCRAWL_OPENVERSE_CLIENT_SECRET")
            }
            throw SourceError.fetch(error, source: name, keyword: keyword, what: "the Openverse token request")
        }
        let token = try decode(OpenverseToken.self, response, keyword: keyword, what: "token response")
        guard !token.accessToken.isEmpty else {
            throw SourceError(
                .malformedResponse, source: name, keyword: keyword,
                message: "Openverse's token response has an empty access_token (\(response.url))")
        }
        logger.debug("obtained an Openverse access token", metadata: ["pixcrawl.source": "\(name)"])
        return (token.accessToken, .seconds(max(0, token.expiresIn ?? 3600)))
    }

    private func decode<Value: Decodable>(
        _ type: Value.Type, _ response: FetchResponse, keyword: String, what: String
    ) throws -> Value {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(type, from: Data(response.body))
        } catch {
            throw SourceError(
                .malformedResponse, source: name, keyword: keyword, status: response.status,
                message: "Openverse's \(what) is not the expected JSON (\(JSONProblem.describe(error))) "
                    + "from \(response.url)")
        }
    }
}

/// Openverse's search envelope.
struct OpenverseEnvelope: Decodable {
    var resultCount: Int?
    var pageCount: Int?
    var pageSize: Int?
    var page: Int?
    var results: [OpenverseResult]
}

/// One Openverse image result (fields PixCrawler uses; nulls allowed where Openverse allows them).
struct OpenverseResult: Decodable {
    var id: String?
    var title: String?
    var url: String?
    var width: Int?
    var height: Int?
    var filetype: String?
    var filesize: Int?
    var license: String?
    var licenseVersion: String?
    var creator: String?
    var foreignLandingUrl: String?

    var foreignLandingURL: String? { foreignLandingUrl }
}

/// Openverse's OAuth2 token response.
struct OpenverseToken: Decodable {
    var accessToken: String
    var expiresIn: Int?
    var tokenType: String?
}
