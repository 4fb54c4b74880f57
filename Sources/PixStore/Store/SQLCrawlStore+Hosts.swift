import Foundation
import PixCore

/// Fleet-wide host budgets (`host_budgets`, `host_leases`) and chunk deferral.
///
/// Every decision is taken in one transaction on the row of its host (PostgreSQL locks it with the upsert that
/// starts the transaction; SQLite's `BEGIN IMMEDIATE` serialises every writer), on the database's clock in seconds
/// since the epoch. Connections are leases that expire, so a crashed worker frees its slots. Request and byte rates
/// are paced like a virtual clock: a request may start once `next_request_at` has passed, and a finished transfer
/// pushes `bytes_paid_until` forward by its bytes over the byte rate, so no new transfer starts while the bytes
/// already received are not yet paid for. A 429/503 halves the connections in force and, with `Retry-After`, pauses
/// the host; a slow answer takes one connection away; every `restoreAfter` answered requests give one back.
extension SQLCrawlStore {
    /// Answered requests after which one connection taken away by a 429/503 is given back.
    static let restoreAfter = 20

    /// Asks for one connection to `host` under `limits` (stored as the host's limits).
    /// - Parameters:
    ///   - host: the host name.
    ///   - holder: who holds the slot (the worker id), for inspection.
    ///   - limits: the host's configured limits.
    ///   - lease: how long the slot is held at most (a transfer's total timeout).
    public func acquireHostSlot(host: String, holder: String, limits: HostLimits, lease: Duration) async throws
        -> HostSlotDecision
    {
        try await database.transaction { connection in
            let dialect = connection.dialect
            try connection.query(
                """
                INSERT INTO host_budgets (host, max_connections, current_connections, requests_per_second,
                    bytes_per_second)
                VALUES ($1, $2, $2, $3, $4)
                ON CONFLICT (host) DO UPDATE SET max_connections = excluded.max_connections,
                    current_connections = CASE WHEN host_budgets.current_connections > excluded.max_connections
                        THEN excluded.max_connections ELSE host_budgets.current_connections END,
                    requests_per_second = excluded.requests_per_second, bytes_per_second = excluded.bytes_per_second
                """, .text(host), .int(limits.connections), limits.requestsPerSecond.map { .double($0) } ?? .null,
                limits.bytesPerSecond.map { .double($0) } ?? .null)
            let row = try connection.query(
                """
                SELECT \(dialect.epochNow) AS now, current_connections, requests_per_second, next_request_at,
                    bytes_paid_until, paused_until, pause_reason
                FROM host_budgets WHERE host = $1
                """, .text(host)
            ).first.orThrow("host budget")
            let now = row.double("now") ?? 0
            if let until = row.double("paused_until"), until > now {
                return .paused(for: .seconds(until - now), reason: row.string("pause_reason"))
            }
            try connection.query(
                "DELETE FROM host_leases WHERE host = $1 AND expires_at < $2", .text(host), .double(now))
            let held =
                try connection.query(
                    "SELECT COUNT(*) AS held FROM host_leases WHERE host = $1", .text(host)
                ).first?.int("held") ?? 0
            if held >= (row.int("current_connections") ?? 1) { return .wait(.milliseconds(50)) }
            let nextRequest = row.double("next_request_at") ?? 0
            if nextRequest > now { return .wait(.seconds(nextRequest - now)) }
            let paidUntil = row.double("bytes_paid_until") ?? 0
            if paidUntil > now { return .wait(.seconds(paidUntil - now)) }
            let interval = row.double("requests_per_second").map { 1 / $0 } ?? 0
            try connection.query(
                "UPDATE host_budgets SET next_request_at = $2, updated_at = \(dialect.now) WHERE host = $1",
                .text(host), .double(now + interval))
            let leaseID = try connection.query(
                "INSERT INTO host_leases (host, holder, expires_at) VALUES ($1, $2, $3) RETURNING id",
                .text(host), .text(holder), .double(now + lease.seconds)
            ).first?.int64("id")
            return .granted(leaseID: try leaseID.orThrow("host lease"))
        }
    }

    /// Gives a slot back and records how the transfer went.
    /// - Parameters:
    ///   - leaseID: the slot's lease.
    ///   - host: the host it was held on.
    ///   - bytes: bytes received (paid for against the byte rate).
    ///   - outcome: whether the host answered, throttled or did not answer.
    ///   - rateLimit: the answer's rate-limit headers in a line, kept for `status`.
    public func releaseHostSlot(
        leaseID: Int64, host: String, bytes: Int, outcome: HostOutcome, rateLimit: String? = nil
    ) async throws {
        try await database.transaction { connection in
            let dialect = connection.dialect
            try connection.query("DELETE FROM host_leases WHERE id = $1", .int(leaseID))
            guard
                let row = try connection.query(
                    """
                    SELECT \(dialect.epochNow) AS now, max_connections, current_connections, bytes_per_second,
                        bytes_paid_until, paused_until, successes
                    FROM host_budgets WHERE host = $1
                    """, .text(host)
                ).first
            else { return }
            let now = row.double("now") ?? 0
            var current = row.int("current_connections") ?? 1
            var successes = row.int("successes") ?? 0
            var pausedUntil = row.double("paused_until") ?? 0
            var reason: String?
            var paidUntil = row.double("bytes_paid_until") ?? 0
            if let rate = row.double("bytes_per_second"), bytes > 0 {
                paidUntil = max(now, paidUntil) + Double(bytes) / rate
            }
            switch outcome {
            case .answered:
                successes += 1
                if successes >= Self.restoreAfter, current < (row.int("max_connections") ?? 1) {
                    current += 1
                    successes = 0
                }
            case .throttled(let status, let retryAfter):
                current = max(1, current / 2)
                successes = 0
                reason = "HTTP \(status)"
                if let retryAfter { pausedUntil = max(pausedUntil, now + retryAfter.seconds) }
            case .slow:
                current = max(1, current - 1)
                successes = 0
                reason = "slow answers"
            case .unanswered:
                break
            }
            try connection.query(
                """
                UPDATE host_budgets SET current_connections = $2, successes = $3, paused_until = $4,
                    pause_reason = COALESCE($5, pause_reason), bytes_paid_until = $6,
                    rate_limit = COALESCE($7, rate_limit), updated_at = \(dialect.now)
                WHERE host = $1
                """, .text(host), .int(current), .int(successes), .double(pausedUntil), reason.map { .text($0) } ?? .null,
                .double(paidUntil), rateLimit.map { .text($0) } ?? .null)
        }
    }

    /// The hosts that are paused, throttled to fewer connections than configured, or in use.
    public func hostBudgets() async throws -> [HostBudgetStatus] {
        try await database.withConnection { connection in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                SELECT b.host, b.max_connections, b.current_connections, b.paused_until, b.pause_reason, b.rate_limit,
                    \(dialect.epochNow) AS now,
                    (SELECT COUNT(*) FROM host_leases l WHERE l.host = b.host
                        AND l.expires_at >= \(dialect.epochNow)) AS held
                FROM host_budgets b ORDER BY b.host
                """)
            return rows.compactMap { row -> HostBudgetStatus? in
                guard let host = row.string("host") else { return nil }
                let now = row.double("now") ?? 0
                let until = row.double("paused_until") ?? 0
                let status = HostBudgetStatus(
                    host: host, maxConnections: row.int("max_connections") ?? 1,
                    currentConnections: row.int("current_connections") ?? 1, activeConnections: row.int("held") ?? 0,
                    pausedFor: until > now ? .seconds(until - now) : nil, reason: row.string("pause_reason"),
                    rateLimit: row.string("rate_limit"))
                let notable =
                    status.pausedFor != nil || status.currentConnections < status.maxConnections
                    || status.activeConnections > 0 || status.rateLimit != nil
                return notable ? status : nil
            }
        }
    }

    /// How long each of `hosts` stays paused; hosts that are not paused are left out.
    public func hostPauses(_ hosts: Set<String>) async throws -> [String: Duration] {
        guard !hosts.isEmpty else { return [:] }
        return try await database.withConnection { connection in
            let dialect = connection.dialect
            var pauses: [String: Duration] = [:]
            for host in hosts.sorted() {
                let row = try connection.query(
                    "SELECT paused_until - \(dialect.epochNow) AS left FROM host_budgets WHERE host = $1",
                    .text(host)
                ).first
                if let left = row?.double("left"), left > 0 { pauses[host] = .seconds(left) }
            }
            return pauses
        }
    }

    /// Gives a chunk back to be claimed again after `delay` without counting the attempt (a provider asked to be
    /// left alone, or every candidate waits for a paused host), recording why.
    /// - Returns: `false` when the lease was already lost (nothing written).
    public func deferChunk(chunkID: Int64, token: String, delay: Duration, reason: NewErrorLog) async throws -> Bool {
        try await database.transaction { connection in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                UPDATE crawl_chunks SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, last_error = $3,
                    available_at = \(dialect.nowPlus(seconds: 4)), updated_at = \(dialect.now)
                WHERE id = $1 AND status = 'active' AND lease_token = $2 RETURNING job_id
                """, .int(chunkID), .text(token), .text(reason.message), .double(delay.seconds))
            guard let jobID = rows.first?.int64("job_id") else { return false }
            var record = reason
            record.jobID = jobID
            record.chunkID = chunkID
            try Self.insertErrors(connection, [record])
            try connection.query(
                "UPDATE crawl_jobs SET active_chunks = active_chunks - 1, updated_at = \(dialect.now) WHERE id = $1",
                .int(jobID))
            return true
        }
    }
}

extension SQLDialect {
    /// The database's clock in seconds since the Unix epoch.
    var epochNow: String {
        switch self {
        case .postgres: "extract(epoch from clock_timestamp())::double precision"
        case .sqlite: "((julianday('now') - 2440587.5) * 86400.0)"
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
