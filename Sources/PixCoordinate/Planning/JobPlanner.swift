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
    /// Most keywords a job may have.
    public static let maxKeywords = 100
    /// Largest `max_images`.
    public static let maxImagesLimit = 1_000_000
    /// Largest `chunk_size`.
    public static let maxChunkSize = 10_000
    /// Largest over-fetch factor.
    public static let maxOverFetch = 10.0

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
    /// How far top-ups go.
    public var topUpPolicy: TopUpPolicy

    /// Creates a planner.
    /// - Parameters:
    ///   - sources: resolves the submission's source specifications (unknown ones are refused).
    ///   - topUpPolicy: how far top-ups go.
    public init(sources: SourceResolver, topUpPolicy: TopUpPolicy = TopUpPolicy()) {
        self.sources = sources
        self.topUpPolicy = topUpPolicy
    }

    // MARK: Validation and splitting

    /// Keywords trimmed, blank ones refused, duplicates (ignoring case) dropped, order kept.
    /// - Throws: ``PlanningError`` naming `keywords`.
    public static func normalizedKeywords(_ keywords: [String]) throws(PlanningError) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for (index, raw) in keywords.enumerated() {
            let keyword = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !keyword.isEmpty else {
                throw .invalid("keywords", "keyword \(index + 1) is empty; every keyword needs some text")
            }
            guard keyword.count <= 200 else {
                throw .invalid("keywords", "keyword \(index + 1) is longer than 200 characters")
            }
            if seen.insert(keyword.lowercased()).inserted { result.append(keyword) }
        }
        guard !result.isEmpty else { throw .invalid("keywords", "give at least one keyword") }
        guard result.count <= maxKeywords else {
            throw .invalid("keywords", "at most \(maxKeywords) keywords per job (got \(result.count))")
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

    /// Splits `total` over `parts` the same way (equal shares, remainder to the first).
    static func spread(_ total: Int, over parts: Int) -> [Int] { quotas(maxImages: total, keywordCount: parts) }

    /// Checks a submission field by field and plans its chunks.
    /// - Throws: ``PlanningError`` naming the first field that is wrong.
    public func plan(_ submission: JobSubmission) throws(PlanningError) -> JobPlan {
        let keywords = try Self.normalizedKeywords(submission.keywords)
        guard (1...Self.maxImagesLimit).contains(submission.maxImages) else {
            throw .invalid("max_images", "must be between 1 and 1,000,000 (got \(submission.maxImages))")
        }
        guard (1...Self.maxChunkSize).contains(submission.chunkSize) else {
            throw .invalid("chunk_size", "must be between 1 and \(Self.maxChunkSize) (got \(submission.chunkSize))")
        }
        guard submission.overFetch.isFinite, submission.overFetch >= 1, submission.overFetch <= Self.maxOverFetch
        else {
            throw .invalid(
                "over_fetch", "must be between 1 and \(Int(Self.maxOverFetch)) (got \(submission.overFetch))")
        }
        guard submission.maxAttempts >= 1, submission.maxAttempts <= 100 else {
            throw .invalid("max_attempts", "must be between 1 and 100 (got \(submission.maxAttempts))")
        }
        try Self.check(submission.rules)
        var sourceSpecs: [String] = []
        for spec in submission.sources.map({ $0.trimmingCharacters(in: .whitespaces) }) where !spec.isEmpty {
            if !sourceSpecs.contains(spec) { sourceSpecs.append(spec) }
        }
        guard !sourceSpecs.isEmpty else { throw .invalid("sources", "give at least one source") }
        var depths: [String: Int?] = [:]
        for spec in sourceSpecs {
            do {
                depths[spec] = try sources.source(for: spec).maxDepth
            } catch {
                throw .unknownSource(spec, "\(error)")
            }
        }
        let name = (submission.name ?? keywords.joined(separator: ", ")).trimmingCharacters(in: .whitespaces)
        let jobName = name.isEmpty ? keywords[0] : String(name.prefix(100))

        let quotas = Self.quotas(maxImages: submission.maxImages, keywordCount: keywords.count)
        var perKeyword: [[NewChunk]] = []
        var shortfalls: [String: KeywordShortfall] = [:]
        for (keyword, quota) in zip(keywords, quotas) {
            let wanted = Int((Double(quota) * submission.overFetch).rounded(.up))
            let planned = Self.distribute(wanted, over: sourceSpecs, from: [:], depths: depths)
            var chunks: [NewChunk] = []
            for spec in sourceSpecs {
                chunks += Self.chunks(
                    keyword: keyword, source: spec, from: 0, count: planned[spec] ?? 0, size: submission.chunkSize,
                    maxAttempts: submission.maxAttempts, priority: submission.priority)
            }
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
            perKeyword.append(chunks)
        }
        // Interleave: the first chunk of every keyword, then the second, … so all keywords start early.
        var interleaved: [NewChunk] = []
        interleaved.reserveCapacity(perKeyword.reduce(0) { $0 + $1.count })
        let rounds = perKeyword.map(\.count).max() ?? 0
        for round in 0..<rounds {
            for chunks in perKeyword where round < chunks.count { interleaved.append(chunks[round]) }
        }
        let job = NewCrawlJob(
            projectID: submission.projectID, name: jobName, keywords: keywords, maxImages: submission.maxImages,
            sources: sourceSpecs, rules: submission.rules, chunkSize: submission.chunkSize,
            overFetch: submission.overFetch, priority: submission.priority)
        return JobPlan(
            job: job, chunks: interleaved, quotas: Dictionary(uniqueKeysWithValues: zip(keywords, quotas)),
            shortfalls: shortfalls)
    }

    /// Checks validation rules on their own (for re-validation), naming the field at fault.
    /// - Throws: ``PlanningError`` naming `formats`, `min_width`, `max_bytes`, `aspect_max`, ….
    public static func check(_ rules: ValidationRules) throws(PlanningError) {
        guard !rules.formats.isEmpty else { throw .invalid("formats", "allow at least one format") }
        let undecodable = rules.formats.subtracting(ImageFormat.decodable)
        guard undecodable.isEmpty else {
            throw .invalid(
                "formats",
                "only jpeg, png and webp can be validated (got \(undecodable.map(\.rawValue).sorted().joined(separator: ", ")))"
            )
        }
        guard rules.minWidth >= 1 else { throw .invalid("min_width", "must be at least 1") }
        guard rules.minHeight >= 1 else { throw .invalid("min_height", "must be at least 1") }
        guard rules.maxWidth >= rules.minWidth else { throw .invalid("max_width", "must be at least min_width") }
        guard rules.maxHeight >= rules.minHeight else { throw .invalid("max_height", "must be at least min_height") }
        guard rules.minBytes >= 0 else { throw .invalid("min_bytes", "must not be negative") }
        guard rules.maxBytes >= max(rules.minBytes, 1) else {
            throw .invalid("max_bytes", "must be at least min_bytes")
        }
        if let minimum = rules.minAspectRatio, !(minimum > 0 && minimum.isFinite) {
            throw .invalid("aspect_min", "must be a positive number")
        }
        if let maximum = rules.maxAspectRatio {
            guard maximum > 0, maximum.isFinite else { throw .invalid("aspect_max", "must be a positive number") }
            if let minimum = rules.minAspectRatio, maximum < minimum {
                throw .invalid("aspect_max", "must be at least aspect_min")
            }
        }
        guard rules.maxPixels >= 1 else { throw .invalid("max_pixels", "must be at least 1") }
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

    /// Plans a submission and creates the job with all its chunks in one transaction, records shortfalls,
    /// logs `job.submitted` and wakes idle workers.
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
        let job = try await store.createJob(plan.job, chunks: plan.chunks)
        try await store.recordShortfalls(jobID: job.id, plan.shortfalls)
        try await store.logActivity(
            NewActivity(
                userID: actor, action: "job.submitted", resourceType: "crawl_job", resourceID: "\(job.id)",
                metadata: [
                    "name": job.name, "keywords": "\(job.keywords.count)", "max_images": "\(job.maxImages)",
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
