import Foundation

/// What one host may receive from the whole fleet: connections at once, requests per second, bytes per second.
public struct HostLimits: Hashable, Sendable, CustomStringConvertible {
    /// Connections open at once, over every worker sharing the store.
    public var connections: Int
    /// Requests started per second; `nil` is unlimited.
    public var requestsPerSecond: Double?
    /// Bytes received per second; `nil` is unlimited.
    public var bytesPerSecond: Double?

    /// Creates limits.
    /// - Parameters:
    ///   - connections: connections at once (at least 1).
    ///   - requestsPerSecond: requests started per second, or `nil`.
    ///   - bytesPerSecond: bytes received per second, or `nil`.
    public init(connections: Int, requestsPerSecond: Double? = nil, bytesPerSecond: Double? = nil) {
        self.connections = max(1, connections)
        self.requestsPerSecond = requestsPerSecond.flatMap { $0 > 0 ? $0 : nil }
        self.bytesPerSecond = bytesPerSecond.flatMap { $0 > 0 ? $0 : nil }
    }

    /// `8 connections`, `2 connections, 3125000 B/s`.
    public var description: String {
        var parts = ["\(connections) connection\(connections == 1 ? "" : "s")"]
        if let requestsPerSecond { parts.append("\(requestsPerSecond) req/s") }
        if let bytesPerSecond { parts.append("\(Int64(bytesPerSecond)) B/s") }
        return parts.joined(separator: ", ")
    }
}

/// The store's answer to a request for a connection to a host.
public enum HostSlotDecision: Hashable, Sendable {
    /// A slot is held: release it with this lease id when the transfer is over.
    case granted(leaseID: Int64)
    /// Every slot is taken, or the request or byte rate is spent: ask again after about this long.
    case wait(Duration)
    /// The host asked the fleet to stay away (429/503 with `Retry-After`) until this long from now.
    case paused(for: Duration, reason: String?)
}

/// How a transfer to a host went, as its budget sees it.
public enum HostOutcome: Hashable, Sendable {
    /// Answered (any status but 429/503).
    case answered
    /// 429 or 503: the host is overloaded or throttling; `retryAfter` pauses it for the whole fleet.
    case throttled(status: Int, retryAfter: Duration?)
    /// Answered, but slowly (the first byte came later than the policy's threshold): one connection fewer.
    case slow
    /// No answer (connection failure, timeout): the budget is left as it is.
    case unanswered
}

/// A host's budget as the store holds it, for `status`.
public struct HostBudgetStatus: Hashable, Sendable {
    /// The host name.
    public var host: String
    /// The configured connection limit.
    public var maxConnections: Int
    /// The limit in force (lowered while the host throttles).
    public var currentConnections: Int
    /// Connections held now.
    public var activeConnections: Int
    /// How long the host stays paused, when it is.
    public var pausedFor: Duration?
    /// Why it was paused or lowered (`HTTP 429`).
    public var reason: String?
    /// The host's last rate-limit headers in a line (`anon_burst 19 left of 20/min`), when it sends them.
    public var rateLimit: String?

    /// Creates a status.
    public init(
        host: String, maxConnections: Int, currentConnections: Int, activeConnections: Int, pausedFor: Duration?,
        reason: String?, rateLimit: String? = nil
    ) {
        self.rateLimit = rateLimit
        self.host = host
        self.maxConnections = maxConnections
        self.currentConnections = currentConnections
        self.activeConnections = activeConnections
        self.pausedFor = pausedFor
        self.reason = reason
    }
}
