/// What one rate-limit scope of a provider had left at its last answer.
public struct RateLimitReading: Hashable, Sendable {
    /// The scope (`anon_burst`, `anon_sustained`, …; `default` when the header names none).
    public var scope: String
    /// Requests left in the current window.
    public var available: Int
    /// The scope's limit as the provider states it (`20/min`), when it does.
    public var limit: String?
    /// The scope's `X-RateLimit-Reset` (seconds, or a Unix time), when it is sent.
    public var reset: String?

    /// Creates a reading.
    public init(scope: String, available: Int, limit: String?, reset: String? = nil) {
        self.scope = scope
        self.available = available
        self.limit = limit
        self.reset = reset
    }
}

extension HTTPHeaders {
    /// What each rate-limit scope of a response has left: `X-RateLimit-Available-SCOPE` (Openverse) or
    /// `X-RateLimit-Remaining[-SCOPE]`, with the matching `X-RateLimit-Limit…` when present.
    public var rateLimitReadings: [RateLimitReading] {
        var readings: [RateLimitReading] = []
        for field in self {
            let name = field.name.lowercased()
            let suffix: Substring
            if name.hasPrefix("x-ratelimit-available") {
                suffix = name.dropFirst("x-ratelimit-available".count)
            } else if name.hasPrefix("x-ratelimit-remaining") {
                suffix = name.dropFirst("x-ratelimit-remaining".count)
            } else {
                continue
            }
            guard let available = Int(field.value.trimmingWhitespace()) else { continue }
            let scope = suffix.drop { $0 == "-" || $0 == "_" }
            readings.append(
                RateLimitReading(
                    scope: scope.isEmpty ? "default" : String(scope), available: available,
                    limit: self["x-ratelimit-limit\(suffix)"]?.trimmingWhitespace(),
                    reset: self["x-ratelimit-reset\(suffix)"]?.trimmingWhitespace()))
        }
        return readings
    }

    /// The rate-limit readings in one line for `status`: `anon_burst 19 left of 20/min, …`; `nil` when none.
    public var rateLimitSummary: String? {
        let readings = rateLimitReadings
        guard !readings.isEmpty else { return nil }
        return readings.sorted { $0.scope < $1.scope }.map { reading in
            "\(reading.scope) \(reading.available) left" + (reading.limit.map { " of \($0)" } ?? "")
        }.joined(separator: ", ")
    }
}
