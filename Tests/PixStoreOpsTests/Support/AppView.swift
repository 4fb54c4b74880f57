import Foundation
import PixCore
import PixStore
import PixStoreOps

/// Everything the application reads from a store, through the store API: two stores that give equal
/// views look identical to PixCrawler.
struct AppView: Equatable {
    var profiles: [Profile] = []
    var tokens: [[APIToken]] = []
    var projects: [Project] = []
    var jobs: [CrawlJob] = []
    var chunks: [[CrawlChunk]] = []
    var images: [[ImageRecord]] = []
    var errors: [[ErrorLogEntry]] = []
    var errorSummaries: [[ErrorCategory: Int]] = []
    var activity: [[ActivityLogEntry]] = []
    var workers: [WorkerRecord] = []

    static func read(_ store: SQLCrawlStore) async throws -> AppView {
        var view = AppView()
        view.profiles = try await store.listProfiles().sorted { $0.id.uuidString < $1.id.uuidString }
        for profile in view.profiles {
            view.tokens.append(try await store.listAPITokens(profileID: profile.id))
            view.activity.append(try await store.activity(userID: profile.id, limit: 1000))
        }
        view.activity.append(try await store.activity(userID: nil, limit: 1000))
        view.projects = try await store.listProjects(ownerID: nil).sorted { $0.id < $1.id }
        view.jobs = try await store.listJobs(projectID: nil, status: nil, limit: 1000, offset: 0).sorted { $0.id < $1.id }
        for job in view.jobs {
            view.chunks.append(try await store.chunks(jobID: job.id))
            view.images.append(try await store.images(jobID: job.id, validOnly: false, afterID: 0, limit: 100_000))
            view.errors.append(try await store.errors(jobID: job.id, limit: 100_000))
            view.errorSummaries.append(try await store.errorSummary(jobID: job.id))
        }
        view.workers = try await store.listWorkers().sorted { $0.id < $1.id }
        return view
    }
}

/// Row counts of every table of ``StoreTables/copyOrder``, read directly.
func rowCounts(_ database: SQLDatabase) async throws -> [String: Int] {
    try await database.withConnection { try rowCountsSync($0) }
}

func rowCountsSync(_ connection: any SQLConnection) throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for table in StoreTables.copyOrder {
        counts[table] = try connection.query("SELECT COUNT(*) AS n FROM \(table)").first?.int("n") ?? -1
    }
    return counts
}

/// The largest id of `table`.
func maxID(_ database: SQLDatabase, _ table: String) async throws -> Int64 {
    try await database.withConnection { connection in
        try connection.query("SELECT MAX(id) AS m FROM \(table)").first?.int64("m") ?? 0
    }
}
