import Foundation
import PixCore
import PixSources
import PixStore

/// The body of `POST /v1/jobs`, as the client sends it.
public struct JobSubmission: Codable, Sendable, Hashable {
    public var projectID: Int64
    public var name: String?
    public var keywords: [String]
    public var maxImages: Int
    public var sources: [String]?
    public var rules: RulesInput?
    public var chunkSize: Int?
    public var overFetch: Double?
    public var priority: Int?
    /// Column options for the `list:ID` sources that name none: the URL, caption and SHA-256 columns.
    public var urlColumn: String?
    public var captionColumn: String?
    public var hashColumn: String?

    enum CodingKeys: String, CodingKey {
        case projectID = "project_id"
        case name, keywords
        case maxImages = "max_images"
        case sources, rules
        case chunkSize = "chunk_size"
        case overFetch = "over_fetch"
        case priority
        case urlColumn = "url_col"
        case captionColumn = "caption_col"
        case hashColumn = "hash_col"
    }

    public init(
        projectID: Int64, name: String? = nil, keywords: [String], maxImages: Int, sources: [String]? = nil,
        rules: RulesInput? = nil, chunkSize: Int? = nil, overFetch: Double? = nil, priority: Int? = nil
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
    }

    /// Validation rules as the client sends them; every field optional (defaults from ``ValidationRules``).
    public struct RulesInput: Codable, Sendable, Hashable {
        public var formats: [String]?
        public var minWidth: Int?
        public var minHeight: Int?
        public var maxWidth: Int?
        public var maxHeight: Int?
        public var minBytes: Int?
        public var maxBytes: Int?
        public var minAspectRatio: Double?
        public var maxAspectRatio: Double?
        /// How deeply images are checked: `header`, `full` (default) or `pixels`.
        public var depth: String?

        enum CodingKeys: String, CodingKey {
            case formats
            case minWidth = "min_width"
            case minHeight = "min_height"
            case maxWidth = "max_width"
            case maxHeight = "max_height"
            case minBytes = "min_bytes"
            case maxBytes = "max_bytes"
            case minAspectRatio = "min_aspect_ratio"
            case maxAspectRatio = "max_aspect_ratio"
            case depth
        }

        public init(formats: [String]? = nil, minWidth: Int? = nil, minHeight: Int? = nil) {
            self.formats = formats
            self.minWidth = minWidth
            self.minHeight = minHeight
        }
    }

    /// Sources a client may name over the API, besides `list:ID` (a list uploaded with `POST /v1/lists`). URL list
    /// files (`urls:FILE`) would read the server's disk, so they stay a CLI feature.
    public static let apiSources: Set<String> = ["openverse", "commons", "demo"]
    /// Range of `max_images`.
    public static let maxImagesRange = 1...1_000_000

    /// The job to store, or the first problem found, naming its field.
    /// - Throws: ``APIError`` 422.
    public func validated() throws -> NewCrawlJob {
        var seen = Set<String>()
        var cleaned: [String] = []
        for (index, raw) in keywords.enumerated() {
            let keyword = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !keyword.isEmpty else {
                throw APIError.validation(field: "keywords[\(index)]", reason: "must not be empty")
            }
            guard keyword.count <= 200 else {
                throw APIError.validation(field: "keywords[\(index)]", reason: "must be at most 200 characters")
            }
            if seen.insert(keyword.lowercased()).inserted { cleaned.append(keyword) }
        }
        guard !cleaned.isEmpty else { throw APIError.validation(field: "keywords", reason: "must list 1 to 100 keywords") }
        guard cleaned.count <= 100 else { throw APIError.validation(field: "keywords", reason: "must list at most 100 keywords") }
        guard Self.maxImagesRange.contains(maxImages) else {
            throw APIError.validation(field: "max_images", reason: "must be between 1 and 1000000")
        }
        var sourceList = (sources ?? ["openverse"]).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !sourceList.isEmpty else { throw APIError.validation(field: "sources", reason: "must name at least one source") }
        sourceList = try Self.listSources(sourceList, columns: listColumns())
        for (index, source) in sourceList.enumerated() where !Self.apiSources.contains(source) && !source.hasPrefix("list:") {
            throw APIError.validation(
                field: "sources[\(index)]",
                reason:
                    "unknown source \(source.debugDescription); use one of \(Self.apiSources.sorted().joined(separator: ", ")) "
                    + "or list:ID")
        }
        let chunkSize = self.chunkSize ?? 50
        guard (1...10_000).contains(chunkSize) else {
            throw APIError.validation(field: "chunk_size", reason: "must be between 1 and 10000")
        }
        let overFetch = self.overFetch ?? 1.5
        guard overFetch >= 1, overFetch <= 10 else {
            throw APIError.validation(field: "over_fetch", reason: "must be between 1.0 and 10.0")
        }
        let priority = self.priority ?? 0
        guard (-1000...1000).contains(priority) else {
            throw APIError.validation(field: "priority", reason: "must be between -1000 and 1000")
        }
        let name = (self.name ?? cleaned.joined(separator: ", ")).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw APIError.validation(field: "name", reason: "must not be empty") }
        return NewCrawlJob(
            projectID: projectID, name: String(name.prefix(100)), keywords: cleaned, maxImages: maxImages,
            sources: sourceList.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
            rules: try validatedRules(), chunkSize: chunkSize, overFetch: overFetch, priority: priority)
    }

    /// The column options, for list sources naming none.
    func listColumns() throws -> URLListSource.Columns {
        let named = [("url_col", urlColumn), ("caption_col", captionColumn), ("hash_col", hashColumn)]
        for (field, value) in named {
            guard let value else { continue }
            guard (1...100).contains(value.count) else {
                throw APIError.validation(field: field, reason: "must be 1 to 100 characters")
            }
        }
        return URLListSource.Columns(url: urlColumn, caption: captionColumn, hash: hashColumn)
    }

    /// `sources` with every `list:ID` checked and given `columns` when it names none.
    /// - Throws: ``APIError`` 422 for a malformed list source.
    static func listSources(_ sources: [String], columns: URLListSource.Columns) throws -> [String] {
        try sources.enumerated().map { index, source in
            guard source.hasPrefix("list:") else { return source }
            guard case .list(let id, let named)? = try? SourceSpec(parsing: source) else {
                throw APIError.validation(
                    field: "sources[\(index)]", reason: "must be list:ID with the 64-digit id POST /v1/lists answered")
            }
            return SourceSpec.list(id: id, columns: named == URLListSource.Columns() ? columns : named).description
        }
    }

    func validatedRules() throws -> ValidationRules {
        guard let rules else { return ValidationRules() }
        return try rules.applied(to: ValidationRules(), field: "rules")
    }
}

extension JobSubmission.RulesInput {
    /// `base` with the given rules applied (unset fields keep `base`'s), or the first problem found.
    /// - Parameters:
    ///   - base: the rules unset fields keep.
    ///   - prefix: the JSON path of these rules in the request (`rules`), for error fields.
    /// - Throws: ``APIError`` 422 naming the field at fault.
    func applied(to base: ValidationRules, field prefix: String) throws -> ValidationRules {
        var result = base
        if let formats {
            guard !formats.isEmpty else { throw APIError.validation(field: "\(prefix).formats", reason: "must not be empty") }
            var parsed = Set<ImageFormat>()
            for (index, name) in formats.enumerated() {
                guard let format = ImageFormat.parse(name), ImageFormat.decodable.contains(format) else {
                    throw APIError.validation(
                        field: "\(prefix).formats[\(index)]",
                        reason: "unknown format \(name.debugDescription); use jpeg or png")
                }
                parsed.insert(format)
            }
            result.formats = parsed
        }
        func check(_ value: Int?, _ field: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value else { return nil }
            guard range.contains(value) else {
                throw APIError.validation(
                    field: "\(prefix).\(field)", reason: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return value
        }
        result.minWidth = try check(minWidth, "min_width", 1...100_000) ?? result.minWidth
        result.minHeight = try check(minHeight, "min_height", 1...100_000) ?? result.minHeight
        result.maxWidth = try check(maxWidth, "max_width", 1...100_000) ?? result.maxWidth
        result.maxHeight = try check(maxHeight, "max_height", 1...100_000) ?? result.maxHeight
        result.minBytes = try check(minBytes, "min_bytes", 0...Int(Int32.max)) ?? result.minBytes
        result.maxBytes = try check(maxBytes, "max_bytes", 1...Int(Int32.max)) ?? result.maxBytes
        guard result.minWidth <= result.maxWidth else {
            throw APIError.validation(field: "\(prefix).min_width", reason: "must not exceed max_width")
        }
        guard result.minHeight <= result.maxHeight else {
            throw APIError.validation(field: "\(prefix).min_height", reason: "must not exceed max_height")
        }
        guard result.minBytes <= result.maxBytes else {
            throw APIError.validation(field: "\(prefix).min_bytes", reason: "must not exceed max_bytes")
        }
        for (value, field) in [(minAspectRatio, "min_aspect_ratio"), (maxAspectRatio, "max_aspect_ratio")] {
            if let value, !(value > 0 && value < 1000) {
                throw APIError.validation(field: "\(prefix).\(field)", reason: "must be a positive ratio below 1000")
            }
        }
        if let minAspectRatio { result.minAspectRatio = minAspectRatio }
        if let maxAspectRatio { result.maxAspectRatio = maxAspectRatio }
        if let low = result.minAspectRatio, let high = result.maxAspectRatio, low > high {
            throw APIError.validation(field: "\(prefix).min_aspect_ratio", reason: "must not exceed max_aspect_ratio")
        }
        if let depth {
            guard let parsed = ValidationDepth(rawValue: depth.lowercased()) else {
                throw APIError.validation(
                    field: "\(prefix).depth",
                    reason:
                        "unknown depth \(depth.debugDescription); use \(ValidationDepth.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            result.depth = parsed
        }
        return result
    }
}

extension ImageFormat {
    /// The format a client names: `jpeg`, `jpg`, `png`, … (case-insensitive).
    static func parse(_ name: String) -> ImageFormat? {
        let lowered = name.lowercased()
        if lowered == "jpg" { return .jpeg }
        return ImageFormat(rawValue: lowered)
    }
}
