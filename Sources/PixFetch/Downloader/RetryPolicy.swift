/// When and how long to wait before repeating a failed request.
///
/// Retried: connection failures, timeouts, 429 and 5xx. Not retried: other 4xx, blocked addresses, robots
/// refusals, oversized bodies. The wait doubles per attempt from ``baseDelay`` up to ``maxDelay``, with jitter
/// (half fixed, half random). A `Retry-After` header (seconds or HTTP date) replaces the computed wait; when it
/// asks for more than ``maxRetryAfter`` the request fails at once instead of waiting.
public struct RetryPolicy: Hashable, Sendable {
    /// Total attempts including the first; 1 disables retries.
    public var maxAttempts: Int
    /// The wait before the first retry, before jitter.
    public var baseDelay: Duration
    /// The longest computed wait.
    public var maxDelay: Duration
    /// The longest `Retry-After` that is honoured by waiting.
    public var maxRetryAfter: Duration
    /// Whether a transfer aborted by the low-speed limit (a slow drip) is retried.
    public var retriesSlowTransfers: Bool

    /// Creates a policy.
    /// - Parameters:
    ///   - maxAttempts: total attempts including the first (at least 1).
    ///   - baseDelay: the wait before the first retry.
    ///   - maxDelay: the cap of the exponential wait.
    ///   - maxRetryAfter: the longest `Retry-After` to wait for.
    ///   - retriesSlowTransfers: whether low-speed aborts are retried.
    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(120), retriesSlowTransfers: Bool = false
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.retriesSlowTransfers = retriesSlowTransfers
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The jittered exponential wait before retry number `retry` (1 for the first retry).
    func backoff(beforeRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let base = Double(baseDelay.milliseconds) * Double(1 << exponent)
        let capped = min(base, Double(maxDelay.milliseconds))
        let jittered = capped / 2 + Double.random(in: 0...(capped / 2))
        return .milliseconds(Int64(jittered.rounded()))
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, never negative.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
