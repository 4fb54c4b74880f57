import Hummingbird
import PixCoordinate
import PixCore
import PixExport

/// Every bound the handlers check, defined once: the handlers check requests against these values and
/// ``OpenAPIDocument`` renders the same values as the document's constraints.
enum APIBounds {
    /// `limit` of `GET /v1/jobs` and `GET /v1/lists`.
    static let pageLimit = IntegerQuery("limit", 1...200, default: 50, "Page size")
    /// `offset` of the paged lists.
    static let offset = IntegerQuery("offset", 0...1_000_000, default: 0, "Rows to skip")
    /// `limit` of `GET /v1/activity`.
    static let activityLimit = IntegerQuery("limit", 1...500, default: 50, "Entries, newest first")
    /// `limit` of `GET /v1/jobs/{id}/images`.
    static let imageLimit = IntegerQuery("limit", 1...500, default: 50, "Page size")
    /// `limit` of `GET /v1/jobs/{id}/errors`: recent records listed beside the counts.
    static let errorLimit = IntegerQuery("limit", 0...500, default: 20, "Recent records to include")
    /// `min_width` / `min_height` of `GET /v1/jobs/{id}/images`.
    static let imageMinWidth = IntegerQuery("min_width", 0...100_000, default: 0, "Minimum width in pixels")
    static let imageMinHeight = IntegerQuery("min_height", 0...100_000, default: 0, "Minimum height in pixels")
    /// `after_id` of `GET /v1/jobs/{id}/images`.
    static let afterID = IntegerQuery(
        "after_id", 0...Int(Int64.max), default: 0, "Cursor: next_after_id of the previous page")
    /// `project_id` of `GET /v1/jobs`.
    static let projectFilter = IntegerQuery("project_id", id, default: 0, "Only this project's jobs")
    /// `before` of the dashboard's job page.
    static let galleryBefore = IntegerQuery(
        "before", 1...Int(Int64.max), default: Int(Int64.max), "Gallery cursor: images older than this id")

    /// Resource ids in paths and bodies (`{id}`, `project_id`).
    static let id = 1...Int(Int64.max)

    /// A project's name.
    static let projectName = TextBound(length: 1...100, nonBlank: true)
    /// A project's description.
    static let projectDescription = TextBound(length: 0...10_000)
    /// An API token's name.
    static let tokenName = TextBound(length: 1...200, nonBlank: true)
    /// A re-validation run's name (blank is no name).
    static let validationName = TextBound(length: 0...100)
    /// An export's display name (blank is no name).
    static let exportName = TextBound(length: 0...200)
    /// `url_col`, `caption_col`, `hash_col` of a job naming URL lists.
    static let columnName = TextBound(length: 1...100)

    /// A download link's lifetime in hours (`expires_in_hours`).
    static let linkHours = 1...720
    /// `min_width` / `min_height` of an export.
    static let exportMinSide = 1...100_000
    /// `dedup_near` of an export: a dHash Hamming distance.
    static let dedupNear = 0...64
    /// `shard_size` of a WebDataset export.
    static let shardSize = 1...1_000_000
    /// `seed` of an export's split.
    static let seed = 0...Int(Int64.max)
    /// `resize.size` of an export or a crawl job.
    static let resizeSize = 1...ResizeOptions.maximumSize
    /// `resize.quality` of an export or a crawl job.
    static let resizeQuality = 1...100
    /// A download token's length in the path.
    static let downloadToken = TextBound(length: 1...200)

    /// `value` within `range`, else a 422 naming `field`.
    static func check(_ value: Int, _ range: ClosedRange<Int>, field: String) throws {
        guard range.contains(value) else {
            throw APIError.validation(field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
    }

    /// The `resize` object of an export or a crawl job: size and quality in range, else a 422 naming the field.
    static func check(_ resize: ResizeOptions) throws {
        try check(resize.size, resizeSize, field: "resize.size")
        try check(resize.quality, resizeQuality, field: "resize.quality")
    }

    /// The JSON Schema of the `resize` object (modes and encodings as ``ResizeMode`` and ``ResizeEncoding`` name
    /// them; only `size` is required).
    static var resizeSchema: JSONValue {
        OpenAPIDocument.input(
            [
                "size": schema(resizeSize), "mode": OpenAPIDocument.enumeration(ResizeMode.allCases.map(\.rawValue)),
                "only_if_bigger": ["type": "boolean"],
                "encode": OpenAPIDocument.enumeration(ResizeEncoding.allCases.map(\.rawValue)),
                "quality": schema(resizeQuality),
            ], required: ["size"])
    }

    /// `text` within `bound`, else a 422 naming `field`.
    static func check(_ text: String, _ bound: TextBound, field: String) throws {
        if let problem = bound.problem(text) { throw APIError.validation(field: field, reason: problem) }
    }

    /// The JSON Schema of an integer in `range`.
    static func schema(_ range: ClosedRange<Int>) -> JSONValue {
        ["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)]
    }

    /// The JSON Schema of a text within `bound`.
    static func schema(_ bound: TextBound) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": "string", "minLength": .int(bound.length.lowerBound), "maxLength": .int(bound.length.upperBound),
        ]
        if bound.nonBlank { schema["pattern"] = .string(TextBound.nonBlankPattern) }
        return .object(schema)
    }
}

/// An integer query parameter: its name, accepted range and default, read by the handler with ``value(in:)``
/// and documented by ``parameter``.
struct IntegerQuery: Sendable, Hashable {
    var name: String
    var range: ClosedRange<Int>
    var defaultValue: Int
    var description: String

    init(_ name: String, _ range: ClosedRange<Int>, default defaultValue: Int, _ description: String) {
        self.name = name
        self.range = range
        self.defaultValue = defaultValue
        self.description = description
    }

    /// The parameter's value in `request`, or the default when absent.
    /// - Throws: ``APIError`` 400 naming the parameter when it is not an integer within ``range``.
    func value(in request: Request) throws -> Int {
        try givenValue(in: request) ?? defaultValue
    }

    /// The parameter's value in `request`, or `nil` when absent.
    /// - Throws: ``APIError`` 400 naming the parameter when it is not an integer within ``range``.
    func givenValue(in request: Request) throws -> Int? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw APIError.invalidParameter(
                name, reason: "must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// The parameter as the document lists it.
    var parameter: APIOperation.QueryParameter {
        APIOperation.QueryParameter(name: name, type: "integer", description: description, range: range)
    }
}
