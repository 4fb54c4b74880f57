import PixCore

/// One candidate image a source proposes for a keyword.
public struct ImageCandidate: Sendable, Hashable, Codable {
    /// The image's own URL (what is downloaded).
    public var url: String
    public var keyword: String
    /// Source name, e.g. `openverse`, `commons`, `urls`, `demo`.
    public var source: String
    /// Position of this candidate in the source's result list for the keyword (0-based).
    public var position: Int
    public var license: String?
    public var licenseVersion: String?
    public var creator: String?
    /// The page that shows the image (attribution).
    public var landingURL: String?
    public var title: String?
    /// Dimensions and size the source claims (not trusted; validation measures).
    public var declaredWidth: Int?
    public var declaredHeight: Int?
    public var declaredBytes: Int?
    /// The SHA-256 the list gave for the image's bytes (lowercase hex), checked after download.
    public var expectedSHA256: String?
    /// The URL list row's columns kept with the image (`--keep-columns`), by column name.
    public var keptColumns: [String: String]?

    public init(
        url: String, keyword: String, source: String, position: Int, license: String? = nil,
        licenseVersion: String? = nil, creator: String? = nil, landingURL: String? = nil, title: String? = nil,
        declaredWidth: Int? = nil, declaredHeight: Int? = nil, declaredBytes: Int? = nil,
        expectedSHA256: String? = nil, keptColumns: [String: String]? = nil
    ) {
        self.url = url
        self.keyword = keyword
        self.source = source
        self.position = position
        self.license = license
        self.licenseVersion = licenseVersion
        self.creator = creator
        self.landingURL = landingURL
        self.title = title
        self.declaredWidth = declaredWidth
        self.declaredHeight = declaredHeight
        self.declaredBytes = declaredBytes
        self.expectedSHA256 = expectedSHA256
        self.keptColumns = keptColumns
    }
}

/// One page of candidates answered by a source.
public struct SourcePage: Sendable, Hashable {
    /// Candidates in position order, all within the requested range.
    public var candidates: [ImageCandidate]
    /// Where the next call continues (a position, as text); `nil` when the requested range is done.
    public var nextCursor: String?
    /// True when the source has no results past this page for the keyword (it ran dry).
    public var exhausted: Bool
    /// Total results the source reports for the keyword, when it says.
    public var totalAvailable: Int?

    public init(candidates: [ImageCandidate], nextCursor: String?, exhausted: Bool, totalAvailable: Int? = nil) {
        self.candidates = candidates
        self.nextCursor = nextCursor
        self.exhausted = exhausted
        self.totalAvailable = totalAvailable
    }
}

/// A place that turns a keyword into candidate image URLs: Openverse, Wikimedia Commons, a URL list, the demo.
///
/// A chunk covers the result positions `range` of one keyword; the worker calls ``page(keyword:range:cursor:)``
/// repeatedly, passing back `nextCursor` (saved as the chunk's checkpoint) until it is `nil`.
public protocol ImageSource: Sendable {
    /// Releases what the source holds; called when the program is done with it.
    func shutdown()

    /// The name stored on chunks and image rows.
    var name: String { get }
    /// The deepest result position the source will serve for one keyword (Openverse: 20 pages × page size),
    /// or `nil` when unlimited. Planning never creates chunks past it.
    var maxDepth: Int? { get }
    /// Fetches the next page of candidates within `range`, starting at `cursor` (or `range.lowerBound`).
    func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage
}

extension ImageSource {
    /// Releases what the source holds (a local server, connections); nothing by default.
    public func shutdown() {}
}
