import Foundation
import Logging
import PixBlob
import PixCore
import PixStore
import PixValidate

/// Re-applies validation rules to a job's stored images, reading the stored files (nothing is downloaded again).
///
/// Records a `validation_jobs` row (total, validated, invalid, progress, rules, timestamps), updates each image's
/// validity and reason, and keeps the job's `valid_images` equal to its valid rows — batch by batch, each batch in
/// one transaction. An image whose file is missing from the blob store becomes invalid (`STORAGE`).
public struct ValidationRun: Sendable {
    /// The store.
    public let store: any CrawlStore
    /// Where the images' files are.
    public let blobs: any BlobStore
    /// Runs decoding off the cooperative pool.
    public let pool: BlockingPool
    /// Images per transaction.
    public var batchSize: Int
    private let logger: Logger

    /// Creates a run.
    public init(store: any CrawlStore, blobs: any BlobStore, pool: BlockingPool, batchSize: Int = 200, logger: Logger) {
        self.store = store
        self.blobs = blobs
        self.pool = pool
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Re-validates every image of a job under `rules`.
    /// - Parameters:
    ///   - crawlJobID: the job.
    ///   - rules: the new rules.
    ///   - actor: the profile asking (recorded on the row and in the activity log).
    ///   - name: an optional name for the run.
    ///   - progress: called after every batch.
    /// - Returns: the finished validation job.
    public func run(
        crawlJobID: Int64, rules: ValidationRules, actor: UUID?, name: String? = nil,
        progress: (@Sendable (ValidationJobRecord) -> Void)? = nil
    ) async throws -> ValidationJobRecord {
        var record = try await store.createValidationJob(
            crawlJobID: crawlJobID, userID: actor, name: name, rules: rules)
        let validator = ImageValidator(rules: rules)
        do {
            var afterID: Int64 = 0
            while true {
                let images = try await store.images(
                    jobID: crawlJobID, validOnly: false, afterID: afterID, limit: batchSize)
                guard let last = images.last else { break }
                afterID = last.id
                var updates: [ImageValidityUpdate] = []
                updates.reserveCapacity(images.count)
                for image in images {
                    updates.append(try await verdict(on: image, validator: validator))
                }
                record = try await store.applyValidationResults(validationJobID: record.id, updates)
                progress?(record)
            }
            record = try await store.finishValidationJob(id: record.id, error: nil)
        } catch {
            logger.error("re-validation failed", metadata: ["pixcrawl.error": "\(error)"])
            _ = try? await store.finishValidationJob(id: record.id, error: "\(error)")
            throw error
        }
        try await store.logActivity(
            NewActivity(
                userID: actor, action: "validation.run", resourceType: "crawl_job", resourceID: "\(crawlJobID)",
                metadata: [
                    "validation_job": "\(record.id)", "validated": "\(record.validatedImages)",
                    "invalid": "\(record.invalidImages)",
                ]))
        progress?(record)
        return record
    }

    private func verdict(on image: ImageRecord, validator: ImageValidator) async throws -> ImageValidityUpdate {
        let blobs = self.blobs
        let key: BlobKey
        do {
            key = try BlobKey(sha256: image.sha256, format: image.format)
        } catch {
            return ImageValidityUpdate(imageID: image.id, isValid: false, reason: "STORAGE: \(error)")
        }
        let outcome = try await pool.run { () -> ValidationOutcome? in
            guard let bytes = try? blobs.get(key) else { return nil }
            return validator.validate(bytes, sha256: image.sha256)
        }
        switch outcome {
        case nil:
            return ImageValidityUpdate(
                imageID: image.id, isValid: false, reason: "STORAGE: the stored file \(key.path) is missing")
        case .accepted?:
            return ImageValidityUpdate(imageID: image.id, isValid: true, reason: nil)
        case .rejected(let rejection)?:
            return ImageValidityUpdate(imageID: image.id, isValid: false, reason: rejection.reason)
        }
    }
}
