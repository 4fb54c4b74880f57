import PixCore
import PixServe
import PixStore
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
}
