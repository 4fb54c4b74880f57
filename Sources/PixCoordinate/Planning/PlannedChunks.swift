import PixCore
import PixStore

/// A job's planned chunks, produced one at a time: what a plan holds is a few runs per keyword (a source's
/// result positions cut into chunks of one size), so planning a list of 10^9 rows costs as much memory as
/// planning ten rows, and the store writes the chunks in batches as the sequence yields them.
///
/// Chunks come interleaved over keywords — the first chunk of every keyword, then the second, … — so every
/// keyword progresses from the start; within a keyword they follow its sources in order.
public struct PlannedChunks: Sequence, Sendable, Hashable {
    /// Result positions `start..<start + positions` of one keyword on one source, cut into chunks of `size`.
    struct Run: Sendable, Hashable {
        var keyword: String
        var source: String
        var start: Int
        var positions: Int
        var size: Int
        var maxAttempts: Int
        var priority: Int

        var end: Int { start + positions }
        var chunkCount: Int { (positions + size - 1) / size }
    }

    /// Each keyword's runs, in keyword order.
    let keywords: [[Run]]
    /// How many chunks the sequence yields.
    public let count: Int

    init(keywords: [[Run]]) {
        self.keywords = keywords.map { $0.filter { $0.positions > 0 } }
        count = self.keywords.joined().reduce(0) { $0 + $1.chunkCount }
    }

    /// Yields the chunks in order; holds one position per keyword.
    public struct Iterator: IteratorProtocol {
        private let keywords: [[Run]]
        private var run: [Int]
        private var lowers: [Int]
        private var keyword = 0
        private var remaining: Int

        init(_ chunks: PlannedChunks) {
            keywords = chunks.keywords
            run = Array(repeating: 0, count: keywords.count)
            lowers = keywords.map { $0.first?.start ?? 0 }
            remaining = chunks.count
        }

        /// The next chunk, or `nil` after the last.
        public mutating func next() -> NewChunk? {
            guard remaining > 0 else { return nil }
            while true {
                let current = keyword
                keyword = (keyword + 1) % keywords.count
                if let chunk = take(current) {
                    remaining -= 1
                    return chunk
                }
            }
        }

        private mutating func take(_ index: Int) -> NewChunk? {
            let runs = keywords[index]
            while run[index] < runs.count {
                let current = runs[run[index]]
                let lower = lowers[index]
                if lower < current.end {
                    let upper = Swift.min(lower + current.size, current.end)
                    lowers[index] = upper
                    return NewChunk(
                        keyword: current.keyword, source: current.source, rangeStart: lower, rangeEnd: upper,
                        maxAttempts: current.maxAttempts, priority: current.priority)
                }
                run[index] += 1
                if run[index] < runs.count { lowers[index] = runs[run[index]].start }
            }
            return nil
        }
    }

    /// The exact count: every chunk is known before the first is made.
    public var underestimatedCount: Int { count }

    /// Starts at the first chunk.
    public func makeIterator() -> Iterator { Iterator(self) }

    /// Every chunk, in order (for small plans and tests: a list's plan may not fit in memory).
    public var all: [NewChunk] { Array(self) }
}
