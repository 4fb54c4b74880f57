import PixFetch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What a provider's rate-limit headers say about the next request: shared by every request of one source.
///
/// Understands Openverse's per-scope pairs (`X-RateLimit-Limit-anon_burst: 20/min` with
/// `X-RateLimit-Available-anon_burst: 0`) and the common `X-RateLimit-Remaining` / `X-RateLimit-Reset`. When a
/// scope has nothing left, requests wait until its window has passed: the reset time when given, else one full
/// period of the limit.
final class RateLimitState: Sendable {
    private let notBefore = Mutex<ContinuousClock.Instant?>(nil)
    private let latest = Mutex<[String: RateLimitReading]>([:])

    /// The latest reading of every scope seen so far, by scope name.
    var readings: [RateLimitReading] {
        latest.withLock { $0.values.sorted { $0.scope < $1.scope } }
    }

    /// How long to wait before the next request, or `nil` to go now.
    func pendingDelay(now: ContinuousClock.Instant = .now) -> Duration? {
        notBefore.withLock { instant in
            guard let instant, instant > now else { return nil }
            return now.duration(to: instant)
        }
    }

    /// Holds further requests back for `duration` (never shortens an existing hold).
    func hold(for duration: Duration, now: ContinuousClock.Instant = .now) {
        let until = now.advanced(by: duration)
        notBefore.withLock { instant in
            if instant.map({ $0 < until }) ?? true { instant = until }
        }
    }

    /// Reads a response's rate-limit headers; holds requests back when a scope is used up.
    func record(_ headers: HTTPHeaders, now: ContinuousClock.Instant = .now) {
        if let wait = Self.exhaustedWait(headers) { hold(for: wait, now: now) }
        let readings = headers.rateLimitReadings
        guard !readings.isEmpty else { return }
        latest.withLock { latest in
            for reading in readings { latest[reading.scope] = reading }
        }
    }

    /// The wait the headers ask for when some scope has no requests left, else `nil`: its reset time when given,
    /// else one period of its limit, else a minute.
    static func exhaustedWait(_ headers: HTTPHeaders) -> Duration? {
        headers.rateLimitReadings.filter { $0.available <= 0 }.map { reading in
            reading.reset.flatMap(resetWait) ?? reading.limit.flatMap(period) ?? .seconds(60)
        }.max()
    }

    /// `X-RateLimit-Reset`: seconds to wait, or a Unix time when the number is that large.
    static func resetWait(_ value: String) -> Duration? {
        guard let number = Int64(value.trimmingWhitespace), number >= 0 else { return nil }
        if number > 1_000_000_000 {
            let now = Int64(time(nil))
            return .seconds(max(0, number - now))
        }
        return .seconds(number)
    }

    /// The window of a DRF-style rate, `20/min`, `200/day`, `1/second`; `nil` when it has none.
    static func period(_ rate: String) -> Duration? {
        let parts = rate.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let unit = parts[1].trimmingWhitespace.lowercased()
        guard let first = unit.first else { return nil }
        switch first {
        case "s": return .seconds(1)
        case "m": return .seconds(60)
        case "h": return .seconds(3600)
        case "d": return .seconds(86_400)
        default: return nil
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingWhitespace: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension Duration {
    /// Whole seconds, rounded up, for messages.
    var wholeSecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return attoseconds > 0 ? seconds + 1 : seconds
    }
}
