import Foundation
import PixCoordinate
import PixCore
import PixSources
import PixStore
import PixTestSupport
import Testing

@Suite("Job planning")
struct PlannerTests {
    static let planner = JobPlanner(
        sources: SourceResolver { spec in
            switch spec {
            case "deep": TestSource(name: spec, maxDepth: nil, pageSize: 10) { _, _ in nil }
            case "shallow": TestSource(name: spec, maxDepth: 40, pageSize: 10) { _, _ in nil }
            default: throw TestSupportError("unknown source \(spec)")
            }
        })

    @Test(
        "a bounded width asks Commons for thumbnails of that width, never narrower than min_width",
        arguments: [
            ("commons", nil, nil, 64, "commons"), ("commons", 640, nil, 64, "commons?width=640"),
            ("commons", nil, 300, 64, "commons?width=300"), ("commons", 640, 300, 64, "commons?width=300"),
            ("commons", 640, 300, 400, "commons?width=400"), ("commons?width=500", 640, nil, 64, "commons?width=500"),
            ("deep", 640, 300, 64, "deep"),
        ] as [(String, Int?, Int?, Int, String)])
    func commonsThumbnailWidth(
        source: String, maxWidth: Int?, downloadWidth: Int?, minWidth: Int, expected: String
    ) throws {
        let planner = JobPlanner(
            sources: SourceResolver { spec in TestSource(name: spec, maxDepth: nil, pageSize: 10) { _, _ in nil } })
        var rules = ValidationRules(minWidth: minWidth)
        if let maxWidth { rules.maxWidth = maxWidth }
        let plan = try planner.plan(
            JobSubmission(
                projectID: 1, keywords: ["a"], maxImages: 10, sources: [source], rules: rules,
                downloadWidth: downloadWidth))
        #expect(plan.job.sources == [expected])
        #expect(plan.chunks.allSatisfy { $0.source == expected }, "workers resolve the chunks' spec")
    }

    @Test("a max_height rule asks Commons for thumbnails that fit it (with max_width, the box)")
    func commonsThumbnailHeight() throws {
        let planner = JobPlanner(
            sources: SourceResolver { spec in TestSource(name: spec, maxDepth: nil, pageSize: 10) { _, _ in nil } })
        for (rules, expected) in [
            (ValidationRules(maxHeight: 480), "commons?height=480"),
            (ValidationRules(maxWidth: 640, maxHeight: 480), "commons?width=640&height=480"),
        ] {
            let plan = try planner.plan(
                JobSubmission(projectID: 1, keywords: ["a"], maxImages: 10, sources: ["commons"], rules: rules))
            #expect(plan.job.sources == [expected])
        }
    }

    @Test("a download width outside 1…20,000 is refused naming download_width")
    func downloadWidthRange() throws {
        let error = try #require(throws: PlanningError.self) {
            try Self.planner.plan(
                JobSubmission(projectID: 1, keywords: ["a"], maxImages: 10, sources: ["deep"], downloadWidth: 0))
        }
        #expect(error.field == "download_width")
    }

    @Test("7 images over 3 keywords split 3, 2, 2")
    func sevenOverThree() throws {
        #expect(JobPlanner.quotas(maxImages: 7, keywordCount: 3) == [3, 2, 2])
        let plan = try Self.planner.plan(
            JobSubmission(
                projectID: 1, keywords: ["a", "b", "c"], maxImages: 7, sources: ["deep"], chunkSize: 2,
                overFetch: 1))
        #expect(plan.quotas == ["a": 3, "b": 2, "c": 2])
        for keyword in ["a", "b", "c"] {
            let positions = plan.chunks.filter { $0.keyword == keyword }.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart }
            #expect(positions == plan.quotas[keyword])
        }
        // Interleaved: every keyword's first chunk comes before any second chunk.
        #expect(plan.chunks.prefix(3).map(\.keyword) == ["a", "b", "c"])
    }

    @Test("1,000,000 images over 100 keywords: 10,000 each, sum exact")
    func millionOverHundred() throws {
        let keywords = (0..<100).map { "keyword \($0)" }
        let quotas = JobPlanner.quotas(maxImages: 1_000_000, keywordCount: 100)
        #expect(quotas.allSatisfy { $0 == 10_000 })
        #expect(quotas.reduce(0, +) == 1_000_000)
        let plan = try Self.planner.plan(
            JobSubmission(projectID: 1, keywords: keywords, maxImages: 1_000_000, sources: ["deep"], chunkSize: 50))
        #expect(plan.quotas.values.reduce(0, +) == 1_000_000)
        // 10,000 × 1.5 = 15,000 positions per keyword = 300 chunks of 50.
        #expect(plan.chunks.count == 100 * 300)
        #expect(plan.chunks.allSatisfy { $0.rangeEnd - $0.rangeStart == 50 })
        #expect(plan.shortfalls.isEmpty)
    }

    @Test("awkward splits always sum exactly", arguments: [(1, 1), (1, 100), (99, 100), (101, 100), (999_999, 7)])
    func awkwardSplits(maxImages: Int, keywords: Int) {
        let quotas = JobPlanner.quotas(maxImages: maxImages, keywordCount: keywords)
        #expect(quotas.count == keywords)
        #expect(quotas.reduce(0, +) == maxImages)
        #expect((quotas.max() ?? 0) - (quotas.min() ?? 0) <= 1)
    }

    @Test("keywords are trimmed and de-duplicated ignoring case")
    func keywordNormalisation() throws {
        #expect(
            try JobPlanner.normalizedKeywords(["  Red Fox ", "red fox", "RED FOX", "arctic fox"]) == [
                "Red Fox", "arctic fox",
            ])
    }

    /// A submission the planner must refuse, and the field it must name.
    struct BadSubmission: Sendable, CustomTestStringConvertible {
        let field: String
        let what: String
        let submission: JobSubmission

        init(_ field: String, _ what: String, _ submission: JobSubmission) {
            self.field = field
            self.what = what
            self.submission = submission
        }

        var testDescription: String { "\(field): \(what)" }
    }

    static func fox(
        maxImages: Int = 10, sources: [String] = ["deep"], rules: ValidationRules = ValidationRules(),
        chunkSize: Int = 50, overFetch: Double = 1.5
    ) -> JobSubmission {
        JobSubmission(
            projectID: 1, keywords: ["fox"], maxImages: maxImages, sources: sources, rules: rules,
            chunkSize: chunkSize, overFetch: overFetch)
    }

    @Test(
        "bad input is refused with the field named",
        arguments: [
            BadSubmission("keywords", "none", JobSubmission(projectID: 1, keywords: [], maxImages: 10, sources: ["deep"])),
            BadSubmission(
                "keywords[1]", "a blank one",
                JobSubmission(projectID: 1, keywords: ["fox", "  "], maxImages: 10, sources: ["deep"])),
            BadSubmission(
                "keywords", "101 of them",
                JobSubmission(projectID: 1, keywords: (0...100).map { "k\($0)" }, maxImages: 10, sources: ["deep"])),
            BadSubmission("max_images", "0", fox(maxImages: 0)),
            BadSubmission("max_images", "1,000,000,001", fox(maxImages: 1_000_000_001)),
            BadSubmission("chunk_size", "0", fox(chunkSize: 0)),
            BadSubmission("over_fetch", "0.5", fox(overFetch: 0.5)),
            BadSubmission("sources", "none", fox(sources: [])),
            BadSubmission("sources[0]", "unknown", fox(sources: ["nowhere"])),
            BadSubmission("rules.min_width", "above max_width", fox(rules: ValidationRules(minWidth: 500, maxWidth: 100))),
            BadSubmission("rules.formats", "gif", fox(rules: ValidationRules(formats: [.gif]))),
        ])
    func badInput(_ bad: BadSubmission) {
        #expect {
            try Self.planner.plan(bad.submission)
        } throws: { error in
            guard let error = error as? PlanningError else { return false }
            return error.field == bad.field && error.description.hasPrefix("\(bad.field): ")
        }
    }

    @Test("a source's depth limit caps the chunks and records the shortfall")
    func depthLimit() throws {
        let plan = try Self.planner.plan(
            JobSubmission(
                projectID: 1, keywords: ["fox", "owl"], maxImages: 200, sources: ["shallow"], chunkSize: 15,
                overFetch: 1.5))
        // 100 each × 1.5 = 150 wanted, but the source serves positions 0..<40 only.
        for keyword in ["fox", "owl"] {
            let chunks = plan.chunks.filter { $0.keyword == keyword }
            #expect(chunks.map(\.rangeStart) == [0, 15, 30])
            #expect(chunks.last?.rangeEnd == 40)
            #expect(plan.shortfalls[keyword]?.plannedCandidates == 40)
            #expect(plan.shortfalls[keyword]?.quota == 100)
            #expect(plan.shortfalls[keyword]?.reason.contains("shallow serves at most 40") == true)
        }
    }

    @Test("a capped source's share moves to the others")
    func shareMoves() throws {
        let plan = try Self.planner.plan(
            JobSubmission(
                projectID: 1, keywords: ["fox"], maxImages: 100, sources: ["shallow", "deep"], chunkSize: 50,
                overFetch: 1))
        let shallow = plan.chunks.filter { $0.source == "shallow" }.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart }
        let deep = plan.chunks.filter { $0.source == "deep" }.reduce(0) { $0 + $1.rangeEnd - $1.rangeStart }
        #expect(shallow == 40)
        #expect(deep == 60)
        #expect(plan.shortfalls.isEmpty)
    }

    @Test("submitting creates the job and every chunk, logs the activity", arguments: Backend.allCases)
    func submit(backend: Backend) async throws {
        try await CoordinatorHarness.with(backend) { harness in
            let spec = harness.sources.add("planned", maxDepth: 25) { _, position in harness.image(position) }
            let job = try await harness.submit(
                keywords: ["fox", "Fox ", "owl"], maxImages: 61, sources: [spec], chunkSize: 10,
                overFetch: 1.5)
            #expect(job.keywords == ["fox", "owl"])
            #expect(job.counters.totalChunks == 6)  // 31 × 1.5 → 47, capped at 25: 3 chunks each
            let chunks = try await harness.store.chunks(jobID: job.id)
            #expect(chunks.count == 6)
            let shortfalls = try await harness.store.shortfalls(jobID: job.id)
            #expect(shortfalls["fox"]?.quota == 31)
            #expect(shortfalls["owl"]?.quota == 30)
            let activity = try await harness.store.activity(userID: harness.profile.id, limit: 10)
            #expect(activity.map(\.action) == ["job.submitted"])
            try await expectInvariant(harness.store, jobID: job.id)
        }
    }
}
