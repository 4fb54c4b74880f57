import PixCore

/// Where a ``Downloader`` asks for a connection before each request and reports how it went: the fleet-wide
/// budget held in the store (PixCoordinate's `StoreHostBudget`), or anything else that keeps per-host limits.
public protocol HostBudget: Sendable {
    /// Asks for one connection to `host`.
    func acquire(host: String) async throws -> HostSlotDecision
    /// Gives a granted connection back, with the bytes received, how the host answered and its rate-limit
    /// headers in a line (``HTTPHeaders/rateLimitSummary``).
    func release(leaseID: Int64, host: String, bytes: Int, outcome: HostOutcome, rateLimit: String?) async
    /// The longest a request waits for a paused host before it fails with `RATE_LIMIT`.
    var maxPauseWait: Duration { get }
    /// A first byte later than this counts as a slow answer (one connection fewer for the host).
    var slowResponse: Duration { get }
}

/// The per-host limits a fleet keeps: a default for every host, and overrides by host name.
///
/// By default a host gets 8 connections at once from the whole fleet; `upload.wikimedia.org` gets 2 and about
/// 25 Mbit/s, as Wikimedia's robot policy asks. Overrides come from `PIXCRAWL_HOST_LIMITS`
/// (``parse(_:)``).
public struct HostPolicy: Hashable, Sendable {
    /// Limits of hosts without an override.
    public var defaultLimits: HostLimits
    /// Limits by lowercased host name.
    public var overrides: [String: HostLimits]
    /// The longest a request waits for a paused host before it fails with `RATE_LIMIT`.
    public var maxPauseWait: Duration
    /// A first byte later than this counts as a slow answer: the host gets one connection fewer until it recovers.
    public var slowResponse: Duration = .seconds(5)

    /// Wikimedia's upload host: 2 connections, 25 Mbit/s.
    public static let wikimediaUploads = HostLimits(connections: 2, bytesPerSecond: 25_000_000 / 8)

    /// Creates a policy.
    /// - Parameters:
    ///   - defaultLimits: limits of hosts without an override (8 connections).
    ///   - overrides: limits by host name (Wikimedia's upload host by default).
    ///   - maxPauseWait: the longest wait for a paused host.
    public init(
        defaultLimits: HostLimits = HostLimits(connections: 8),
        overrides: [String: HostLimits] = ["upload.wikimedia.org": wikimediaUploads],
        maxPauseWait: Duration = .seconds(30)
    ) {
        self.defaultLimits = defaultLimits
        self.overrides = Dictionary(overrides.map { ($0.key.lowercased(), $0.value) }) { $1 }
        self.maxPauseWait = maxPauseWait
    }

    /// The limits of `host`.
    public func limits(for host: String) -> HostLimits {
        overrides[host.lowercased()] ?? defaultLimits
    }

    /// Applies `HOST=CONNECTIONS[:RATE]` overrides, comma-separated; `*` sets the default. `RATE` is bytes per
    /// second with an optional `k`, `M` or `G` (powers of 1000) and `B/s` suffix, or `Nr/s` for requests per
    /// second; several rates are separated by `:` (`upload.wikimedia.org=2:3M`, `*=4:10r/s`).
    /// - Returns: `nil` when an entry is not of that form.
    public func applying(_ text: String) -> HostPolicy? {
        var policy = self
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { return nil }
            let fields = parts[1].split(separator: ":")
            guard let first = fields.first, let connections = Int(first), connections >= 1 else { return nil }
            var limits = HostLimits(connections: connections)
            for field in fields.dropFirst() {
                var value = field.lowercased()
                if value.hasSuffix("/s") { value.removeLast(2) }
                if value.hasSuffix("r") {
                    guard let rate = Double(value.dropLast()), rate > 0 else { return nil }
                    limits.requestsPerSecond = rate
                    continue
                }
                if value.hasSuffix("b") { value.removeLast() }
                let scale: Double
                switch value.last {
                case "k": scale = 1e3
                case "m": scale = 1e6
                case "g": scale = 1e9
                default: scale = 1
                }
                if scale != 1 { value.removeLast() }
                guard let rate = Double(value), rate > 0 else { return nil }
                limits.bytesPerSecond = rate * scale
            }
            let host = parts[0].lowercased()
            if host == "*" { policy.defaultLimits = limits } else { policy.overrides[host] = limits }
        }
        return policy
    }
}
