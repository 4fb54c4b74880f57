import Logging
import PixCoordinate
import PixCore
import PixServe
import PixSources
import PixStore
import PixTestSupport
import Testing

@Suite("Job submission and planning")
struct PlannerTests {
    @Test("max_images is split over keywords with nothing lost to rounding")
    func split() throws {
        let job = try JobSubmission(projectID: 1, keywords: [" cat ", "dog", "Cat", "owl"], maxImages: 10, sources: ["demo"], chunkSize: 2, overFetch: 1)
            .validated()
        #expect(job.keywords == ["cat", "dog", "owl"], "trimmed and de-duplicated, case-insensitively")
        let chunks = try KeywordChunkPlanner().plan(job)
        let perKeyword = Dictionary(grouping: chunks, by: \.keyword).mapValues { $0.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart } }
        #expect(perKeyword == ["cat": 4, "dog": 3, "owl": 3])
        #expect(chunks.allSatisfy { $0.rangeEnd - $0.rangeStart <= 2 })
    }

    @Test("over-fetch and sources widen the plan")
    func overFetch() throws {
        let job = try JobSubmission(
            projectID: 1, keywords: ["cat"], maxImages: 10, sources: ["demo", "openverse"], chunkSize: 50, overFetch: 1.5
        ).validated()
        let chunks = try KeywordChunkPlanner().plan(job)
        #expect(chunks.map(\.source) == ["demo", "openverse"])
        #expect(chunks.map { $0.rangeEnd - $0.rangeStart } == [8, 7])
    }

    /// The coordinator's planner over the offline demo source, cut to `depth` results per keyword.
    static func coordinatorPlanner(demoDepth depth: Int) -> CoordinatorJobPlanner {
        let demo = DemoSource(maxDepth: depth, logger: Logger(label: "pixcrawl.test.demo"))
        return CoordinatorJobPlanner(
            sources: SourceResolver { spec in
                guard spec == "demo" else { throw PlanningError.invalid("sources", "no such source in this test") }
                return demo
            })
    }

    @Test("the coordinator's planner never plans past a source's depth and reports the shortfall")
    func coordinatorDepth() throws {
        let job = try JobSubmission(
            projectID: 1, keywords: ["cat", "dog"], maxImages: 40, sources: ["demo"], chunkSize: 4, overFetch: 1.5
        ).validated()
        let plan = try Self.coordinatorPlanner(demoDepth: 10).planWithShortfalls(job)
        let perKeyword = Dictionary(grouping: plan.chunks, by: \.keyword)
            .mapValues { $0.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart } }
        #expect(perKeyword == ["cat": 10, "dog": 10], "each keyword's 30 wanted positions stop at the depth of 10")
        #expect(plan.chunks.allSatisfy { $0.rangeEnd <= 10 && $0.rangeEnd - $0.rangeStart <= 4 })
        #expect(Array(plan.chunks.prefix(2).map(\.keyword)) == ["cat", "dog"], "keywords interleaved")
        #expect(Set(plan.shortfalls.keys) == ["cat", "dog"])
        #expect(plan.shortfalls["cat"]?.quota == 20)
    }

    @Test("the coordinator's planner refuses a source it cannot resolve with 422 naming sources")
    func coordinatorUnknownSource() throws {
        let job = try JobSubmission(projectID: 1, keywords: ["cat"], maxImages: 5, sources: ["openverse"]).validated()
        do {
            _ = try Self.coordinatorPlanner(demoDepth: 10).plan(job)
            Issue.record("an unresolvable source was planned")
        } catch let error as APIError {
            #expect(error.description.hasPrefix("422 "), "\(error)")
            #expect(error.field == "sources")
            #expect(error.error == "validation_failed")
        }
    }

    @Test("POST /v1/jobs with the coordinator's planner stores depth-capped chunks and the shortfalls",
          arguments: [Backend.sqlite])
    func coordinatorOverHTTP(_ backend: Backend) async throws {
        try await TestServer.with(backend, planner: Self.coordinatorPlanner(demoDepth: 10)) { server in
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
}
