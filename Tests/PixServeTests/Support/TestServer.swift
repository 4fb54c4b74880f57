import Foundation
import Hummingbird
import Logging
import PixBlob
import PixCoordinate
import PixCore
import PixExport
import PixServe
import PixSources
import PixStore
import PixTestSupport
import ServiceLifecycle

/// A user with a live API token.
struct TestUser: Sendable {
    var profile: Profile
    var token: String
}

/// A running server on a free loopback port with its own fresh store.
struct TestServer: Sendable {
    let store: SQLCrawlStore
    let client: HTTPTestClient
    let blobs: LocalBlobStore
    let exportsDirectory: URL
    /// Where uploaded URL lists are staged.
    let lists: LocalListObjectStore
    /// Where the server receives uploads before staging them.
    var uploadDirectory: URL { lists.root.deletingLastPathComponent().appendingPathComponent("uploads") }
    var archiveStorage: ArchiveStorage = .local

    var port: Int { client.port }

    /// The planner of a test server: the coordinator's, over sources that plan but never fetch (the API's
    /// openverse, commons and demo, without depth limits). Given the server's `lists`, a staged list is read the
    /// way the real server reads it (its rows and columns checked); without, it plans like any source.
    static func planner(
        limits: JobPlanner.Limits = JobPlanner.Limits(), lists: (any ListObjectStore)? = nil
    ) -> JobPlanner {
        JobPlanner(
            sources: .api { spec in
                // A staged list (`list:ID`) is checked against the caller's uploads by the route.
                if spec.lowercased().hasPrefix("list:") {
                    guard let lists, case .list(let id, let columns) = try SourceSpec(parsing: spec) else {
                        return PlanningOnlySource(name: "urls")
                    }
                    return try URLListSource(
                        stagedList: id, store: lists, columns: columns, logger: Logger(label: "pixcrawl.serve.test"))
                }
                guard ["openverse", "commons", "demo"].contains(spec.lowercased()) || spec.hasPrefix("commons?") else {
                    throw TestSupportError("unknown source '\(spec)'; use openverse, commons or demo")
                }
                return PlanningOnlySource(name: spec.lowercased())
            },
            limits: limits)
    }

    /// Starts a server on `backend`, runs `body`, then shuts the server down gracefully and closes the store.
    static func with<T: Sendable>(
        _ backend: Backend, maxBodyBytes: Int = 64 * 1024, withExports: Bool = true, logHandler: (any LogHandler)? = nil,
        planner: JobPlanner? = nil, archiveStorage: ArchiveStorage = .local,
        maxListBytes: Int64 = 1 << 20,
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        PixMetrics.bootstrap()
        let store = try await TestStores.make(backend)
        defer { store.close() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pixserve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let blobs = LocalBlobStore(root: root.appendingPathComponent("storage"))
        let exportsDirectory = root.appendingPathComponent("storage/exports")
        let lists = LocalListObjectStore(root: root.appendingPathComponent("storage"))
        let exports = StoreExportService(
            store: store, blobs: blobs, exportsDirectory: exportsDirectory, archiveStorage: archiveStorage)
        var logger =
            logHandler.map { handler in Logger(label: "pixcrawl.serve.test") { _ in handler } }
            ?? Logger(label: "pixcrawl.serve.test")
        logger.logLevel = logHandler == nil ? .warning : .info
        let server = PixServer(
            store: store,
            configuration: ServeConfiguration(
                host: "127.0.0.1", port: 0, maxBodyBytes: maxBodyBytes, maxListBytes: maxListBytes,
                uploadDirectory: root.appendingPathComponent("uploads")),
            readiness: StoreReadiness(store: store, migrationsDirectory: TestStores.migrationsDirectory),
            planner: planner ?? TestServer.planner(lists: lists), exports: withExports ? exports : nil, blobs: blobs,
            lists: lists, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.makeApplication { port in continuation.yield(port) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw ClientError(description: "server did not start") }
            let harness = TestServer(
                store: store, client: HTTPTestClient(port: port), blobs: blobs, exportsDirectory: exportsDirectory,
                lists: lists, archiveStorage: archiveStorage)
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Runs a queued export in this process, as a worker would, and returns the archive's bytes.
    func runExport(_ exportID: Int64) async throws -> [UInt8] {
        let runner = ExportJobRunner(
            store: store, blobs: blobs,
            configuration: ExportJobRunner.Configuration(
                exportsDirectory: exportsDirectory, workerID: "test-worker", archiveStorage: archiveStorage))
        let outcome = try await runner.run(exportID: exportID)
        // An archive in object storage is not read back here.
        return outcome.archive.isFileURL ? Array(try Data(contentsOf: outcome.archive)) : []
    }

    /// Downloads counted on an export's links.
    func downloadCount(exportID: Int64) async throws -> Int {
        try await store.downloadRecords(exportID: exportID).reduce(0) { $0 + $1.downloadCount }
    }

    /// Creates a profile with a token, as `pixcrawl user create` does.
    func makeUser(_ name: String, role: ProfileRole = .user) async throws -> TestUser {
        let profile = try await store.createProfile(
            NewProfile(email: "\(name)-\(UUID().uuidString.prefix(8))@example.com", fullName: name, role: role))
        let generated = APITokenGenerator.generate()
        _ = try await store.createAPIToken(
            profileID: profile.id, name: "test", tokenHash: generated.hash, prefix: generated.prefix)
        return TestUser(profile: profile, token: generated.token)
    }

    func get(_ path: String, as user: TestUser?) async throws -> HTTPResult {
        try await client.get(path, token: user?.token)
    }

    func post(_ path: String, as user: TestUser?, json: Any? = nil) async throws -> HTTPResult {
        try await client.request("POST", path, token: user?.token, json: json)
    }

    func patch(_ path: String, as user: TestUser?, json: Any) async throws -> HTTPResult {
        try await client.request("PATCH", path, token: user?.token, json: json)
    }

    func delete(_ path: String, as user: TestUser?) async throws -> HTTPResult {
        try await client.request("DELETE", path, token: user?.token)
    }

    /// Creates a project over the API and returns its id.
    func createProject(as user: TestUser, name: String = "Foxes") async throws -> Int64 {
        let response = try await post("/v1/projects", as: user, json: ["name": name, "description": "wild canids"])
        guard response.status == 201, let id = response.json["id"] as? Int else {
            throw ClientError(description: "project not created: \(response.status) \(response.text)")
        }
        return Int64(id)
    }

    /// Submits a job over the API and returns its id.
    func submitJob(as user: TestUser, projectID: Int64, keywords: [String] = ["red fox", "arctic fox"], maxImages: Int = 20)
        async throws -> Int64
    {
        let response = try await post(
            "/v1/jobs", as: user,
            json: [
                "project_id": projectID, "name": "foxes", "keywords": keywords, "max_images": maxImages,
                "sources": ["demo"], "chunk_size": 5, "rules": ["formats": ["jpeg", "png"], "min_width": 64],
            ] as [String: Any])
        guard response.status == 201, let id = response.json["id"] as? Int else {
            throw ClientError(description: "job not submitted: \(response.status) \(response.text)")
        }
        return Int64(id)
    }

    /// Stores `count` image blobs and rows for a job, as workers would (crawl results simulated).
    @discardableResult
    func insertImages(jobID: Int64, count: Int, keyword: String = "red fox", start: Int = 0) async throws -> [NewImage] {
        var images: [NewImage] = []
        for index in start..<(start + count) {
            let bytes = Array("image-\(jobID)-\(index)".utf8) + [UInt8](repeating: UInt8(index % 251), count: 64)
            let sha = APITokenGenerator.hash(String(decoding: bytes, as: UTF8.self))
            let format: ImageFormat = index % 4 == 3 ? .png : .jpeg
            let key = try BlobKey(sha256: sha, format: format)
            let stored = try blobs.put(bytes, for: key)
            images.append(
                NewImage(
                    originalURL: "http://127.0.0.1/img/\(jobID)/\(index).\(format.fileExtension)", filename: key.filename,
                    storageURL: stored.storageURL, width: 100 + index * 10, height: 80 + index * 10, fileSize: bytes.count,
                    format: format, sha256: sha, perceptualHash: UInt64(index), keyword: keyword, source: "demo",
                    license: "by", creator: "tester"))
        }
        _ = try await store.insertImages(jobID: jobID, images: images)
        return images
    }
}

/// A source that only takes part in planning: no depth limit, and no results.
struct PlanningOnlySource: ImageSource {
    let name: String
    var maxDepth: Int? { nil }

    func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        throw TestSupportError("\(name) serves no results in server tests")
    }
}
