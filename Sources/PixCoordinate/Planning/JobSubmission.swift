import PixCore

/// A crawl job as a user submits it, before validation and planning by ``JobPlanner``.
public struct JobSubmission: Sendable, Hashable {
    /// The project the job belongs to.
    public var projectID: Int64
    /// A name for the job (1–100 characters; defaults to the keywords).
    public var name: String?
    /// 1–100 keywords; trimmed and de-duplicated case-insensitively by the planner.
    public var keywords: [String]
    /// How many valid images to collect over all keywords (1–1,000,000).
    public var maxImages: Int
    /// Source specifications, e.g. `openverse`, `commons`, `urls:list.csv`, `demo`.
    public var sources: [String]
    /// The rules every candidate must pass.
    public var rules: ValidationRules
    /// Result positions per chunk (1–10,000; default 50).
    public var chunkSize: Int
    /// Candidates planned per wanted image, since some fail validation (1–10; default 1.5).
    public var overFetch: Double
    /// Higher runs first.
    public var priority: Int
    /// Attempts a chunk gets before it fails for good (default 3).
    public var maxAttempts: Int
    /// The widest image the job will use (an export size in mind), if any: sources that offer bounded-size
    /// renditions (Commons' thumbnails) are asked for this width instead of the originals (`download_width`).
    public var downloadWidth: Int?
    /// Resize every accepted image as it is crawled (`--resize …`, the API's `resize`), or `nil` for originals only.
    public var resize: ResizeOptions?

    /// Creates a submission.
    public init(
        projectID: Int64, name: String? = nil, keywords: [String], maxImages: Int, sources: [String],
        rules: ValidationRules = ValidationRules(), chunkSize: Int = 50, overFetch: Double = 1.5, priority: Int = 0,
        maxAttempts: Int = 3, downloadWidth: Int? = nil, resize: ResizeOptions? = nil
    ) {
        self.projectID = projectID
        self.name = name
        self.keywords = keywords
        self.maxImages = maxImages
        self.sources = sources
        self.rules = rules
        self.chunkSize = chunkSize
        self.overFetch = overFetch
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.downloadWidth = downloadWidth
        self.resize = resize
    }
}
