import Foundation
import PixCore
import PixSQL
import PixStore

/// Deletes old log rows and the jobs of deleted projects in small batches, one short transaction per
/// batch, so no table is locked for long and crawls keep running meanwhile. The same statements run on
/// both engines.
///
/// Jobs of deleted projects go bottom-up: their images, error records and chunks in batches (the job's
/// counters follow in the same transactions, so counters equal rows at every instant), then the job row
/// itself, whose validation and export jobs and download records cascade with it.
public struct Retention: Sendable {
    /// What to delete.
    public struct Policy: Sendable, Hashable {
        /// Delete `error_logs` rows created before now minus this span.
        public var errorsOlderThan: TimeSpan?
        /// Delete `activity_logs` rows stamped before now minus this span.
        public var activityOlderThan: TimeSpan?
        /// Delete the crawl jobs (and everything below them) of projects with status `deleted`.
        public var jobsOfDeletedProjects: Bool

        /// A policy; every part is off unless given.
        public init(errorsOlderThan: TimeSpan? = nil, activityOlderThan: TimeSpan? = nil, jobsOfDeletedProjects: Bool = false) {
            self.errorsOlderThan = errorsOlderThan
            self.activityOlderThan = activityOlderThan
            self.jobsOfDeletedProjects = jobsOfDeletedProjects
        }
    }

    /// What was (or, from ``preview(_:now:)``, would be) deleted.
    public struct Report: Sendable, Hashable, Codable {
        /// Old `error_logs` rows.
        public var errorLogs = 0
        /// Old `activity_logs` rows.
        public var activityLogs = 0
        /// Crawl jobs of deleted projects.
        public var jobs = 0
        /// Their images.
        public var jobImages = 0
        /// Their chunks.
        public var jobChunks = 0
        /// Their error records.
        public var jobErrorLogs = 0
        /// Archive paths (`export_jobs.file_path`) of the deleted jobs' exports: the caller removes the files.
        public var exportFiles: [String] = []
        /// `storage_url`s of deleted images that no remaining image references: blobs the caller may remove.
        public var unreferencedStorageURLs: [String] = []
        /// Transactions used.
        public var batches = 0

        /// An empty report: nothing deleted.
        public init() {}
    }

    private let database: SQLDatabase
    private let batchSize: Int
    private let pause: Duration
    /// Test hook: called after each batch of a deleted project's job (before the job row goes).
    var afterJobBatch: (@Sendable (_ jobID: Int64) async throws -> Void)?

    /// - Parameters:
    ///   - database: the store.
    ///   - batchSize: rows deleted per transaction (default 1,000).
    ///   - pauseBetweenBatches: a breather between transactions, letting other writers in.
    public init(database: SQLDatabase, batchSize: Int = 1000, pauseBetweenBatches: Duration = .zero) {
        self.database = database
        self.batchSize = max(1, batchSize)
        self.pause = pauseBetweenBatches
    }

    /// Applies `policy`; cutoffs are measured back from `now`.
    public func run(_ policy: Policy, now: Date = Date()) async throws -> Report {
        var report = Report()
        if let span = policy.errorsOlderThan {
            let (rows, batches) = try await deleteInBatches(table: "error_logs", column: "created_at", before: span.before(now))
            report.errorLogs = rows
            report.batches += batches
        }
        if let span = policy.activityOlderThan {
            let (rows, batches) = try await deleteInBatches(
                table: "activity_logs", column: "\"timestamp\"", before: span.before(now))
            report.activityLogs = rows
            report.batches += batches
        }
        if policy.jobsOfDeletedProjects {
            let jobs = try await deleteJobsOfDeletedProjects()
            report.jobs = jobs.jobs
            report.jobImages = jobs.jobImages
            report.jobChunks = jobs.jobChunks
            report.jobErrorLogs = jobs.jobErrorLogs
            report.exportFiles = jobs.exportFiles
            report.unreferencedStorageURLs = jobs.unreferencedStorageURLs
            report.batches += jobs.batches
        }
        return report
    }

    /// Counts what ``run(_:now:)`` would delete, deleting nothing.
    public func preview(_ policy: Policy, now: Date = Date()) async throws -> Report {
        let errorCutoff = policy.errorsOlderThan?.before(now)
        let activityCutoff = policy.activityOlderThan?.before(now)
        let jobs = policy.jobsOfDeletedProjects
        return try await database.read { connection in
            var report = Report()
            if let errorCutoff {
                report.errorLogs =
                    try connection.query("SELECT COUNT(*) AS n FROM error_logs WHERE created_at < $1", .date(errorCutoff))
                    .first?.int("n") ?? 0
            }
            if let activityCutoff {
                report.activityLogs =
                    try connection.query(
                        "SELECT COUNT(*) AS n FROM activity_logs WHERE \"timestamp\" < $1", .date(activityCutoff)
                    ).first?.int("n") ?? 0
            }
            if jobs {
                let doomed = "SELECT j.id FROM crawl_jobs j JOIN projects p ON p.id = j.project_id WHERE p.status = 'deleted'"
                let row = try connection.query(
                    """
                    SELECT (SELECT COUNT(*) FROM (\(doomed)) AS d) AS jobs,
                        (SELECT COUNT(*) FROM images WHERE crawl_job_id IN (\(doomed))) AS images,
                        (SELECT COUNT(*) FROM crawl_chunks WHERE job_id IN (\(doomed))) AS chunks,
                        (SELECT COUNT(*) FROM error_logs WHERE job_id IN (\(doomed))) AS errors
                    """
                ).first
                report.jobs = row?.int("jobs") ?? 0
                report.jobImages = row?.int("images") ?? 0
                report.jobChunks = row?.int("chunks") ?? 0
                report.jobErrorLogs = row?.int("errors") ?? 0
            }
            return report
        }
    }

    /// Deletes `error_logs` rows created before `cutoff`; returns how many.
    public func deleteErrorLogs(olderThan cutoff: Date) async throws -> Int {
        try await deleteInBatches(table: "error_logs", column: "created_at", before: cutoff).rows
    }

    /// Deletes `activity_logs` rows stamped before `cutoff`; returns how many.
    public func deleteActivityLogs(olderThan cutoff: Date) async throws -> Int {
        try await deleteInBatches(table: "activity_logs", column: "\"timestamp\"", before: cutoff).rows
    }

    /// Deletes every crawl job of a project with status `deleted`, with its images, chunks, error records,
    /// validation and export jobs and download records.
    public func deleteJobsOfDeletedProjects() async throws -> Report {
        var report = Report()
        while let jobID = try await nextDoomedJob() {
            var exhausted = false
            while !exhausted {
                let (count, urls) = try await deleteImageBatch(jobID: jobID)
                report.jobImages += count
                report.unreferencedStorageURLs += urls
                report.batches += 1
                exhausted = count < batchSize
                try await breathe(jobID)
            }
            exhausted = false
            while !exhausted {
                let count = try await database.transaction { [batchSize] connection in
                    try connection.query(
                        """
                        DELETE FROM error_logs WHERE id IN (
                            SELECT id FROM error_logs WHERE job_id = $1 ORDER BY id LIMIT $2) RETURNING id
                        """, .int(jobID), .int(batchSize)
                    ).count
                }
                report.jobErrorLogs += count
                report.batches += 1
                exhausted = count < batchSize
                try await breathe(jobID)
            }
            exhausted = false
            while !exhausted {
                let count = try await deleteChunkBatch(jobID: jobID)
                report.jobChunks += count
                report.batches += 1
                exhausted = count < batchSize
                try await breathe(jobID)
            }
            let files = try await database.transaction { connection -> [String] in
                let files = try connection.query(
                    "SELECT file_path FROM export_jobs WHERE crawl_job_id = $1 AND file_path IS NOT NULL ORDER BY id",
                    .int(jobID)
                ).compactMap { $0.string("file_path") }
                try connection.query("DELETE FROM crawl_jobs WHERE id = $1", .int(jobID))
                return files
            }
            report.exportFiles += files
            report.jobs += 1
            report.batches += 1
        }
        return report
    }

    // MARK: Internals

    private func deleteInBatches(table: String, column: String, before cutoff: Date) async throws -> (rows: Int, batches: Int) {
        var total = 0
        var batches = 0
        while true {
            let count = try await database.transaction { [batchSize] connection in
                try connection.query(
                    """
                    DELETE FROM \(table) WHERE id IN (
                        SELECT id FROM \(table) WHERE \(column) < $1 ORDER BY id LIMIT $2) RETURNING id
                    """, .date(cutoff), .int(batchSize)
                ).count
            }
            total += count
            batches += 1
            if count < batchSize { return (total, batches) }
            try await breathe()
        }
    }

    private func nextDoomedJob() async throws -> Int64? {
        try await database.read { connection in
            try connection.query(
                """
                SELECT j.id FROM crawl_jobs j JOIN projects p ON p.id = j.project_id
                WHERE p.status = 'deleted' ORDER BY j.id LIMIT 1
                """
            ).first?.int64("id")
        }
    }

    /// One batch of a job's images, with the job's image counters; returns the count and the storage URLs
    /// no remaining image references.
    private func deleteImageBatch(jobID: Int64) async throws -> (Int, [String]) {
        try await database.transaction { [batchSize] connection in
            let rows = try connection.query(
                """
                DELETE FROM images WHERE id IN (
                    SELECT id FROM images WHERE crawl_job_id = $1 ORDER BY id LIMIT $2)
                RETURNING is_valid, storage_url, sha256
                """, .int(jobID), .int(batchSize))
            guard !rows.isEmpty else { return (0, []) }
            let valid = rows.filter { $0.bool("is_valid") == true }.count
            try connection.query(
                """
                UPDATE crawl_jobs SET
                    total_images = CASE WHEN total_images > $2 THEN total_images - $2 ELSE 0 END,
                    valid_images = CASE WHEN valid_images > $3 THEN valid_images - $3 ELSE 0 END
                WHERE id = $1
                """, .int(jobID), .int(rows.count), .int(valid))
            let urls = Array(Set(rows.compactMap { $0.string("storage_url") })).sorted()
            guard !urls.isEmpty else { return (rows.count, []) }
            let placeholders = (1...urls.count).map { "$\($0)" }.joined(separator: ", ")
            var referenced = Set(
                try connection.query(
                    "SELECT DISTINCT storage_url FROM images WHERE storage_url IN (\(placeholders))",
                    urls.map { .text($0) }
                ).compactMap { $0.string("storage_url") })
            // A remaining image's crawl-time derivative may have the same content as a deleted original.
            let digests = Array(Set(rows.compactMap { $0.string("sha256") }))
            if !digests.isEmpty {
                let derived = Set(
                    try connection.query(
                        """
                        SELECT DISTINCT derivative_sha256 FROM images WHERE derivative_sha256 IN (\(
                            (1...digests.count).map { "$\($0)" }.joined(separator: ", ")))
                        """, digests.map { .text($0) }
                    ).compactMap { $0.string("derivative_sha256") })
                for row in rows where derived.contains(row.string("sha256") ?? "") {
                    if let url = row.string("storage_url") { referenced.insert(url) }
                }
            }
            return (rows.count, urls.filter { !referenced.contains($0) })
        }
    }

    /// One batch of a job's chunks, with the job's chunk counters.
    private func deleteChunkBatch(jobID: Int64) async throws -> Int {
        try await database.transaction { [batchSize] connection in
            let rows = try connection.query(
                """
                DELETE FROM crawl_chunks WHERE id IN (
                    SELECT id FROM crawl_chunks WHERE job_id = $1 ORDER BY id LIMIT $2)
                RETURNING status
                """, .int(jobID), .int(batchSize))
            guard !rows.isEmpty else { return 0 }
            func count(_ status: String) -> Int { rows.filter { $0.string("status") == status }.count }
            func decrement(_ column: String, _ parameter: Int) -> String {
                "\(column) = CASE WHEN \(column) > $\(parameter) THEN \(column) - $\(parameter) ELSE 0 END"
            }
            try connection.query(
                """
                UPDATE crawl_jobs SET \(decrement("total_chunks", 2)), \(decrement("active_chunks", 3)),
                    \(decrement("completed_chunks", 4)), \(decrement("failed_chunks", 5)),
                    \(decrement("cancelled_chunks", 6))
                WHERE id = $1
                """, .int(jobID), .int(rows.count), .int(count("active")), .int(count("completed")),
                .int(count("failed")), .int(count("cancelled")))
            return rows.count
        }
    }

    private func breathe(_ jobID: Int64? = nil) async throws {
        if let jobID, let afterJobBatch { try await afterJobBatch(jobID) }
        if pause > .zero { try await Task.sleep(for: pause) } else { await Task.yield() }
    }
}
