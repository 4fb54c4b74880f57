import Foundation
import PixStore

/// The result of a readiness check: each named condition and whether it holds.
public struct ReadinessReport: Sendable, Hashable, Codable {
    /// Condition name (`store`, `migrations`) and whether it holds.
    public var checks: [String: Bool]
    /// Why a condition fails, for the operator.
    public var problems: [String]

    public init(checks: [String: Bool], problems: [String] = []) {
        self.checks = checks
        self.problems = problems
    }

    /// True when every condition holds.
    public var isReady: Bool { !checks.isEmpty && checks.values.allSatisfy { $0 } }
}

/// What `/readyz` asks.
public protocol ReadinessCheck: Sendable {
    /// Checks every condition; never throws (a failure is a `false` condition).
    func check() async -> ReadinessReport
}

/// Ready when the store answers a query and every migration file is applied.
public struct StoreReadiness: ReadinessCheck {
    let store: SQLCrawlStore
    let migrationsDirectory: URL?

    /// - Parameters:
    ///   - store: the store to probe.
    ///   - migrationsDirectory: the migrations the store must have applied (default: found automatically).
    public init(store: SQLCrawlStore, migrationsDirectory: URL? = nil) {
        self.store = store
        self.migrationsDirectory = migrationsDirectory
    }

    public func check() async -> ReadinessReport {
        var report = ReadinessReport(checks: ["store": false, "migrations": false])
        do {
            _ = try await store.profile(id: UUID())
            report.checks["store"] = true
        } catch {
            report.problems.append("store unreachable: \(error)")
            return report
        }
        do {
            let current = try await Migrator(database: store.database, directory: migrationsDirectory).isCurrent()
            report.checks["migrations"] = current
            if !current { report.problems.append("pending migrations: run `pixcrawl migrate`") }
        } catch {
            report.problems.append("migrations: \(error)")
        }
        return report
    }
}
