import Foundation
import Logging
import PixCore
import PixFetch

/// Openverse, the openly licensed media search: `GET {base}/v1/images/?q=KEYWORD&page=N&page_size=M`.
///
/// Result position `p` lives on page `p / pageSize + 1`; a chunk's range is served page by page, and the cursor is
/// the next position, so a resumed chunk asks for exactly the pages it has not finished. Openverse serves at most
/// ``Configuration/maxPages`` pages per query (20), so ``maxDepth`` is `pageSize × maxPages`: 400 anonymously.
///
/// Without credentials requests are anonymous (page size at most 20, tight rate limits). With OAuth2 client
/// credentials (`PIXCRAWL_OPENVERSE_CLIENT_ID` / `PIXCRAWL_OPENVERSE_CLIENT_SECRET`) the source obtains a bearer
/// token from `POST {base}/v1/auth_tokens/token/`, reuses it until shortly before it expires, replaces it when the
/// API answers 401, and asks for larger pages.
///
/// Rate limits: 429 responses are retried after their `Retry-After` (by the ``Downloader``'s retry policy); the
/// `X-RateLimit-*` headers of every response are read, and when a window has no requests left the next request
/// waits for it, or fails with ``SourceError/Code/rateLimited`` when that wait is longer than
/// ``Configuration/maxRateLimitWait``. The state is shared by all chunks using this instance.
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
        /// Results per page with credentials (Openverse allows up to 500; deep pages of large sizes run into its
        /// 10,000-result search window, so 100 keeps all 20 pages reachable).
        public var authenticatedPageSize: Int = 100
        /// Pages Openverse serves per query (its `MAX_PAGINATION_DEPTH`).
        public var maxPages: Int = 20
        /// The deepest position planned for a keyword; `nil` means `pageSize × maxPages`.
        public var maxDepth: Int?
        /// The longest wait for a used-up rate-limit window; a longer one fails the page with `RATE_LIMIT`.
        public var maxRateLimitWait: Duration = .seconds(120)
        /// A token is replaced this long before it expires.
        public var tokenRefreshMargin: Duration = .seconds(60)
        /// Retries of API requests (429 honours `Retry-After` up to `maxRetryAfter`; 5xx and network errors back off).
        public var retryPolicy = RetryPolicy(
            maxAttempts: 4, baseDelay: .seconds(1), maxDelay: .seconds(30), maxRetryAfter: .seconds(120))
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
    /// `pageSize × maxPages` unless configured otherwise (400 anonymously).
    public let maxDepth: Int?
    /// Results asked for per request.
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
    ///   - downloader: performs the HTTP requests (its User-Agent names PixCrawler).
    ///   - logger: receives rate-limit waits and token refreshes.
    public init(configuration: Configuration = Configuration(), downloader: Downloader, logger: Logger) {
        self.configuration = configuration
        self.downloader = downloader
        self.logger = logger
        base = QueryString.trimmedBase(configuration.baseURL)
        pageSize = max(
            1, configuration.credentials == nil ? configuration.anonymousPageSize : configuration.authenticatedPageSize)
        maxDepth = configuration.maxDepth ?? pageSize * max(1, configuration.maxPages)
        tokens = BearerTokenStore(refreshMargin: configuration.tokenRefreshMargin)
    }

    /// Whether requests carry a bearer token.
    public var isAuthenticated: Bool { configuration.credentials != nil }

    /// Fetches the page holding position `cursor` (or `range.lowerBound`) and returns its candidates inside `range`.
    /// - Parameters:
    ///   - keyword: the search query.
    ///   - range: result positions of the chunk.
    ///   - cursor: the `nextCursor` of the previous call, or `nil` to start at `range.lowerBound`.
    /// - Throws: ``SourceError``.
    public func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let start = try SourceCursor.start(cursor, in: range, source: name, keyword: keyword)
        let upper = min(range.upperBound, maxDepth ?? range.upperBound)
        guard start < upper else {
            let beyondDepth = start >= (maxDepth ?? .max)
            return SourcePage(candidates: [], nextCursor: nil, exhausted: beyondDepth)
        }
        let pageNumber = start / pageSize + 1
        let envelope = try await search(keyword: keyword, page: pageNumber)
        let firstPosition = (pageNumber - 1) * pageSize
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
        let exhausted =
            envelope.results.isEmpty || pageNumber >= (envelope.pageCount ?? .max)
            || firstPosition + pageSize >= (maxDepth ?? .max)
        let next = min(firstPosition + pageSize, upper)
        let nextCursor = exhausted || next >= upper ? nil : String(next)
        return SourcePage(
            candidates: candidates, nextCursor: nextCursor, exhausted: exhausted, totalAvailable: envelope.resultCount)
    }

    // MARK: - Requests

    private func search(keyword: String, page: Int) async throws -> OpenverseEnvelope {
        let url = QueryString.url(
            base + "/v1/images/", [("q", keyword), ("page", String(page)), ("page_size", String(pageSize))])
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
                if error.status == 401, let token {
                    guard refreshedToken else {
                        logger.debug("Openverse refused the bearer token; obtaining a new one")
                        tokens.invalidate(token)
                        refreshedToken = true
                        continue
                    }
                    throw SourceError(
                        .authenticationFailed, source: name, keyword: keyword, status: 401,
                        message: "Openverse refused a freshly issued bearer token (HTTP 401); check the "
                            + "application's status for \(configuration.credentials?.description ?? "the client")")
                }
                if error.status == 401 {
                    throw SourceError(
                        .authenticationFailed, source: name, keyword: keyword, status: 401,
                        message: "Openverse refused an anonymous search (HTTP 401); anonymous requests may ask for "
                            + "at most 20 results per page (this source asks for \(pageSize)); set "
                            + "PIXCRAWL_OPENVERSE_CLIENT_ID and PIXCRAWL_OPENVERSE_CLIENT_SECRET for larger pages")
                }
                if error.code == .rateLimited { rateLimit.hold(for: .seconds(60)) }
                throw SourceError.fetch(error, source: name, keyword: keyword, what: "Openverse search page \(page)")
            }
            rateLimit.record(response.headers)
            return try decode(OpenverseEnvelope.self, response, keyword: keyword, what: "search page \(page)")
        }
    }

    private func waitForRateLimit(keyword: String) async throws {
        guard let wait = rateLimit.pendingDelay() else { return }
        guard wait <= configuration.maxRateLimitWait else {
            throw SourceError(
                .rateLimited, source: name, keyword: keyword,
                message: "Openverse's rate limit has no requests left for the next \(wait.wholeSecondsRoundedUp) s "
                    + "(longer than the \(configuration.maxRateLimitWait.wholeSecondsRoundedUp) s this source waits); "
                    + (isAuthenticated
                        ? "retry later"
                        : "retry later, or set PIXCRAWL_OPENVERSE_CLIENT_ID and PIXCRAWL_OPENVERSE_CLIENT_SECRET "
                            + "for higher limits"))
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
