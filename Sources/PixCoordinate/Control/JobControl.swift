import Foundation
import PixCore
import PixStore

/// Operator actions on a job, each recorded in the activity log with the acting profile.
public struct JobControl: Sendable {
    /// The store.
    public let store: any CrawlStore
    /// Wakes workers when chunks become claimable again.
    public let hints: ChunkHints?

    /// Creates the controls.
    public init(store: any CrawlStore, hints: ChunkHints? = nil) {
        self.store = store
        self.hints = hints
    }

    /// Cancels a job: no further claims; active chunks end at their next checkpoint.
    /// - Returns: false when the job had already finished.
    /// - Throws: ``PixStore/StoreError`` (not found, …).
    @discardableResult
    public func cancel(jobID: Int64, actor: UUID?) async throws -> Bool {
        let cancelled = try await store.cancelJob(id: jobID)
        if cancelled {
            try await store.logActivity(
                NewActivity(userID: actor, action: "job.cancelled", resourceType: "crawl_job", resourceID: "\(jobID)"))
        }
        return cancelled
    }

    /// Puts a job's failed chunks back to pending with fresh attempts (a finished job runs again).
    /// - Returns: how many chunks were retried.
    @discardableResult
    public func retryFailed(jobID: Int64, actor: UUID?) async throws -> Int {
        guard try await store.job(id: jobID) != nil else { throw StoreError.notFound("job \(jobID)") }
        let retried = try await store.retryFailedChunks(jobID: jobID)
        if retried > 0 {
            try await store.logActivity(
                NewActivity(
                    userID: actor, action: "job.retried", resourceType: "crawl_job", resourceID: "\(jobID)",
                    metadata: ["chunks": "\(retried)"]))
            await hints?.announce()
        }
        return retried
    }
}
