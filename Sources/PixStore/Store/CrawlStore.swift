import Foundation
import PixCore
@_exported import PixSQL

/// What PixCrawler needs from storage. ``SQLCrawlStore`` implements it over the embedded SQLite store
/// and over PostgreSQL; both pass one conformance suite.
///
/// Counters on `crawl_jobs` change only inside the transactions that change chunks or insert images, so
/// `total_chunks = pending + active + completed + failed + cancelled` and the image counters equal the rows
/// at every instant.
public protocol CrawlStore: Sendable {
    /// The SQL dialect behind this store.
    var dialect: SQLDialect { get }
    /// Closes the store's connections.
    func close()

    // MARK: Profiles and tokens
    func createProfile(_ new: NewProfile) async throws -> Profile
    func profile(id: UUID) async throws -> Profile?
    func profile(email: String) async throws -> Profile?
    func listProfiles() async throws -> [Profile]
    /// Deletes a profile: its projects (and everything below) cascade, its activity keeps `user_id = NULL`.
    func deleteProfile(id: UUID) async throws -> Bool
    func createAPIToken(profileID: UUID, name: String, tokenHash: String, prefix: String) async throws -> APIToken
    /// The live token with this SHA-256 and its profile: a read; `last_used_at` is refreshed at most once a minute.
    func authenticate(tokenHash: String) async throws -> (Profile, APIToken)?
    func listAPITokens(profileID: UUID) async throws -> [APIToken]
    func revokeAPIToken(id: Int64, profileID: UUID) async throws -> Bool

    // MARK: Projects
    func createProject(_ new: NewProject) async throws -> Project
    func project(id: Int64) async throws -> Project?
    func listProjects(ownerID: UUID?) async throws -> [Project]
    func updateProject(id: Int64, name: String?, description: String?, status: ProjectStatus?) async throws -> Project?
    func deleteProject(id: Int64) async throws -> Bool

    // MARK: Jobs and chunks
    func createJob(_ new: NewCrawlJob, chunks: [NewChunk]) async throws -> CrawlJob
    /// Creates a job from chunks made one at a time, all or nothing, `batchSize` chunk rows per transaction:
    /// the job is `planning` (not claimable) until the last batch commits.
    func createJob(
        _ new: NewCrawlJob, streaming chunks: some Sequence<NewChunk>, batchSize: Int,
        afterBatch: (@Sendable (_ jobID: Int64, _ written: Int) async throws -> Void)?
    ) async throws -> CrawlJob
    /// Deletes `planning` jobs untouched since `cutoff` (their planner died mid-plan); returns their ids.
    func deleteAbandonedPlans(idleSince cutoff: Date) async throws -> [Int64]
    func appendChunks(jobID: Int64, chunks: [NewChunk]) async throws -> Int
    func job(id: Int64) async throws -> CrawlJob?
    func listJobs(projectID: Int64?, status: JobStatus?, limit: Int, offset: Int) async throws -> [CrawlJob]
    func chunks(jobID: Int64) async throws -> [CrawlChunk]
    func chunk(id: Int64) async throws -> CrawlChunk?
    func chunkStatusCounts(jobID: Int64) async throws -> [ChunkStatus: Int]
    func cancelJob(id: Int64) async throws -> Bool
    func retryFailedChunks(jobID: Int64) async throws -> Int
    func claimChunk(workerID: String, lease: Duration, jobID: Int64?) async throws -> ClaimedChunk?
    func renewLease(chunkID: Int64, token: String, lease: Duration) async throws -> Bool
    func commitProgress(chunkID: Int64, token: String, lease: Duration, progress: ChunkProgress) async throws
        -> ChunkCommitResult
    func completeChunk(chunkID: Int64, token: String, finalProgress: ChunkProgress?) async throws -> Bool
    func failChunkAttempt(chunkID: Int64, token: String, error: NewErrorLog, retryAfter: Duration) async throws
        -> ChunkFailureOutcome?
    func releaseChunk(chunkID: Int64, token: String) async throws -> Bool

    // MARK: Images
    func insertImages(jobID: Int64, images: [NewImage]) async throws -> Int
    func images(jobID: Int64, validOnly: Bool, afterID: Int64, limit: Int) async throws -> [ImageRecord]
    func newestImages(jobID: Int64, beforeID: Int64?, limit: Int) async throws -> [ImageRecord]
    func image(id: Int64) async throws -> ImageRecord?
    func imageCounts(jobID: Int64) async throws -> (total: Int, valid: Int)
    func setImageValidity(imageID: Int64, isValid: Bool, reason: String?) async throws -> Bool

    // MARK: Logs
    func recordErrors(_ errors: [NewErrorLog]) async throws
    func errorSummary(jobID: Int64) async throws -> [ErrorCategory: Int]
    func errors(jobID: Int64, limit: Int) async throws -> [ErrorLogEntry]
    func errors(jobID: Int64, category: ErrorCategory, limit: Int) async throws -> [ErrorLogEntry]
    func logActivity(_ activity: NewActivity) async throws
    func activity(userID: UUID?, limit: Int) async throws -> [ActivityLogEntry]

    // MARK: Workers
    func registerWorker(id: String, hostname: String, pid: Int, version: String) async throws
    func workerHeartbeat(id: String, status: WorkerStatus, currentChunkID: Int64?) async throws
    func listWorkers() async throws -> [WorkerRecord]

    // MARK: Top-up planning and shortfalls (SQLCrawlStore+Planning.swift)
    func completeChunk(
        chunkID: Int64, token: String, finalProgress: ChunkProgress?, sourceExhausted: Bool,
        topUp: (@Sendable (KeywordSnapshot) -> TopUpDecision)?
    ) async throws -> ChunkCompletion?
    func recordShortfalls(jobID: Int64, _ shortfalls: [String: KeywordShortfall]) async throws
    func shortfalls(jobID: Int64) async throws -> [String: KeywordShortfall]
    func keywordProgress(jobID: Int64) async throws -> [KeywordProgress]

    // MARK: Re-validation (SQLCrawlStore+Validation.swift)
    func createValidationJob(crawlJobID: Int64, userID: UUID?, name: String?, rules: ValidationRules) async throws
        -> ValidationJobRecord
    func applyValidationResults(validationJobID: Int64, _ updates: [ImageValidityUpdate]) async throws
        -> ValidationJobRecord
    func finishValidationJob(id: Int64, error: String?) async throws -> ValidationJobRecord
    func validationJob(id: Int64) async throws -> ValidationJobRecord?
    func validationJobs(crawlJobID: Int64) async throws -> [ValidationJobRecord]

    // MARK: Fleet-wide host budgets and deferral (SQLCrawlStore+Hosts.swift)
    func acquireHostSlot(host: String, holder: String, limits: HostLimits, lease: Duration) async throws
        -> HostSlotDecision
    func releaseHostSlot(leaseID: Int64, host: String, bytes: Int, outcome: HostOutcome, rateLimit: String?)
        async throws
    func hostBudgets() async throws -> [HostBudgetStatus]
    func hostPauses(_ hosts: Set<String>) async throws -> [String: Duration]
    func deferChunk(chunkID: Int64, token: String, delay: Duration, reason: NewErrorLog) async throws -> Bool

    // MARK: Wake-up hints (SQLCrawlStore+Notify.swift)
    func notifyChunksAvailable() async throws
    func listenForChunks(onNotify: @escaping @Sendable () -> Void) throws -> ChunkNotificationListener?
}
