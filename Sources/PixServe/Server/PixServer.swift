import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PixBlob
import PixCoordinate
import PixCore
import PixExport
import PixStore
import ServiceLifecycle

/// The PixCrawler HTTP service: the owner-scoped JSON API under `/v1`, expiring downloads, the dashboard,
/// health, metrics and the OpenAPI document.
///
/// ```swift
/// let server = PixServer(store: store, configuration: ServeConfiguration(port: 8080),
///                        readiness: StoreReadiness(store: store))
/// try await server.makeApplication().runService()
/// ```
public struct PixServer: Sendable {
    /// Where everything is stored.
    public let store: any CrawlStore
    /// Listening address and limits.
    public let configuration: ServeConfiguration
    /// Checks and plans submitted jobs, as for every other entry point.
    public let planner: JobPlanner
    /// Cancels and retries jobs; wakes idle workers when chunks become claimable.
    public let jobControl: JobControl
    /// Export jobs and download records, when this build has them.
    public let exports: (any ExportService)?
    /// Stored image files, for `GET /v1/images/{id}/file`.
    public let blobs: (any BlobStore)?
    /// Staged URL lists (the shared storage workers read them from); `nil` answers `/v1/lists` with 501.
    public let lists: (any ListObjectStore)?
    /// What `/readyz` checks.
    public let readiness: any ReadinessCheck
    /// The `/metrics` collector.
    public let metrics: ServerMetrics
    let logger: Logger
    let authenticator: Authenticator
    /// Decodes stored images for re-validation runs, off the cooperative pool.
    let validationPool: BlockingPool
    /// One-time dashboard sign-in links (``SignInLinks``), e.g. for the local profile that owns CLI crawls.
    public let signInLinks = SignInLinks()
    /// Makes and caches the dashboard's thumbnails, when there are image files.
    let thumbnails: Thumbnails?

    /// - Parameters:
    ///   - store: the crawl store.
    ///   - configuration: listening address and limits.
    ///   - readiness: what `/readyz` checks (``StoreReadiness`` in production).
    ///   - planner: the coordinator's planner, with the sources clients may name (see ``PixCoordinate/SourceResolver/api(_:)``).
    ///   - hints: wakes idle workers after a submission or retry; by default `NOTIFY` on PostgreSQL.
    ///   - exports: export jobs and download records; `nil` answers those routes with 501.
    ///   - blobs: the blob store holding image files (local or object storage); `nil` answers image file requests
    ///     with 404.
    ///   - lists: the shared storage URL-list uploads are staged into; `nil` answers `/v1/lists` with 501.
    ///   - logger: the server's logger; request logs carry `hb.request.id`.
    public init(
        store: any CrawlStore, configuration: ServeConfiguration = ServeConfiguration(), readiness: any ReadinessCheck,
        planner: JobPlanner, hints: ChunkHints? = nil, exports: (any ExportService)? = nil,
        blobs: (any BlobStore)? = nil, lists: (any ListObjectStore)? = nil,
        logger: Logger = Logger(label: "pixcrawl.serve")
    ) {
        self.store = store
        self.configuration = configuration
        self.readiness = readiness
        self.planner = planner
        self.jobControl = JobControl(
            store: store, hints: hints ?? ChunkHints(store: store, notify: true, logger: logger))
        self.exports = exports
        self.blobs = blobs
        self.lists = lists
        self.logger = logger
        self.metrics = ServerMetrics(store: store)
        self.authenticator = Authenticator(store: store)
        self.validationPool = BlockingPool(threads: 2, label: "pixcrawl.serve.validate")
        self.thumbnails = blobs.map { Thumbnails(blobs: $0, pool: BlockingPool(threads: 2, label: "pixcrawl.serve.thumbnails")) }
    }

    /// Every route, with its middleware: request log and metrics outermost, JSON errors innermost, the token
    /// check on `/v1`.
    public func makeRouter() -> Router<PixRequestContext> {
        let router = Router(context: PixRequestContext.self)
        router.add(middleware: RequestLogMiddleware(level: configuration.requestLogLevel))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        addOperationalRoutes(to: router)
        addDownloadRoutes(to: router)
        addDashboardRoutes(to: router)
        let api = router.group("v1").add(middleware: AuthMiddleware(authenticator: authenticator))
        addAccountRoutes(to: api)
        addProjectRoutes(to: api)
        addJobRoutes(to: api)
        addListRoutes(to: api)
        addImageRoutes(to: api)
        addThumbnailRoutes(to: api)
        addValidationRoutes(to: api)
        addExportRoutes(to: api)
        return router
    }

    /// The Hummingbird application, with the download sweeper as a service when exports are available.
    /// - Parameter onServerRunning: called with the bound port once the server listens (port 0 picks one).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        var services: [any Service] = []
        if let exports {
            services.append(
                ExpiredExportSweeper(interval: configuration.sweepInterval, logger: logger) {
                    try await exports.sweepExpired()
                })
        }
        return Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "pixcrawl"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}

// MARK: Ownership

extension PixServer {
    /// The numeric `{id}` of the path; anything else is an unknown resource.
    static func pathID(_ context: PixRequestContext, _ what: String) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else { throw APIError.notFound(what) }
        return id
    }

    /// The project, when the caller owns it (or is an admin); otherwise 404, whether or not it exists.
    func ownedProject(_ id: Int64, caller: Caller) async throws -> Project {
        guard let project = try await store.project(id: id), caller.mayAccess(ownedBy: project.userID) else {
            throw APIError.notFound("project \(id)")
        }
        return project
    }

    /// The job and its project, when the caller owns the project; otherwise 404.
    func ownedJob(_ id: Int64, caller: Caller) async throws -> (CrawlJob, Project) {
        guard let job = try await store.job(id: id), let project = try await store.project(id: job.projectID),
            caller.mayAccess(ownedBy: project.userID)
        else { throw APIError.notFound("job \(id)") }
        return (job, project)
    }

    /// The image, when the caller owns its job's project; otherwise 404.
    func ownedImage(_ id: Int64, caller: Caller) async throws -> ImageRecord {
        guard let image = try await store.image(id: id) else { throw APIError.notFound("image \(id)") }
        do {
            _ = try await ownedJob(image.jobID, caller: caller)
        } catch is APIError {
            throw APIError.notFound("image \(id)")
        }
        return image
    }

    /// Records a user action; a failure to record is logged, never fails the request that succeeded.
    func audit(
        _ caller: Caller?, _ action: String, _ type: String, _ id: String, _ metadata: [String: String] = [:], userID: UUID? = nil
    )
        async
    {
        do {
            try await store.logActivity(
                NewActivity(
                    userID: userID ?? caller?.profile.id, action: action, resourceType: type, resourceID: id,
                    metadata: metadata))
        } catch {
            logger.warning("activity not recorded", metadata: ["pixcrawl.action": "\(action)", "pixcrawl.error": "\(error)"])
        }
    }
}
