import Foundation
import Logging
import PixCore
import PixSQL

/// The one implementation of ``CrawlStore``, over either SQL engine.
///
/// Statements use `$n` placeholders in both dialects; where SQLite and PostgreSQL differ (time
/// arithmetic, row locking) the dialect picks the fragment. Every value is a bound parameter.
public final class SQLCrawlStore: CrawlStore {
    /// The connection pool.
    public let database: SQLDatabase
    let logger: Logger
    /// How often a claim also fails the chunks whose lease expired on their last attempt (see
    /// ``claimChunk(workerID:lease:jobID:)``).
    public let expiredLeaseSweep: SweepThrottle

    /// The default ``expiredLeaseSweep`` interval.
    public static let defaultExpiredLeaseSweepInterval = Duration.milliseconds(500)

    /// Wraps an open database. Call ``Migrator/migrate()`` first on a fresh store.
    /// - Parameters:
    ///   - database: the connection pool.
    ///   - expiredLeaseSweepInterval: the shortest time between two sweeps of expired last-attempt leases by
    ///     claims of this store (a claim that finds nothing claimable sweeps regardless).
    ///   - logger: where store events are logged.
    public init(
        database: SQLDatabase, expiredLeaseSweepInterval: Duration = defaultExpiredLeaseSweepInterval,
        logger: Logger = Logger(label: "pixcrawl.store")
    ) {
        self.database = database
        self.expiredLeaseSweep = SweepThrottle(interval: expiredLeaseSweepInterval)
        self.logger = logger
    }

    /// Opens the store at `location` (one clear error when it is unreachable or unwritable).
    public static func open(
        _ location: DatabaseLocation, maxConnections: Int? = nil,
        expiredLeaseSweepInterval: Duration = defaultExpiredLeaseSweepInterval,
        logger: Logger = Logger(label: "pixcrawl.store")
    ) async throws -> SQLCrawlStore {
        SQLCrawlStore(
            database: try await SQLDatabase(location: location, maxConnections: maxConnections, logger: logger),
            expiredLeaseSweepInterval: expiredLeaseSweepInterval, logger: logger)
    }

    public var dialect: SQLDialect { database.dialect }

    public func close() { database.close() }
}

/// Dialect-specific SQL fragments.
extension SQLDialect {
    /// The current time as the database sees it.
    var now: String {
        switch self {
        case .postgres: "now()"
        case .sqlite: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        }
    }

    /// The current time plus `$n` seconds (a bound double).
    func nowPlus(seconds parameter: Int) -> String {
        switch self {
        case .postgres: "(now() + ($\(parameter)::double precision * interval '1 second'))"
        case .sqlite: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', $\(parameter)))"
        }
    }

    /// A cast making PostgreSQL accept a text parameter for a jsonb column; SQLite needs none.
    var jsonCast: String { self == .postgres ? "::jsonb" : "" }
    var uuidCast: String { self == .postgres ? "::uuid" : "" }
}
