import Foundation
import Logging
import PixCoordinate
import PixCore
import PixDemo
import PixServe
import PixSources
import PixStore
import PixTestSupport
import Testing

@Suite("Job submission over the API: the coordinator's planner, its limits and its wake-ups")
struct PlannerTests {
    /// The coordinator's planner over the offline demo source, cut to `depth` results per keyword.
    static func demoPlanner(_ demo: DemoSource) -> JobPlanner {
        JobPlanner(
            sources: .api { spec in
                guard spec == "demo" else { throw PlanningError.invalid("sources", "no such source in this test") }
                return demo
            })
    }

    @Test("POST /v1/jobs stores depth-capped chunks and the shortfalls", arguments: [Backend.sqlite])
    func depthCapped(_ backend: Backend) async throws {
        let demo = DemoSource(maxDepth: 10, logger: CrawlFlowTests.logger)
        defer { demo.shutdown() }
        try await TestServer.with(backend, planner: Self.demoPlanner(demo)) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID, keywords: ["red fox"], maxImages: 40)
            let chunks = try await server.store.chunks(jobID: jobID)
            #expect(chunks.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart } == 10)
            #expect(chunks.count == 2, "chunk_size 5 over 10 positions")
            let shortfalls = try await server.store.shortfalls(jobID: jobID)
            #expect(shortfalls["red fox"]?.quota == 40)
            let job = try await server.get("/v1/jobs/\(jobID)", as: alice)
            #expect(job.status == 200)
            #expect((job.json["counters"] as? [String: Any])?["total_chunks"] as? Int == 2)
        }
    }

    @Test(
        "a submission past the chunk limit answers 422 naming the limit and creates nothing",
        arguments: [Backend.sqlite])
    func chunkLimit(_ backend: Backend) async throws {
        try await TestServer.with(backend, planner: TestServer.planner(limits: JobPlanner.Limits(maxChunks: 10))) {
            server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let response = try await server.post(
                "/v1/jobs", as: alice,
                json: [
                    "project_id": projectID, "keywords": ["red fox"], "max_images": 20, "sources": ["demo"],
                    "chunk_size": 1,
                ] as [String: Any])
            #expect(response.status == 422, "\(response.text)")
            #expect(response.json["field"] as? String == "chunk_size")
            let reason = try #require(response.json["reason"] as? String)
            #expect(reason.contains("limit of 10 per job"), "\(reason)")
            #expect(try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0).isEmpty)
            let activity = try await server.store.activity(userID: alice.profile.id, limit: 10)
            #expect(!activity.contains { $0.action == "job.submitted" })
        }
    }

    @Test("download_width asks Commons for thumbnails that wide, never narrower than the rules' min_width")
    func downloadWidth() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            for (minWidth, expected) in [(64, "commons?width=320"), (400, "commons?width=400")] {
                let response = try await server.post(
                    "/v1/jobs", as: alice,
                    json: [
                        "project_id": projectID, "keywords": ["kingfisher"], "max_images": 10, "sources": ["commons"],
                        "download_width": 320, "rules": ["min_width": minWidth],
                    ] as [String: Any])
                #expect(response.status == 201, "\(response.text)")
                #expect(response.json["sources"] as? [String] == [expected])
            }
            let refused = try await server.post(
                "/v1/jobs", as: alice,
                json: [
                    "project_id": projectID, "keywords": ["kingfisher"], "max_images": 10, "sources": ["commons"],
                    "download_width": 0,
                ] as [String: Any])
            #expect(refused.status == 422)
            #expect(refused.json["field"] as? String == "download_width")
        }
    }

    @Test("on PostgreSQL, a job submitted over the API wakes an idle worker whose poll interval is an hour")
    func submissionWakesWorker() async throws {
        let demo = DemoSource(maxDepth: 50, pageSize: 10, logger: CrawlFlowTests.logger)
        defer { demo.shutdown() }
        try await TestServer.with(.postgres, planner: Self.demoPlanner(demo)) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let runtime = try CrawlFlowTests.runtime(for: server, demo: demo, notify: true)
            // Returns once `LISTEN` has been executed on the listener's connection.
            try runtime.hints.startListening()
            try #require(runtime.hints.isListening)
            let worker = runtime.makeWorker(
                WorkerConfiguration(
                    id: "idle-\(UUID().uuidString.prefix(6))", lease: .seconds(10), pollInterval: .seconds(3600),
                    shutdownTimeout: .seconds(5)))
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await worker.run() }
                    defer { worker.stop() }
                    // Idle: it found nothing and waits. From here only a wake-up (or the hour) makes it claim again;
                    // registered alone, it could still claim the job by its first poll and prove nothing.
                    try await eventually("the worker is idle") { worker.idleWaits > 0 }
                    let generation = runtime.hints.wake.generation
                    let jobID = try await server.submitJob(
                        as: alice, projectID: projectID, keywords: ["red fox"], maxImages: 5)
                    try await eventually("the NOTIFY reaches the worker's listener") {
                        runtime.hints.wake.generation != generation
                    }
                    // The deadline only guards against a hang: the proof is the idle worker and its hour-long
                    // interval, not how fast a loaded machine runs the claim.
                    try await eventually("the idle worker claims a chunk", timeout: .seconds(30)) {
                        try await server.store.chunks(jobID: jobID).contains { $0.status != .pending }
                    }
                }
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
        }
    }
}
