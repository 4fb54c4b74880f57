import CCurl
import CPixCurl
import Logging
import PixCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Fetches URLs with libcurl's multi interface: many transfers driven by one dedicated thread, bridged to
/// async/await.
///
/// Every request is checked against the ``AddressPolicy`` at connect time (each socket libcurl opens, so DNS
/// answers and redirects are judged by where they really lead), limited to http and https, capped in size while
/// streaming, bounded by timeouts and a low-speed abort, retried with backoff for connection failures,
/// timeouts, 429 and 5xx, and checked against robots.txt and `X-Robots-Tag`. Failures are ``FetchError``s,
/// each with a PixCore `ErrorCategory`.
///
/// Call ``shutdown()`` when done; dropping the last reference also stops the thread.
public final class Downloader: Sendable {
    /// What this downloader enforces.
    public let configuration: DownloaderConfiguration
    private let engine: CurlEngine
    private let robots: RobotsCache
    private let hostBudget: (any HostBudget)?
    private let logger: Logger

    /// Creates a downloader and starts its libcurl thread.
    /// - Parameters:
    ///   - configuration: limits, timeouts, retry policy, address policy and robots settings.
    ///   - hostBudget: asked for a connection before every request and told how it went (fleet-wide per-host
    ///     limits and pauses); `nil` keeps only the process's own per-host limit.
    ///   - logger: receives retries, refusals and robots decisions at debug level.
    /// - Throws: ``FetchError`` when libcurl cannot be initialised.
    public init(
        configuration: DownloaderConfiguration = DownloaderConfiguration(), hostBudget: (any HostBudget)? = nil,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.hostBudget = hostBudget
        self.logger = logger
        robots = RobotsCache(capacity: configuration.robotsCacheHosts)
        engine = try CurlEngine(
            maxConcurrent: configuration.maxConcurrentTransfers, maxPerHost: configuration.maxTransfersPerHost)
    }

    deinit {
        engine.shutdownBlocking()
    }

    /// Stops the libcurl thread. Transfers still in flight fail with ``FetchError/Code/shutDown``; later
    /// fetches fail the same way. Returns once the thread has exited.
    public func shutdown() async {
        await engine.shutdown()
    }

    /// Fetches a URL with `GET` and the configured settings.
    /// - Parameter url: an absolute `http` or `https` URL.
    /// - Returns: the 2xx response.
    /// - Throws: ``FetchError``, or `CancellationError` when the task is cancelled.
    public func fetch(_ url: String) async throws -> FetchResponse {
        try await fetch(FetchRequest(url: url))
    }

    /// Fetches a request.
    /// - Parameter request: the URL, method, headers and per-request overrides.
    /// - Returns: the 2xx response.
    /// - Throws: ``FetchError``, or `CancellationError` when the task is cancelled.
    public func fetch(_ request: FetchRequest) async throws -> FetchResponse {
        let target = try ParsedURL(request.url)
        try checkLiteralAddress(target, url: request.url)
        let robotsTxt = configuration.respectRobotsTxt && request.respectRobotsTxt
        let robotsTag = configuration.respectRobotsTag && request.respectRobotsTag
        if robotsTxt {
            try await enforceRobots(target, url: request.url)
        }
        var spec = makeSpec(url: request.url, origin: target.origin, request: request)
        if robotsTag { spec.robotsTagToken = configuration.robotsProductToken }
        let response = try await transfer(spec, retry: request.retryPolicy ?? configuration.retryPolicy)
        if robotsTag,
            let directive = RobotsTag.optOutDirective(
                in: response.headers, productToken: configuration.robotsProductToken)
        {
            logger.debug(
                "X-Robots-Tag opt-out",
                metadata: ["pixcrawl.url": "\(request.url)", "pixcrawl.directive": "\(directive)"])
            throw FetchError(
                .robotsTag, url: request.url, reason: "the response carries X-Robots-Tag '\(directive)'",
                status: response.status, attempts: response.attempts)
        }
        if robotsTxt, response.url != request.url, let final = try? ParsedURL(response.url),
            final.origin != target.origin
        {
            try await enforceRobots(final, url: request.url)
        }
        return response
    }

    /// Whether robots.txt lets the crawler fetch a URL (fetching and caching the origin's robots.txt if needed).
    /// - Parameter url: an absolute `http` or `https` URL.
    /// - Throws: ``FetchError`` for an invalid URL or a blocked origin.
    public func robotsAllows(_ url: String) async throws -> Bool {
        let target = try ParsedURL(url)
        try checkLiteralAddress(target, url: url)
        switch try await robotsEntry(for: target) {
        case .rules(let rules, _):
            return rules.isAllowed(target.pathAndQuery)
        case .blocked(let address, let addressClass):
            throw Self.blocked(
                url: url, address: address, addressClass: addressClass, context: " while fetching robots.txt")
        }
    }

    // MARK: - Checks before connecting

    /// Refuses an IP-literal host (in any spelling) outside the policy without starting a transfer. Host names
    /// are judged at connect time by the open-socket callback.
    private func checkLiteralAddress(_ target: ParsedURL, url: String) throws(FetchError) {
        guard let address = IPAddress(parsingHost: target.host) else { return }
        if case .refused(let addressClass) = configuration.addressPolicy.evaluate(address) {
            throw Self.blocked(url: url, address: address, addressClass: addressClass)
        }
    }

    static func blocked(url: String, address: IPAddress, addressClass: AddressClass, context: String = "")
        -> FetchError
    {
        let width = address.family == .v4 ? 32 : 128
        return FetchError(
            .addressBlocked, url: url,
            reason: "refused to connect to \(address) (\(addressClass))\(context); "
                + "allow it with --allow-network \(address)/\(width) if this is intended",
            blockedAddress: address, blockedAddressClass: addressClass)
    }

    private func enforceRobots(_ target: ParsedURL, url: String) async throws {
        switch try await robotsEntry(for: target) {
        case .blocked(let address, let addressClass):
            throw Self.blocked(
                url: url, address: address, addressClass: addressClass, context: " while fetching robots.txt")
        case .rules(let rules, let note):
            guard !rules.isAllowed(target.pathAndQuery) else { return }
            logger.debug("robots.txt disallows", metadata: ["pixcrawl.url": "\(URLRedaction.redacted(url))"])
            throw FetchError(
                .robotsDisallowed, url: url,
                reason: "robots.txt of \(target.scheme)://\(target.host):\(target.port)\(note) disallows "
                    + "\(target.pathAndQuery) for \(configuration.robotsProductToken)")
        }
    }

    private func robotsEntry(for target: ParsedURL) async throws -> RobotsEntry {
        try await robots.entry(for: target.origin) {
            try await loadRobots(target)
        }
    }

    /// Fetches and interprets one origin's robots.txt (RFC 9309 §2.3.1): 2xx parsed, 4xx allow all,
    /// 429/5xx/unreachable disallow all for ``DownloaderConfiguration/robotsErrorLifetime`` only.
    private func loadRobots(_ target: ParsedURL) async throws -> (entry: RobotsEntry, lifetime: Duration) {
        let url = "\(target.scheme)://\(target.host):\(target.port)/robots.txt"
        var spec = makeSpec(url: url, origin: target.origin, request: FetchRequest(url: url))
        spec.maxBodyBytes = configuration.robotsMaxBytes
        spec.truncateAtCap = true
        let token = configuration.robotsProductToken
        var lifetime = configuration.robotsCacheLifetime
        let entry: RobotsEntry
        do {
            let response = try await transfer(spec, retry: configuration.retryPolicy)
            entry = .rules(RobotsTxt(parsing: response.body).compiled(for: token), note: "")
        } catch let error as FetchError {
            switch error.code {
            case .addressBlocked:
                entry = .blocked(error.blockedAddress ?? IPAddress(v4: 0), error.blockedAddressClass ?? .reserved)
            case .shutDown:
                throw error
            case .httpStatus where (400..<500).contains(error.status ?? 0), .tooManyRedirects:
                entry = .rules(RobotsTxt.allowAll.compiled(for: token), note: " (unavailable: \(error.reason))")
            default:
                entry = .rules(
                    RobotsTxt.disallowAll.compiled(for: token),
                    note: " (unreachable: \(error.reason), so everything is disallowed for now)")
                lifetime = configuration.robotsErrorLifetime
            }
        }
        logger.debug("robots.txt loaded", metadata: ["pixcrawl.origin": "\(target.origin)"])
        return (entry, lifetime)
    }

    // MARK: - Transfers and retries

    private func makeSpec(url: String, origin: String, request: FetchRequest) -> TransferSpec {
        var headers = configuration.headers
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        return TransferSpec(
            url: url, origin: origin, method: request.method, headers: headers, body: request.body,
            userAgent: configuration.userAgent, maxBodyBytes: request.maxBodyBytes ?? configuration.maxBodyBytes,
            connectTimeout: configuration.connectTimeout, totalTimeout: configuration.totalTimeout,
            lowSpeedLimit: configuration.lowSpeedLimit, lowSpeedTime: configuration.lowSpeedTime,
            maxRedirects: configuration.maxRedirects, acceptEncoding: configuration.acceptEncoding,
            http2: configuration.httpVersion == .http2WhenOffered, addressPolicy: configuration.addressPolicy,
            hostPins: configuration.hostPins.map(\.curlEntry))
    }

    private enum Outcome {
        case success(FetchResponse)
        case failure(FetchError, retryable: Bool, retryAfter: Duration?)
    }

    private func transfer(_ spec: TransferSpec, retry: RetryPolicy) async throws -> FetchResponse {
        var attempt = 0
        while true {
            attempt += 1
            let result = try await performWithinBudget(spec)
            switch outcome(of: result, spec: spec, retry: retry) {
            case .success(var response):
                response.attempts = attempt
                return response
            case .failure(var error, let retryable, let retryAfter):
                error.attempts = attempt
                guard retryable, attempt < retry.maxAttempts else { throw error }
                var wait = retry.backoff(beforeRetry: attempt)
                if let retryAfter {
                    guard retryAfter <= retry.maxRetryAfter else {
                        var longWait = FetchError(
                            error.code, url: spec.url,
                            reason: "\(error.reason); the server asked to retry after "
                                + "\(retryAfter.milliseconds / 1000) s, longer than the "
                                + "\(retry.maxRetryAfter.milliseconds / 1000) s limit",
                            status: error.status, attempts: attempt)
                        longWait.retryAfter = retryAfter
                        longWait.responseHeaders = error.responseHeaders
                        longWait.responseBody = error.responseBody
                        throw longWait
                    }
                    wait = retryAfter
                }
                logger.debug(
                    "retrying",
                    metadata: [
                        "pixcrawl.url": "\(error.url)", "pixcrawl.attempt": "\(attempt)",
                        "pixcrawl.wait_ms": "\(wait.milliseconds)", "pixcrawl.error": "\(error.reason)",
                    ])
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Performs one attempt inside the host's budget: waits for a connection (or fails with
    /// ``FetchError/Code/hostPaused`` when the host is paused for longer than the budget waits), then reports the
    /// bytes and whether the host answered, throttled (429/503) or did not answer.
    private func performWithinBudget(_ spec: TransferSpec) async throws -> TransferResult {
        guard let hostBudget, let host = (try? ParsedURL(spec.url))?.host.lowercased() else {
            return try await engine.perform(spec)
        }
        var paused = Duration.zero
        var leaseID: Int64?
        while leaseID == nil {
            try Task.checkCancellation()
            switch try await hostBudget.acquire(host: host) {
            case .granted(let id):
                leaseID = id
            case .wait(let wait):
                try await Task.sleep(for: min(max(wait, .milliseconds(5)), .milliseconds(250)))
            case .paused(let wait, let reason):
                paused += wait
                guard paused <= hostBudget.maxPauseWait else {
                    var error = FetchError(
                        .hostPaused, url: spec.url,
                        reason: "\(host) asked every worker to stay away (\(reason ?? "paused")) for another "
                            + "\(wait.milliseconds / 1000) s, longer than a request waits")
                    error.retryAfter = wait
                    throw error
                }
                try await Task.sleep(for: wait)
            }
        }
        let lease = leaseID ?? 0
        let result: TransferResult
        do {
            result = try await engine.perform(spec)
        } catch {
            await hostBudget.release(leaseID: lease, host: host, bytes: 0, outcome: .unanswered, rateLimit: nil)
            throw error
        }
        let outcome: HostOutcome
        if !result.succeeded {
            outcome = .unanswered
        } else if result.status == 429 || result.status == 503 {
            outcome = .throttled(status: result.status, retryAfter: Self.retryAfter(result.headers))
        } else if result.timing.firstByte > hostBudget.slowResponse {
            outcome = .slow
        } else {
            outcome = .answered
        }
        await hostBudget.release(
            leaseID: lease, host: host, bytes: result.body.count, outcome: outcome,
            rateLimit: result.headers.rateLimitSummary)
        return result
    }

    private func outcome(of result: TransferResult, spec: TransferSpec, retry: RetryPolicy) -> Outcome {
        let url = spec.url
        if result.succeeded {
            let status = result.status
            if (200..<300).contains(status) {
                return .success(
                    FetchResponse(
                        requestedURL: url, url: result.finalURL, status: status, headers: result.headers,
                        body: result.body, remoteAddress: result.remoteAddress, remotePort: result.remotePort,
                        httpVersion: result.httpVersion, redirectCount: result.redirectCount, timing: result.timing,
                        attempts: 1))
            }
            let retryAfter = Self.retryAfter(result.headers)
            let retryable = status == 429 || (500..<600).contains(status)
            var error =
                status == 429
                ? FetchError(.rateLimited, url: url, reason: "HTTP 429 Too Many Requests", status: status)
                : FetchError(.httpStatus, url: url, reason: "HTTP \(status)", status: status)
            error.retryAfter = retryable ? retryAfter : nil
            error.responseHeaders = result.headers
            error.responseBody = Array(result.body.prefix(4096))
            return .failure(error, retryable: retryable, retryAfter: error.retryAfter)
        }
        if spec.truncateAtCap && result.capExceeded && result.code == CURLE_WRITE_ERROR {
            return outcome(of: withCode(result, CURLE_OK), spec: spec, retry: retry)
        }
        let status = result.status == 0 ? nil : result.status
        let message = result.errorMessage
        switch result.code {
        case CURLE_COULDNT_CONNECT where result.refusedAddress != nil || result.refusedClass != nil:
            let address = result.refusedAddress ?? IPAddress(v4: 0)
            return .failure(
                Self.blocked(
                    url: url, address: address, addressClass: result.refusedClass ?? .reserved,
                    context: result.redirectCount > 0 || result.finalURL != url ? " after a redirect" : ""),
                retryable: false, retryAfter: nil)
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(
                FetchError(
                    .schemeNotAllowed, url: url,
                    reason: "\(message); only http and https are fetched, also after redirects", status: status),
                retryable: false, retryAfter: nil)
        case CURLE_URL_MALFORMAT:
            return .failure(
                FetchError(.invalidURL, url: url, reason: message, status: status), retryable: false,
                retryAfter: nil)
        case CURLE_COULDNT_RESOLVE_HOST:
            return .failure(FetchError(.nameResolution, url: url, reason: message), retryable: false, retryAfter: nil)
        case _ where result.code == CURLE_FILESIZE_EXCEEDED || (result.code == CURLE_WRITE_ERROR && result.capExceeded):
            return .failure(
                FetchError(
                    .bodyTooLarge, url: url,
                    reason: "the body is larger than the \(spec.maxBodyBytes)-byte cap; the transfer was aborted",
                    status: status, bytesReceived: result.bytesOffered),
                retryable: false, retryAfter: nil)
        case CURLE_OPERATION_TIMEDOUT:
            if message.hasPrefix("Operation too slow") {
                return .failure(
                    FetchError(.tooSlow, url: url, reason: message, status: status),
                    retryable: retry.retriesSlowTransfers, retryAfter: nil)
            }
            return .failure(
                FetchError(.timedOut, url: url, reason: message, status: status), retryable: true,
                retryAfter: nil)
        case CURLE_TOO_MANY_REDIRECTS:
            return .failure(
                FetchError(
                    .tooManyRedirects, url: url,
                    reason: "more than \(spec.maxRedirects) redirects (\(message))", status: status),
                retryable: false, retryAfter: nil)
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .failure(
                FetchError(.connectionFailed, url: url, reason: message, status: status),
                retryable: true, retryAfter: nil)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE:
            return .failure(
                FetchError(.tlsFailure, url: url, reason: message, status: status), retryable: false,
                retryAfter: nil)
        default:
            return .failure(
                FetchError(.transferFailed, url: url, reason: message, status: status),
                retryable: false, retryAfter: nil)
        }
    }

    private func withCode(_ result: TransferResult, _ code: CURLcode) -> TransferResult {
        var copy = result
        copy.code = code
        return copy
    }

    /// `Retry-After` as a wait: delta seconds or an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers["retry-after"]?.trimmingWhitespace(), !value.isEmpty else { return nil }
        if value.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Int64(value).map { .seconds($0) } ?? .seconds(Int64.max / 4)
        }
        let date = curl_getdate(value, nil)
        guard date >= 0 else { return nil }
        return .seconds(max(0, Int64(date) - Int64(time(nil))))
    }
}
