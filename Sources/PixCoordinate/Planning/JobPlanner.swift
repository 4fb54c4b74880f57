import Foundation
import PixCore
import PixSources
import PixStore

/// Validates submissions and splits them into chunks; decides top-ups when a keyword falls short.
///
/// `max_images` is split over the keywords (the remainder spread one each over the first keywords, so the
/// quotas sum exactly); each keyword's quota × over-fetch factor becomes result positions, split over the
/// sources and cut into chunks of `chunk_size` positions, never past a source's ``PixSources/ImageSource/maxDepth``.
/// A keyword whose sources cannot serve its quota gets a ``PixStore/KeywordShortfall`` saying so.
public struct JobPlanner: Sendable {
    /// What one submission may ask for, wherever it comes from (CLI, API, dashboard).
    public struct Limits: Sendable, Hashable {
        /// Most keywords a job may have.
        public var maxKeywords = 100
        /// Longest keyword, in characters (Unicode scalars, as the API document counts them).
        public var maxKeywordLength = 200
        /// Accepted `max_images`: up to 10^9 (a LAION-scale URL list); every counter is 64-bit.
        public var maxImages = 1...1_000_000_000
        /// Accepted `chunk_size`.
        public var chunkSize = 1...10_000
        /// Largest over-fetch factor (the smallest is 1).
        public var maxOverFetch = 10.0
        /// Accepted `priority`.
        public var priority = -1000...1000
        /// Accepted attempts per chunk.
        public var maxAttempts = 1...100
        /// Most chunks one job may have. Planning streams (the chunks are written in batches of
        /// ``JobPlanner/planBatchSize``), so memory does not grow with it; it bounds the rows one job adds to
        /// `crawl_chunks`. A job of 10^9 images needs chunks of at least 1,000 positions per 10^6 chunks.
        public var maxChunks = 1_000_000

        /// The default limits, with `maxChunks` chunks per job at most.
        public init(maxChunks: Int = 1_000_000) {
            self.maxChunks = maxChunks
        }

        /// One keyword as given: 1 to ``maxKeywordLength`` characters, not blank.
        public var keyword: TextBound { TextBound(length: 1...maxKeywordLength, nonBlank: true) }
    }

    /// How far top-ups go for a keyword whose candidates keep failing validation.
    public struct TopUpPolicy: Sendable, Hashable {
        /// Chunks appended at most per top-up round.
        public var maxChunksPerRound: Int
        /// Result positions planned for a keyword stop at quota × over-fetch × this factor.
        public var maxPlannedFactor: Double
        /// The acceptance rate assumed at least when estimating how many candidates a deficit needs.
        public var minimumAcceptRate: Double

        /// Creates a policy.
        public init(maxChunksPerRound: Int = 10, maxPlannedFactor: Double = 4, minimumAcceptRate: Double = 0.05) {
            self.maxChunksPerRound = maxChunksPerRound
            self.maxPlannedFactor = maxPlannedFactor
            self.minimumAcceptRate = minimumAcceptRate
        }
    }

    /// Where sources come from (for their depth limits).
    public let sources: SourceResolver
    /// What a submission may ask for.
    public var limits: Limits
    /// How far top-ups go.
    public var topUpPolicy: TopUpPolicy

    /// Creates a planner.
    /// - Parameters:
    ///   - sources: resolves the submission's source specifications (unknown ones are refused).
    ///   - limits: what a submission may ask for.
    ///   - topUpPolicy: how far top-ups go.
    public init(sources: SourceResolver, limits: Limits = Limits(), topUpPolicy: TopUpPolicy = TopUpPolicy()) {
        self.sources = sources
        self.limits = limits
        self.topUpPolicy = topUpPolicy
    }

    // MARK: Validation and splitting

    /// Keywords checked as given (``Limits/keyword``, at most ``Limits/maxKeywords``), then trimmed, duplicates
    /// (ignoring case) dropped, order kept.
    /// - Throws: ``PlanningError`` naming `keywords` or the keyword at fault (`keywords[INDEX]`).
    public static func normalizedKeywords(_ keywords: [String], limits: Limits = Limits()) throws(PlanningError)
        -> [String]
    {
        guard !keywords.isEmpty else { throw .invalid("keywords", "give at least one keyword") }
        guard keywords.count <= limits.maxKeywords else {
            throw .invalid("keywords", "at most \(limits.maxKeywords) keywords per job (got \(keywords.count))")
        }
        var seen = Set<String>()
        var result: [String] = []
        for (index, raw) in keywords.enumerated() {
            if let problem = limits.keyword.problem(raw) { throw .invalid("keywords[\(index)]", problem) }
            let keyword = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !keyword.isEmpty else { throw .invalid("keywords[\(index)]", "must not be blank") }
            if seen.insert(keyword.lowercased()).inserted { result.append(keyword) }
        }
        return result
    }

    /// Splits `maxImages` over `keywordCount` keywords: equal shares, the remainder one each to the first
    /// keywords. The shares sum to `maxImages` exactly.
    public static func quotas(maxImages: Int, keywordCount: Int) -> [Int] {
        guard keywordCount > 0 else { return [] }
        let share = maxImages / keywordCount
        let remainder = maxImages % keywordCount
        return (0..<keywordCount).map { share + ($0 < remainder ? 1 : 0) }
    }

    /// The box of the renditions a job asks sources for, if its images are bounded: as wide as the submission's
    /// ``JobSubmission/downloadWidth`` or a `max_width` rule below the default, whichever is narrower but never
    /// narrower than the `min_width` rule, and as high as a `max_height` rule below the default.
    public static func thumbnailBox(rules: ValidationRules, downloadWidth: Int?) -> (width: Int?, height: Int?) {
        let defaults = ValidationRules()
        let widthRule = rules.maxWidth < defaults.maxWidth ? rules.maxWidth : nil
        let width = [downloadWidth, widthRule].compactMap { $0 }.min().map { max($0, rules.minWidth) }
        let height = rules.maxHeight < defaults.maxHeight ? rules.maxHeight : nil
        return (width, height)
    }

    /// `spec` asking for renditions fitting `box` when it is Commons without a box of its own.
    static func sized(_ spec: String, box: (width: Int?, height: Int?)) -> String {
        guard box.width != nil || box.height != nil, case .commons(nil, nil)? = try? SourceSpec(parsing: spec) else {
            return spec
        }
        return SourceSpec.commons(thumbnailWidth: box.width, thumbnailHeight: box.height).description
    }

    /// Splits `total` over `parts` the same way (equal shares, remainder to the first).
    static func spread(_ total: Int, over parts: Int) -> [Int] { quotas(maxImages: total, keywordCount: parts) }

    /// Checks a submission field by field against ``limits`` and plans its chunks.
    /// - Throws: ``PlanningError`` naming the first field that is wrong (rules as `rules.FIELD`, sources as
    ///   `sources[INDEX]`), or `chunk_size` when the job would need more than ``Limits/maxChunks`` chunks.
    public func plan(_ submission: JobSubmission) throws(PlanningError) -> JobPlan {
        let keywords = try Self.normalizedKeywords(submission.keywords, limits: limits)
        try Self.check(submission.maxImages, "max_images", limits.maxImages)
        try Self.check(submission.chunkSize, "chunk_size", limits.chunkSize)
        guard submission.overFetch.isFinite, submission.overFetch >= 1, submission.overFetch <= limits.maxOverFetch
        else {
            throw .invalid(
                "over_fetch", "must be between 1 and \(Int(limits.maxOverFetch)) (got \(submission.overFetch))")
        }
        try Self.check(submission.priority, "priority", limits.priority)
        try Self.check(submission.maxAttempts, "max_attempts", limits.maxAttempts)
        try Self.check(submission.rules)
        if let problem = submission.resize?.problem { throw .invalid("resize", problem) }
        if let width = submission.downloadWidth {
            try Self.check(width, "download_width", SourceSpec.thumbnailWidths)
        }
        let box = Self.thumbnailBox(rules: submission.rules, downloadWidth: submission.downloadWidth)
        var sourceSpecs: [String] = []
        var depths: [String: Int?] = [:]
        for (index, raw) in submission.sources.enumerated() {
            let spec = Self.sized(raw.trimmingCharacters(in: .whitespaces), box: box)
            guard !spec.isEmpty, !sourceSpecs.contains(spec) else { continue }
            do {
                depths[spec] = try sources.source(for: spec).maxDepth
            } catch {
                throw .unknownSource(spec, at: index, "\(error)")
            }
            sourceSpecs.append(spec)
        }
        guard !sourceSpecs.isEmpty else { throw .invalid("sources", "give at least one source") }
        let name = (submission.name ?? keywords.joined(separator: ", ")).trimmingCharacters(in: .whitespaces)
        let jobName = name.isEmpty ? keywords[0] : String(name.prefix(100))

        let quotas = Self.quotas(maxImages: submission.maxImages, keywordCount: keywords.count)
        var shortfalls: [String: KeywordShortfall] = [:]
        let planned = quotas.map { quota in
            Self.distribute(
                Int((Double(quota) * submission.overFetch).rounded(.up)), over: sourceSpecs, from: [:], depths: depths)
        }
        var perKeyword: [[PlannedChunks.Run]] = []
        for (keyword, (quota, planned)) in zip(keywords, zip(quotas, planned)) {
            perKeyword.append(
                sourceSpecs.map { spec in
                    PlannedChunks.Run(
                        keyword: keyword, source: spec, start: 0, positions: planned[spec] ?? 0,
                        size: submission.chunkSize, maxAttempts: submission.maxAttempts, priority: submission.priority)
                })
            let total = planned.values.reduce(0, +)
            if total < quota {
                let limits = sourceSpecs.compactMap { spec in
                    (depths[spec] ?? nil).map { "\(spec) serves at most \($0)" }
                }
                shortfalls[keyword] = KeywordShortfall(
                    quota: quota, plannedCandidates: total,
                    reason: "only \(total) results can be asked for against a quota of \(quota) ("
                        + limits.joined(separator: ", ") + " per keyword)")
            }
        }
        // Counted before any chunk is made: a submission past the limit costs nothing.
        let chunks = PlannedChunks(keywords: perKeyword)
        guard chunks.count <= limits.maxChunks else {
            throw .invalid(
                "chunk_size",
                "the job would need \(chunks.count) chunks, more than the limit of \(limits.maxChunks) per job; "
                    + "raise chunk_size or lower max_images")
        }
        let job = NewCrawlJob(
            projectID: submission.projectID, name: jobName, keywords: keywords, maxImages: submission.maxImages,
            sources: sourceSpecs, rules: submission.rules, chunkSize: submission.chunkSize,
            overFetch: submission.overFetch, priority: submission.priority, resize: submission.resize)
        return JobPlan(
            job: job, chunks: chunks, quotas: Dictionary(uniqueKeysWithValues: zip(keywords, quotas)),
            shortfalls: shortfalls)
    }

    /// Checks validation rules on their own (for re-validation), naming the rule at fault as `rules.FIELD`.
    /// - Throws: ``PlanningError`` naming `rules.formats`, `rules.min_width`, `rules.max_bytes`, ….
    public static func check(_ rules: ValidationRules) throws(PlanningError) {
        do throws(RuleError) {
            try rules.validate()
        } catch {
            throw .invalid("rules.\(error.field)", error.reason)
        }
    }

    private static func check(_ value: Int, _ field: String, _ range: ClosedRange<Int>) throws(PlanningError) {
        guard range.contains(value) else {
            throw .invalid(field, "must be between \(range.lowerBound) and \(range.upperBound) (got \(value))")
        }
    }

    /// Splits `wanted` positions over `specs` (equal shares, remainder to the first), starting each source at
    /// `from[spec]`; a share a source cannot serve (its depth) moves to the sources that still have room.
    static func distribute(
        _ wanted: Int, over specs: [String], from start: [String: Int], depths: [String: Int?]
    )
        -> [String: Int]
    {
        var planned: [String: Int] = [:]
        var remaining = wanted
        var open = specs
        while remaining > 0, !open.isEmpty {
            var leftover = 0
            var stillOpen: [String] = []
            for (spec, share) in zip(open, spread(remaining, over: open.count)) {
                let position = (start[spec] ?? 0) + (planned[spec] ?? 0)
                let room = depths[spec].flatMap { $0 }.map { max(0, $0 - position) } ?? Int.max
                let taken = min(share, room)
                planned[spec, default: 0] += taken
                leftover += share - taken
                if taken == share, room > share { stillOpen.append(spec) }
            }
            if leftover == remaining { break }
            remaining = leftover
            open = stillOpen
        }
        return planned
    }

    static func chunks(
        keyword: String, source: String, from start: Int, count: Int, size: Int, maxAttempts: Int, priority: Int
    ) -> [NewChunk] {
        stride(from: start, to: start + count, by: size).map { lower in
            NewChunk(
                keyword: keyword, source: source, rangeStart: lower, rangeEnd: min(lower + size, start + count),
                maxAttempts: maxAttempts, priority: priority)
        }
    }

    // MARK: Submitting

    /// Chunk rows written per transaction when a plan is streamed into the store.
    public static let planBatchSize = 10_000

    /// The one way a job enters the store (CLI, API and dashboard alike): plans a submission and creates the
    /// job with its chunks, records shortfalls, logs `job.submitted` and wakes idle workers.
    ///
    /// All or nothing: a plan of up to ``planBatchSize`` chunks is one transaction; a larger one is written in
    /// batches of that size while the job is `planning` (not claimable), and becomes `pending` only once every
    /// chunk has committed (see ``PixStore/SQLCrawlStore/createJob(_:streaming:batchSize:afterBatch:)``).
    /// - Parameters:
    ///   - submission: what to crawl.
    ///   - store: where the job goes.
    ///   - actor: the profile submitting (for the activity log).
    ///   - hints: wakes idle workers (in this process and, on PostgreSQL, elsewhere).
    /// - Returns: the created job and its plan.
    /// - Throws: ``PlanningError`` for a bad submission; store errors.
    @discardableResult
    public func submit(
        _ submission: JobSubmission, to store: any CrawlStore, actor: UUID?, hints: ChunkHints? = nil
    )
        async throws -> (job: CrawlJob, plan: JobPlan)
    {
        let plan = try plan(submission)
        let job = try await store.createJob(plan.job, streaming: plan.chunks, batchSize: Self.planBatchSize, afterBatch: nil)
        try await store.recordShortfalls(jobID: job.id, plan.shortfalls)
        try await store.logActivity(
            NewActivity(
                userID: actor, action: "job.submitted", resourceType: "crawl_job", resourceID: "\(job.id)",
                metadata: [
                    "project_id": "\(job.projectID)", "name": job.name, "keywords": "\(job.keywords.count)",
                    "max_images": "\(job.maxImages)",
                    "chunks": "\(plan.chunks.count)", "sources": job.sources.joined(separator: ","),
                ]))
        await hints?.announce()
        return (job, plan)
    }

    // MARK: Top-up

    /// Decides what to append for a keyword whose chunks are all finished: nothing when it reached its quota;
    /// chunks for the next result positions of the sources that still have results, sized by the keyword's
    /// acceptance rate so far; or a shortfall record when no source can give more.
    public func topUp(_ snapshot: KeywordSnapshot) -> TopUpDecision {
        let job = snapshot.job
        guard let index = job.keywords.firstIndex(of: snapshot.keyword) else { return .none }
        let quota = Self.quotas(maxImages: job.maxImages, keywordCount: job.keywords.count)[index]
        let deficit = quota - snapshot.validImages
        guard deficit > 0 else { return .none }
        let processed = snapshot.sources.reduce(0) { $0 + $1.candidatesDone }
        let planned = snapshot.sources.reduce(0) { $0 + $1.nextPosition }
        let rate = processed > 0 ? Double(snapshot.validImages) / Double(processed) : 0
        let limit = Int((Double(quota) * job.overFetch * topUpPolicy.maxPlannedFactor).rounded(.up))
        var wanted = Int((Double(deficit) * job.overFetch / max(rate, topUpPolicy.minimumAcceptRate)).rounded(.up))
        wanted = min(wanted, topUpPolicy.maxChunksPerRound * job.chunkSize, max(0, limit - planned))

        var depths: [String: Int?] = [:]
        var eligible: [String] = []
        var starts: [String: Int] = [:]
        for position in snapshot.sources where !position.exhausted {
            let depth: Int?
            do {
                depth = try sources.source(for: position.source).maxDepth
            } catch {
                continue
            }
            depths[position.source] = depth
            starts[position.source] = position.nextPosition
            if depth.map({ position.nextPosition < $0 }) ?? true { eligible.append(position.source) }
        }
        var chunks: [NewChunk] = []
        if wanted > 0, !eligible.isEmpty {
            let shares = Self.distribute(wanted, over: eligible, from: starts, depths: depths)
            for spec in eligible {
                chunks += Self.chunks(
                    keyword: snapshot.keyword, source: spec, from: starts[spec] ?? 0, count: shares[spec] ?? 0,
                    size: job.chunkSize, maxAttempts: 3, priority: job.priority)
            }
        }
        guard chunks.isEmpty else { return TopUpDecision(chunks: chunks) }
        let exhausted = snapshot.sources.filter(\.exhausted).map(\.source)
        let reason: String
        if !exhausted.isEmpty, exhausted.count == snapshot.sources.count {
            reason = "every source ran out of results (\(exhausted.joined(separator: ", ")))"
        } else if wanted <= 0 && planned >= limit {
            reason = "stopped topping up after \(planned) candidates: too many fail validation"
        } else {
            reason = "no source serves results past position \(planned) for this keyword"
        }
        return TopUpDecision(
            shortfall: KeywordShortfall(
                quota: quota, plannedCandidates: planned, validImages: snapshot.validImages,
                exhaustedSources: exhausted.sorted(), reason: reason))
    }
}
