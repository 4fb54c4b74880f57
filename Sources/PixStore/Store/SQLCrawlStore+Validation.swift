import Foundation
import PixCore
import PixSQL

/// A re-validation of a crawl job's stored images under new rules (a `validation_jobs` row).
public struct ValidationJobRecord: Sendable, Hashable, Codable, Identifiable {
    public var id: Int64
    public var crawlJobID: Int64
    public var userID: UUID?
    public var name: String?
    public var status: ValidationJobStatus
    public var rules: ValidationRules
    /// Images of the crawl job when the run started.
    public var totalImages: Int
    /// Images checked so far.
    public var validatedImages: Int
    /// Images found invalid under the new rules so far.
    public var invalidImages: Int
    /// 0–100.
    public var progress: Int
    public var errorMessage: String?
    public var startedAt: Date?
    public var completedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a record.
    public init(
        id: Int64, crawlJobID: Int64, userID: UUID?, name: String?, status: ValidationJobStatus,
        rules: ValidationRules, totalImages: Int, validatedImages: Int, invalidImages: Int, progress: Int,
        errorMessage: String?, startedAt: Date?, completedAt: Date?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.crawlJobID = crawlJobID
        self.userID = userID
        self.name = name
        self.status = status
        self.rules = rules
        self.totalImages = totalImages
        self.validatedImages = validatedImages
        self.invalidImages = invalidImages
        self.progress = progress
        self.errorMessage = errorMessage
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The verdict of a re-validation on one stored image.
public struct ImageValidityUpdate: Sendable, Hashable {
    public var imageID: Int64
    public var isValid: Bool
    /// Why the image is invalid (`CATEGORY: reason`); ignored for valid images.
    public var reason: String?

    /// Creates an update.
    public init(imageID: Int64, isValid: Bool, reason: String?) {
        self.imageID = imageID
        self.isValid = isValid
        self.reason = reason
    }
}

extension SQLCrawlStore {
    static let validationJobColumns = """
        id, crawl_job_id, user_id, name, status, validation_rules, total_images, validated_images, invalid_images,
        progress, error_message, started_at, completed_at, created_at, updated_at
        """

    static func validationJob(from row: SQLRow) throws -> ValidationJobRecord {
        ValidationJobRecord(
            id: try row.require(row.int64("id"), "id"),
            crawlJobID: try row.require(row.int64("crawl_job_id"), "crawl_job_id"),
            userID: row.uuid("user_id"),
            name: row.string("name"),
            status: ValidationJobStatus(rawValue: row.string("status") ?? "") ?? .pending,
            rules: (try? row.json(ValidationRules.self, "validation_rules")) ?? ValidationRules(),
            totalImages: row.int("total_images") ?? 0,
            validatedImages: row.int("validated_images") ?? 0,
            invalidImages: row.int("invalid_images") ?? 0,
            progress: row.int("progress") ?? 0,
            errorMessage: row.string("error_message"),
            startedAt: row.date("started_at"),
            completedAt: row.date("completed_at"),
            createdAt: try row.require(row.date("created_at"), "created_at"),
            updatedAt: try row.require(row.date("updated_at"), "updated_at"))
    }

    /// Starts a re-validation of a crawl job: a `running` row whose total is the job's image rows now.
    /// - Throws: ``StoreError/notFound(_:)`` when the crawl job does not exist.
    public func createValidationJob(
        crawlJobID: Int64, userID: UUID?, name: String?, rules: ValidationRules
    )
        async throws -> ValidationJobRecord
    {
        let rulesJSON = try SQLValue.json(rules)
        return try await database.transaction { connection in
            let dialect = connection.dialect
            guard try !connection.query("SELECT id FROM crawl_jobs WHERE id = $1", .int(crawlJobID)).isEmpty else {
                throw StoreError.notFound("job \(crawlJobID)")
            }
            let total =
                try connection.query("SELECT COUNT(*) AS n FROM images WHERE crawl_job_id = $1", .int(crawlJobID))
                .first?.int("n") ?? 0
            let rows = try connection.query(
                """
                INSERT INTO validation_jobs (crawl_job_id, user_id, name, status, validation_rules, total_images,
                    progress, started_at)
                VALUES ($1, $2\(dialect.uuidCast), $3, 'running', $4\(dialect.jsonCast), $5, $6, \(dialect.now))
                RETURNING \(Self.validationJobColumns)
                """, .int(crawlJobID), userID.map { .uuid($0) } ?? .null, .optional(name), rulesJSON, .int(total),
                .int(total == 0 ? 100 : 0))
            return try Self.validationJob(from: try rows.first.orThrow("validation job"))
        }
    }

    /// Applies a batch of verdicts in one transaction: each image's validity and reason, the crawl job's
    /// `valid_images` (by the number of images whose validity actually changed) and the validation job's counts
    /// and progress. Images of other jobs are ignored.
    /// - Returns: the validation job after the batch.
    public func applyValidationResults(
        validationJobID: Int64, _ updates: [ImageValidityUpdate]
    ) async throws
        -> ValidationJobRecord
    {
        try await database.transaction { connection in
            let dialect = connection.dialect
            guard
                let row = try connection.query(
                    "SELECT crawl_job_id, status FROM validation_jobs WHERE id = $1", .int(validationJobID)
                ).first, let jobID = row.int64("crawl_job_id")
            else { throw StoreError.notFound("validation job \(validationJobID)") }
            var delta = 0
            var applied = 0
            var invalid = 0
            for update in updates {
                guard
                    let current = try connection.query(
                        "SELECT is_valid FROM images WHERE id = $1 AND crawl_job_id = $2", .int(update.imageID),
                        .int(jobID)
                    ).first
                else { continue }
                let was = current.bool("is_valid") ?? true
                try connection.query(
                    "UPDATE images SET is_valid = $2, rejection_reason = $3 WHERE id = $1", .int(update.imageID),
                    .bool(update.isValid), .optional(update.isValid ? nil : update.reason))
                if was != update.isValid { delta += update.isValid ? 1 : -1 }
                applied += 1
                if !update.isValid { invalid += 1 }
            }
            if delta != 0 {
                try connection.query(
                    "UPDATE crawl_jobs SET valid_images = valid_images + $2, updated_at = \(dialect.now) WHERE id = $1",
                    .int(jobID), .int(delta))
                try Self.refreshProgress(connection, jobID: jobID)
            }
            let rows = try connection.query(
                """
                UPDATE validation_jobs SET validated_images = validated_images + $2, invalid_images = invalid_images + $3,
                    progress = CASE WHEN total_images = 0 THEN 100
                        ELSE (CASE WHEN validated_images + $2 >= total_images THEN 99
                              ELSE ((validated_images + $2) * 100) / total_images END) END,
                    updated_at = \(dialect.now)
                WHERE id = $1 RETURNING \(Self.validationJobColumns)
                """, .int(validationJobID), .int(applied), .int(invalid))
            return try Self.validationJob(from: try rows.first.orThrow("validation job"))
        }
    }

    /// Ends a re-validation: `completed` (progress 100), or `failed` with the error.
    public func finishValidationJob(id: Int64, error: String?) async throws -> ValidationJobRecord {
        try await database.transaction { connection in
            let dialect = connection.dialect
            let rows = try connection.query(
                """
                UPDATE validation_jobs SET status = $2, error_message = $3,
                    progress = CASE WHEN $4 = 1 THEN 100 ELSE progress END,
                    completed_at = \(dialect.now), updated_at = \(dialect.now)
                WHERE id = $1 RETURNING \(Self.validationJobColumns)
                """, .int(id), .text(error == nil ? "completed" : "failed"), .optional(error),
                .int(error == nil ? 1 : 0))
            return try Self.validationJob(from: try rows.first.orThrow("validation job \(id)"))
        }
    }

    /// One validation job by id.
    public func validationJob(id: Int64) async throws -> ValidationJobRecord? {
        try await database.withConnection { connection in
            try connection.query("SELECT \(Self.validationJobColumns) FROM validation_jobs WHERE id = $1", .int(id))
                .first.map(Self.validationJob(from:))
        }
    }

    /// The validation jobs of a crawl job, newest first.
    public func validationJobs(crawlJobID: Int64) async throws -> [ValidationJobRecord] {
        try await database.withConnection { connection in
            try connection.query(
                "SELECT \(Self.validationJobColumns) FROM validation_jobs WHERE crawl_job_id = $1 ORDER BY id DESC",
                .int(crawlJobID)
            ).map(Self.validationJob(from:))
        }
    }
}
