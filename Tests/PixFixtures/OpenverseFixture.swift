import PixDemo
import Synchronization

/// A stand-in for the Openverse API, shaped like the real one: `GET /v1/images/?q=&page=&page_size=` answers the
/// envelope `{result_count, page_count, page_size, page, results[]}` with full result objects, and
/// `POST /v1/auth_tokens/token/` issues client-credentials bearer tokens.
///
/// Like Openverse it answers **401** to a `page_size` above 20 anonymously or 50 authenticated (``privilegedPageSize``
/// for a privileged application), to a page reaching past ``maxResults`` (240) results, and to unknown or expired
/// tokens, each with its own `detail`; `result_count` is capped at ``maxResults`` and `page_count` follows it;
/// pages past the last one answer an empty `results`. Every search answer carries the `X-RateLimit-*` headers of
/// its client's scopes (anonymous or client credentials). Tests switch on the misbehaviour they need: 429s with
/// `Retry-After` (at least 5 s, as Openverse's throttles send), malformed JSON, revoked tokens, particular
/// `X-RateLimit-*` headers. Every search is timestamped (``searchTimes``).
public final class OpenverseFixture: Sendable {
    private struct State {
        var tooManyRequests: (remaining: Int, retryAfter: Int) = (0, 0)
        var malformed = 0
        var tokens: [String: ContinuousClock.Instant] = [:]
        var tokensIssued = 0
        var rateLimitHeaders: [FixtureResponse.Header] = [
            .init("X-RateLimit-Limit-anon_burst", "20/min"), .init("X-RateLimit-Available-anon_burst", "19"),
            .init("X-RateLimit-Limit-anon_sustained", "200/day"),
            .init("X-RateLimit-Available-anon_sustained", "199"),
        ]
        var authenticatedRateLimitHeaders: [FixtureResponse.Header] = [
            .init("X-RateLimit-Limit-oauth2_client_credentials_burst", "100/min"),
            .init("X-RateLimit-Available-oauth2_client_credentials_burst", "99"),
            .init("X-RateLimit-Limit-oauth2_client_credentials_sustained", "10000/day"),
            .init("X-RateLimit-Available-oauth2_client_credentials_sustained", "9999"),
        ]
        var searchTimes: [ContinuousClock.Instant] = []
    }

    /// The shortest `Retry-After` Openverse's throttles send, in seconds.
    public static let minimumRetryAfter = 5

    /// The results served.
    public let corpus: FixtureSearchCorpus
    /// The client id the token endpoint accepts; `nil` refuses every token request.
    public let clientID: String?
    /// The client secret the token endpoint accepts.
    public let clientSecret: String?
    /// `expires_in` of issued tokens, in seconds.
    public let tokenLifetime: Int
    /// Largest anonymous `page_size` (Openverse: 20).
    public let anonymousMaxPageSize: Int
    /// Largest authenticated `page_size` (Openverse: 50).
    public let authenticatedMaxPageSize: Int
    /// Results served per query, for every client (Openverse: 240); a page reaching past them is refused.
    public let maxResults: Int
    private let state = Mutex(State())

    /// Creates the fixture.
    /// - Parameters:
    ///   - corpus: result counts and results.
    ///   - clientID: the accepted client id, or `nil` for no registered application.
    ///   - clientSecret: the accepted client secret.
    ///   - tokenLifetime: `expires_in` of issued tokens, in seconds.
    ///   - anonymousMaxPageSize: largest anonymous page size.
    ///   - authenticatedMaxPageSize: largest authenticated page size (a privileged application's grant).
    ///   - maxResults: results served per query (a privileged application's grant).
    public init(
        corpus: FixtureSearchCorpus, clientID: String? = nil, clientSecret: String? = nil,
        tokenLifetime: Int = 43_200, anonymousMaxPageSize: Int = 20, authenticatedMaxPageSize: Int = 50,
        maxResults: Int = 240
    ) {
        self.corpus = corpus
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tokenLifetime = tokenLifetime
        self.anonymousMaxPageSize = anonymousMaxPageSize
        self.authenticatedMaxPageSize = authenticatedMaxPageSize
        self.maxResults = maxResults
    }

    /// The search and token routes; add them to a ``FixtureServer`` that also serves the standard routes, so the
    /// result URLs lead to real images.
    public var routes: [FixtureRoute] {
        [
            FixtureRoute(.exact("/v1/images/"), method: "GET") { [self] in search($0) },
            FixtureRoute(.exact("/v1/auth_tokens/token/"), method: "POST") { [self] in token($0) },
        ]
    }

    /// Answers the next `count` searches with 429 and `Retry-After: retryAfter` (never below
    /// ``minimumRetryAfter``, as Openverse).
    public func respondTooManyRequests(times count: Int, retryAfter: Int = minimumRetryAfter) {
        state.withLock { $0.tooManyRequests = (count, max(Self.minimumRetryAfter, retryAfter)) }
    }

    /// When each search request arrived.
    public var searchTimes: [ContinuousClock.Instant] { state.withLock { $0.searchTimes } }

    /// Answers the next `count` searches with a body that is not valid JSON.
    public func respondMalformed(times count: Int) {
        state.withLock { $0.malformed = count }
    }

    /// Sets the `X-RateLimit-*` headers every later anonymous search response carries.
    public func setRateLimitHeaders(_ headers: [FixtureResponse.Header]) {
        state.withLock { $0.rateLimitHeaders = headers }
    }

    /// Sets the `X-RateLimit-*` headers every later authenticated search response carries.
    public func setAuthenticatedRateLimitHeaders(_ headers: [FixtureResponse.Header]) {
        state.withLock { $0.authenticatedRateLimitHeaders = headers }
    }

    /// Makes every token issued so far invalid (the API then answers 401 to requests that carry one).
    public func revokeTokens() {
        state.withLock { $0.tokens.removeAll() }
    }

    /// How many tokens the token endpoint has issued.
    public var tokensIssued: Int { state.withLock { $0.tokensIssued } }

    // MARK: - Handlers

    private func search(_ request: FixtureRequest) -> FixtureResponse {
        let (tooMany, malformed, anonymousHeaders, authenticatedHeaders, authorized) = state.withLock {
            state -> ((Int, Int), Bool, [FixtureResponse.Header], [FixtureResponse.Header], Bool?) in
            state.searchTimes.append(.now)
            var authorized: Bool?
            if let header = request.headers["authorization"] {
                let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
                authorized = state.tokens[token].map { ContinuousClock.now < $0 } ?? false
            }
            var trouble = ((0, 0), false)
            if state.tooManyRequests.remaining > 0 {
                state.tooManyRequests.remaining -= 1
                trouble = ((1, state.tooManyRequests.retryAfter), false)
            } else if state.malformed > 0 {
                state.malformed -= 1
                trouble = ((0, 0), true)
            }
            return (trouble.0, trouble.1, state.rateLimitHeaders, state.authenticatedRateLimitHeaders, authorized)
        }
        if authorized == false {
            return FixtureJSON.response(["detail": "Authentication credentials were not valid."], status: 401)
        }
        let rateHeaders = authorized == true ? authenticatedHeaders : anonymousHeaders
        if tooMany.0 > 0 {
            return FixtureJSON.response(
                ["detail": "Request was throttled. Expected available in \(tooMany.1) seconds."], status: 429,
                headers: [.init("Retry-After", String(tooMany.1))] + rateHeaders)
        }
        if malformed { return FixtureJSON.malformed }
        guard let keyword = request.query["q"], !keyword.isEmpty else {
            return FixtureJSON.response(["detail": "A search query ('q') is required."], status: 400)
        }
        let pageSize = request.intQuery("page_size", default: 20)
        let page = request.intQuery("page", default: 1)
        let limit = authorized == true ? authenticatedMaxPageSize : anonymousMaxPageSize
        guard pageSize >= 1, page >= 1 else {
            return FixtureJSON.response(["detail": "Page and page size must be positive."], status: 400)
        }
        guard pageSize <= limit else {
            let detail =
                "Page size must be between 1 & \(limit). Larger pages need an authenticated or privileged "
                + "application."
            return FixtureJSON.response(["detail": detail], status: 401, headers: rateHeaders)
        }
        guard page * pageSize <= maxResults else {
            let detail =
                "Pagination depth is limited to \(maxResults) results; page \(page) of \(pageSize) reaches "
                + "\(page * pageSize). Deeper pages need a privileged application."
            return FixtureJSON.response(["detail": detail], status: 401, headers: rateHeaders)
        }
        let total = max(0, corpus.resultCount(keyword))
        let resultCount = min(total, maxResults)
        let pageCount = (resultCount + pageSize - 1) / pageSize
        let first = (page - 1) * pageSize
        let results = (first..<max(first, min(first + pageSize, resultCount))).map { position in
            result(corpus.item(keyword: keyword, position: position, baseURL: request.baseURL), request.baseURL)
        }
        let envelope: [String: Any] = [
            "result_count": resultCount, "page_count": pageCount, "page_size": pageSize, "page": page,
            "results": results,
        ]
        return FixtureJSON.response(envelope, headers: rateHeaders)
    }

    private func result(_ item: FixtureSearchItem, _ baseURL: String) -> [String: Any] {
        let id = "00000000-0000-4000-8000-\(String(item.seed, radix: 16).leftPadded(to: 12))"
        return [
            "id": id, "title": item.title, "indexed_on": "2024-05-01T12:00:00Z",
            "foreign_landing_url": item.landingURL, "url": item.imageURL, "creator": item.creator,
            "creator_url": "\(baseURL)/people/\(item.position % 7)", "license": item.license,
            "license_version": item.licenseVersion,
            "license_url": "https://creativecommons.org/licenses/\(item.license)/\(item.licenseVersion)/",
            "provider": "fixture", "source": "fixture", "category": "photograph",
            "filesize": item.position % 3 == 2 ? FixtureJSON.null : item.fileSize,
            "filetype": item.fileType, "tags": [["name": DemoCorpus.slug(item.keyword), "accuracy": FixtureJSON.null]],
            "attribution": "\"\(item.title)\" by \(item.creator) is licensed under CC \(item.license.uppercased()) "
                + "\(item.licenseVersion).",
            "fields_matched": ["title"], "mature": false, "height": item.height, "width": item.width,
            "thumbnail": "\(baseURL)/v1/images/\(id)/thumb/", "detail_url": "\(baseURL)/v1/images/\(id)/",
            "related_url": "\(baseURL)/v1/images/\(id)/related/", "unstable__sensitivity": [String](),
        ]
    }

    private func token(_ request: FixtureRequest) -> FixtureResponse {
        let form = FixtureRequest(
            method: "POST", target: "/?" + String(decoding: request.body, as: UTF8.self), headers: [:],
            baseURL: request.baseURL
        ).query
        guard form["grant_type"] == "client_credentials" else {
            return FixtureJSON.response(["error": "unsupported_grant_type"], status: 400)
        }
        guard let clientID, let clientSecret, form["client_id"] == clientID, form["client_secret"] == clientSecret
        else {
            return FixtureJSON.response(["error": "invalid_client"], status: 401)
        }
        let token = state.withLock { state -> String in
            state.tokensIssued += 1
            let token = "fixture-token-\(state.tokensIssued)"
            state.tokens[token] = ContinuousClock.now.advanced(by: .seconds(tokenLifetime))
            return token
        }
        return FixtureJSON.response([
            "access_token": token, "scope": "read write groups", "expires_in": tokenLifetime, "token_type": "Bearer",
        ])
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? String(suffix(length)) : String(repeating: "0", count: length - count) + self
    }
}
